"""OpenVINO backend: CPU, GPU, NPU (any device name OpenVINO knows), latency/throughput hints.

The inference precision is pinned to the artifact's: on CPUs with bf16 support the
CPU plugin's default is bf16, so an unpinned "FP32" run silently runs bf16.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import LoadError, first_line, require
from ..privacy import disable_telemetry
from . import ModelRef, RuntimeSettings

disable_telemetry()  # before the runtime is first imported (it records at import)

# artifact precision -> (inference precision hint, the device capability it needs)
PRECISION_HINTS = {"fp32": ("f32", "FP32"), "int8": ("f32", "FP32"),  # int8 IR: float parts in f32
                   "fp16": ("f16", "FP16"), "bf16": ("bf16", "BF16")}
# FP16-compressed weights are a storage format: a device without FP16 compute upcasts them.
UPCAST_WITHOUT_CAPABILITY = {"fp16": ("f32", "FP32")}
HINTS = ("latency", "throughput")


class Session:
    def __init__(self, ref: ModelRef, settings: RuntimeSettings):
        ov = require("openvino", "openvino")
        import openvino.properties as props
        import openvino.properties.hint as hints

        path = Path(ref.path)
        weights = Path(ref.sidecar) if ref.sidecar else path.with_suffix(".bin")
        if path.suffix == ".xml" and not weights.is_file():
            raise LoadError(f"{path.name} has no weights file {weights.name} "
                            "beside it: copy the .bin with the .xml")
        core = ov.Core()
        device = settings.device.upper()
        known = core.available_devices
        if device not in known and device.split(".")[0] not in ("AUTO", "HETERO", "MULTI"):
            raise LoadError(f"OpenVINO has no device {settings.device!r} here: available are "
                            f"{', '.join(known)}")
        if settings.hint not in HINTS:
            raise LoadError(f"unknown OpenVINO hint {settings.hint!r}: choose {', '.join(HINTS)}")
        precision, capability = PRECISION_HINTS.get(ref.precision, ("f32", "FP32"))
        capabilities = core.get_property(device.split(".")[0], "OPTIMIZATION_CAPABILITIES") \
            if device in known else []
        if capabilities and capability not in capabilities and ref.precision in UPCAST_WITHOUT_CAPABILITY:
            precision, capability = UPCAST_WITHOUT_CAPABILITY[ref.precision]
        if capabilities and capability not in capabilities:
            raise LoadError(f"OpenVINO {device} cannot run {ref.precision} (it supports "
                            f"{', '.join(capabilities)})")
        mode = {"latency": hints.PerformanceMode.LATENCY,
                "throughput": hints.PerformanceMode.THROUGHPUT}[settings.hint]
        config = {hints.performance_mode: mode, hints.inference_precision: getattr(ov.Type, precision)}
        if settings.threads:
            config[props.inference_num_threads] = settings.threads
        try:
            model = core.read_model(str(path), str(weights)) if path.suffix == ".xml" \
                else core.read_model(str(path))
            if settings.batch != 1 and model.inputs[0].partial_shape[0].is_static:
                shape = model.inputs[0].partial_shape
                shape[0] = settings.batch
                model.reshape({model.inputs[0]: shape})
            self._compiled = core.compile_model(model, device, config)
        except Exception as e:  # OpenVINO raises RuntimeError subclasses without a hierarchy
            raise LoadError(f"OpenVINO could not load {path.name}: {first_line(e)}") from e
        self._request = self._compiled.create_infer_request()
        self._ov = ov
        compiled = self._compiled.get_property("INFERENCE_PRECISION_HINT")
        compiled = compiled if isinstance(compiled, str) else compiled.to_string()
        self.settings_used = {
            "runtime": "openvino",
            "device": device,
            "performance_hint": settings.hint.upper(),
            "inference_precision_hint": compiled,
            "executed_precision": _executed(ref.precision, compiled),
            "num_streams": int(self._compiled.get_property("NUM_STREAMS")),
            "inference_num_threads": self._compiled.get_property("INFERENCE_NUM_THREADS")
            if device == "CPU" else None,
        }

    def prepare(self, x: np.ndarray):
        tensor = self._ov.Tensor(np.ascontiguousarray(x), shared_memory=True)
        self._request.set_input_tensor(tensor)
        return tensor

    def run(self, tensor) -> "object":
        self._request.infer()
        return self._request.get_output_tensor(0)

    def to_numpy(self, output) -> np.ndarray:
        return np.array(output.data, copy=True)


def _executed(artifact: str, compiled_hint: str) -> str:
    """The precision the compiled model reports running: an INT8 IR's float parts in f32 are
    its INT8 as exported; in anything else they are not."""
    executed = {"f32": "fp32", "f16": "fp16", "bf16": "bf16"}.get(compiled_hint, compiled_hint)
    if artifact == "int8":
        return "int8" if executed == "fp32" else f"int8 with {executed} float parts"
    return executed


def load(ref: ModelRef, settings: RuntimeSettings = RuntimeSettings()) -> Session:
    return Session(ref, settings)
