"""The device fingerprint: read from this machine, standard library only."""

import os
import platform
import subprocess
import sys

from edgebench import __version__, fingerprint


def test_fingerprint_describes_this_machine():
    fp = fingerprint.collect()
    assert fp["arch"] == platform.machine() and fp["cores"] == os.cpu_count()
    assert fp["bits"] == 64 and fp["python"] == platform.python_version()
    assert fp["usable_cores"] == len(os.sched_getaffinity(0))
    with open("/proc/cpuinfo") as f:
        cpuinfo = f.read()
    assert fp["cpu_model"] and fp["cpu_model"] in cpuinfo
    flags = set(next(line for line in cpuinfo.splitlines() if line.startswith(("flags", "Features")))
                .split(":")[1].split())
    assert set(fp["isa_flags"]) == flags & set(fingerprint.ISA_FLAGS)
    assert fp["versions"]["numpy"] and fp["versions"]["edgebench"] == __version__


def test_tool_versions_marks_missing_only_when_asked():
    assert "no-such-dist-x" not in fingerprint.tool_versions(("no-such-dist-x",))
    assert fingerprint.tool_versions(("no-such-dist-x",), missing="missing")["no-such-dist-x"] == "missing"


def test_fingerprint_needs_only_the_standard_library():
    code = ("import sys; import edgebench.fingerprint as f; f.collect(); "
            "heavy = [m for m in ('numpy', 'torch', 'click') if m in sys.modules]; "
            "sys.exit(f'imported {heavy}' if heavy else 0)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
