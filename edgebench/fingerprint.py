"""The device fingerprint every result carries: what ran it, read from the device itself.

Standard library only (the capability table is too): it runs inside the on-device agent, and
on a board before anything is installed there.
"""

from __future__ import annotations

import os
import platform
import shutil
import struct
import subprocess
from importlib import metadata
from pathlib import Path

from .formats import fingerprinted

# ISA flags that change which kernels a runtime can use
ISA_FLAGS = ("avx", "avx2", "fma", "avx512f", "avx512_vnni", "avx512_bf16", "avx512_fp16",
             "avx_vnni", "amx_tile", "amx_int8", "amx_bf16", "f16c",
             "neon", "asimd", "asimdhp", "asimddp", "i8mm", "bf16", "sve", "sve2", "fphp")
RUNTIME_DISTRIBUTIONS = fingerprinted()  # numpy and whatever can provide a runtime of the table


def _read(path: str) -> str | None:
    try:
        return Path(path).read_text(errors="replace").strip()
    except OSError:
        return None


# Arm's part numbers ("CPU part" in an arm64 cpuinfo, which has no model name)
ARM_PARTS = {"0xd03": "Cortex-A53", "0xd04": "Cortex-A35", "0xd05": "Cortex-A55",
             "0xd07": "Cortex-A57", "0xd08": "Cortex-A72", "0xd09": "Cortex-A73",
             "0xd0a": "Cortex-A75", "0xd0b": "Cortex-A76", "0xd0d": "Cortex-A77",
             "0xd41": "Cortex-A78", "0xd4b": "Cortex-A78C", "0xd46": "Cortex-A510",
             "0xd47": "Cortex-A710"}


def _cpuinfo() -> tuple[str | None, list[str]]:
    model, flags = None, set()
    for key, value in _cpuinfo_fields():
        if key in ("model name", "hardware", "cpu model") and not model:
            model = value
        elif key == "cpu part" and not model and value.lower() in ARM_PARTS:
            model = ARM_PARTS[value.lower()]
        elif key in ("flags", "features"):
            flags.update(value.split())
    return model, sorted(f for f in ISA_FLAGS if f in flags)


def _cpuinfo_fields() -> list[tuple[str, str]]:
    fields = []
    for line in (_read("/proc/cpuinfo") or "").splitlines():
        key, _, value = line.partition(":")
        fields.append((key.strip().lower(), value.strip()))
    return fields


def _board() -> str | None:
    """The board's model: the device tree's, else the ``Model`` line a Pi's cpuinfo has."""
    tree = (_read("/proc/device-tree/model") or "").rstrip("\x00")
    if tree:
        return tree
    # x86 cpuinfo has a numeric "model" field: only a name counts
    return next((v for k, v in _cpuinfo_fields() if k == "model" and v and not v.isdigit()), None)


# Raspberry Pi firmware's get_throttled bits
THROTTLE_BITS = {0: "under-voltage", 1: "arm-frequency-capped", 2: "throttled",
                 3: "soft-temperature-limit", 16: "under-voltage-occurred",
                 17: "arm-frequency-capping-occurred", 18: "throttling-occurred",
                 19: "soft-temperature-limit-occurred"}


def throttle_flags(value: str | None) -> list[str] | None:
    """The names of the bits set in a get_throttled value (None when unknown)."""
    try:
        bits = int(value, 16) if value else None
    except ValueError:
        return None
    if bits is None:
        return None
    return [name for bit, name in THROTTLE_BITS.items() if bits >> bit & 1]


def _temperatures_c() -> dict[str, float]:
    temps = {}
    for zone in sorted(Path("/sys/class/thermal").glob("thermal_zone*")):
        value, kind = _read(str(zone / "temp")), _read(str(zone / "type"))
        if value and value.lstrip("-").isdigit():
            temps[kind or zone.name] = int(value) / 1000.0
    return temps


def _throttled() -> str | None:
    """Raspberry Pi firmware's throttling flags (0x0 = never throttled)."""
    tool = shutil.which("vcgencmd")
    if not tool:
        return None
    try:
        out = subprocess.run([tool, "get_throttled"], capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out.stdout.strip().partition("=")[2] or None


def tool_versions(distributions=RUNTIME_DISTRIBUTIONS, missing: str | None = None) -> dict[str, str]:
    """edgebench's and each distribution's installed version, read from metadata without
    importing it; an absent one is left out, or recorded as ``missing`` when given."""
    from . import __version__

    found = {"edgebench": __version__}
    for dist in distributions:
        try:
            found[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            if missing is not None:
                found[dist] = missing
    return found


def collect() -> dict:
    """Everything the device says about itself; fields it does not expose are None."""
    model, flags = _cpuinfo()
    throttled = _throttled()
    freq_khz = _read("/sys/devices/system/cpu/cpu0/cpufreq/scaling_cur_freq")
    return {
        "hostname": platform.node(),
        "board": _board(),
        "cpu_model": model or platform.processor() or None,
        "arch": platform.machine(),
        "cores": os.cpu_count(),
        "usable_cores": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "isa_flags": flags,
        "os": platform.platform(),
        "bits": struct.calcsize("P") * 8,
        "python": platform.python_version(),
        "governor": _read("/sys/devices/system/cpu/cpu0/cpufreq/scaling_governor"),
        "frequency_mhz": int(freq_khz) / 1000 if freq_khz and freq_khz.isdigit() else None,
        "temperatures_c": _temperatures_c() or None,
        "throttled": throttled,
        "throttle_flags": throttle_flags(throttled),
        "versions": tool_versions(),
    }


def main() -> None:
    """Print this device's fingerprint, its free disk and which Python ran, as JSON."""
    import json
    import sys

    found = collect()
    found["disk_free_mb"] = shutil.disk_usage(".").free / 2**20
    found["python_executable"] = sys.executable
    print(json.dumps(found))


if __name__ == "__main__":
    main()
