"""The device fingerprint every result carries: what ran it, read from the device itself.

Standard library only: it runs inside the on-device agent.
"""

from __future__ import annotations

import os
import platform
import shutil
import struct
import subprocess
from importlib import metadata
from pathlib import Path

# ISA flags that change which kernels a runtime can use
ISA_FLAGS = ("avx", "avx2", "fma", "avx512f", "avx512_vnni", "avx512_bf16", "avx512_fp16",
             "avx_vnni", "amx_tile", "amx_int8", "amx_bf16", "f16c",
             "neon", "asimd", "asimdhp", "asimddp", "i8mm", "bf16", "sve", "sve2", "fphp")
RUNTIME_DISTRIBUTIONS = ("numpy", "onnxruntime", "onnxruntime-gpu", "openvino", "ai-edge-litert",
                         "tflite-runtime", "tensorflow", "torch")


def _read(path: str) -> str | None:
    try:
        return Path(path).read_text(errors="replace").strip()
    except OSError:
        return None


def _cpuinfo() -> tuple[str | None, list[str]]:
    text = _read("/proc/cpuinfo") or ""
    model, flags = None, set()
    for line in text.splitlines():
        key, _, value = line.partition(":")
        key = key.strip().lower()
        if key in ("model name", "hardware", "cpu model") and not model:
            model = value.strip()
        elif key in ("flags", "features"):
            flags.update(value.split())
    return model, sorted(f for f in ISA_FLAGS if f in flags)


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
    freq_khz = _read("/sys/devices/system/cpu/cpu0/cpufreq/scaling_cur_freq")
    return {
        "hostname": platform.node(),
        "board": (_read("/proc/device-tree/model") or "").rstrip("\x00") or None,
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
        "throttled": _throttled(),
        "versions": tool_versions(),
    }
