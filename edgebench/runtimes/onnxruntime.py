"""onnxruntime backend: CPU, CUDA, TensorRT and OpenVINO execution providers."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from ..errors import LoadError, first_line, require
from ..privacy import disable_telemetry
from . import ModelRef, RuntimeSettings

disable_telemetry()  # before the runtime is first imported (it records at import)

# --device value -> the provider chain to ask for (CPU last as onnxruntime's fallback)
PROVIDERS = {
    "cpu": ("CPUExecutionProvider",),
    "gpu": ("CUDAExecutionProvider", "CPUExecutionProvider"),
    "cuda": ("CUDAExecutionProvider", "CPUExecutionProvider"),
    "tensorrt": ("TensorrtExecutionProvider", "CUDAExecutionProvider", "CPUExecutionProvider"),
    "openvino": ("OpenVINOExecutionProvider", "CPUExecutionProvider"),
}


# "/onnxruntime_src/.../model_load_utils.h:46 void onnxruntime::...(const std::...&, int) "
_CPP_FRAME = re.compile(r"\S+\.(?:h|cc|cpp):\d+ .*?\)\s+(?=[A-Z])")


def _why(error: Exception, limit: int = 300) -> str:
    """onnxruntime's message without its C++ source frame; when still long, its first and last
    sentences (the last one usually names the fix: '... ai.onnx.ml is till opset 3')."""
    text = _CPP_FRAME.sub("", first_line(error, limit=4000))
    if len(text) <= limit:
        return text
    sentences = [x for x in re.split(r"(?<=\.)\s+", text) if x]
    short = f"{sentences[0]} ... {sentences[-1]}" if len(sentences) > 1 else text
    return short[:limit]


class Session:
    def __init__(self, path: Path, settings: RuntimeSettings):
        ort = require("onnxruntime", "export")
        wanted = PROVIDERS.get(settings.device.lower())
        if wanted is None:
            raise LoadError(f"onnxruntime has no device {settings.device!r}: choose from "
                            f"{', '.join(PROVIDERS)}")
        available = ort.get_available_providers()
        if wanted[0] not in available:
            raise LoadError(f"{wanted[0]} is not in this onnxruntime build (it has "
                            f"{', '.join(available)}): install onnxruntime-gpu or "
                            "onnxruntime-openvino")
        options = ort.SessionOptions()
        if settings.threads:
            options.intra_op_num_threads = settings.threads
            options.inter_op_num_threads = 1
        try:
            self._session = ort.InferenceSession(str(path), options, providers=list(wanted))
        except Exception as e:  # onnxruntime raises its own pybind types
            raise LoadError(f"onnxruntime could not load {Path(path).name}: {_why(e)}") from e
        inp, out = self._session.get_inputs()[0], self._session.get_outputs()[0]
        self.input_name, self.output_name = inp.name, out.name
        self.settings_used = {
            "runtime": "onnxruntime",
            "providers": self._session.get_providers(),
            "intra_op_threads": settings.threads or "default",
            "graph_optimization": "all",
        }

    def prepare(self, x: np.ndarray) -> dict:
        return {self.input_name: x}

    def run(self, feed: dict) -> np.ndarray:
        return self._session.run([self.output_name], feed)[0]

    def to_numpy(self, output: np.ndarray) -> np.ndarray:
        return output


def load(ref: ModelRef | Path, settings: RuntimeSettings = RuntimeSettings()) -> Session:
    path = ref.path if isinstance(ref, ModelRef) else ref
    return Session(Path(path), settings)
