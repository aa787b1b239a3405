"""Telemetry off, in this process and every process it starts.

onnxruntime writes a device id and an event database into the user's cache folder and
OpenVINO's telemetry a client id into ~/intel, both at import time: the switches must be
set before the first import. onnxruntime reads ``ORT_DISABLE_TELEMETRY`` (inherited by
agent processes); OpenVINO's telemetry has no switch of its own besides CI markers, so its
consent check is answered "declined" in each process that may import it.
"""

from __future__ import annotations

import os

ENV = {"ORT_DISABLE_TELEMETRY": "1", "NNCF_CI": "1"}


def disable_telemetry() -> None:
    """Idempotent; cheap when the runtimes are not installed."""
    for key, value in ENV.items():
        os.environ.setdefault(key, value)
    try:
        from openvino_telemetry.utils import opt_in_checker
    except ImportError:  # openvino not installed here: nothing to decline
        return
    opt_in_checker.OptInChecker.check = _declined


def _declined(self, *args, **kwargs):
    from openvino_telemetry.utils.opt_in_checker import ConsentCheckResult

    return ConsentCheckResult.DECLINED
