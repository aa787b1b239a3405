"""onnxruntime backend: load a .onnx file, run a batch."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import require


@dataclass(frozen=True)
class Settings:
    threads: int = 0  # 0: onnxruntime's default
    providers: tuple[str, ...] = ("CPUExecutionProvider",)


class Session:
    """A loaded model; ``run`` takes and returns numpy arrays."""

    def __init__(self, path: Path, settings: Settings = Settings()):
        ort = require("onnxruntime", "export")
        options = ort.SessionOptions()
        if settings.threads:
            options.intra_op_num_threads = settings.threads
            options.inter_op_num_threads = 1
        self._session = ort.InferenceSession(str(path), options, providers=list(settings.providers))
        self.input_name = self._session.get_inputs()[0].name
        self.output_name = self._session.get_outputs()[0].name

    def run(self, x: np.ndarray) -> np.ndarray:
        return self._session.run([self.output_name], {self.input_name: x})[0]


def load(path: Path, settings: Settings = Settings()) -> Session:
    return Session(path, settings)
