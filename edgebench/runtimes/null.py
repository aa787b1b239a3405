"""A runtime that does nothing: the harness's own overhead is measured against it."""

from __future__ import annotations

import numpy as np

from . import ModelRef, RuntimeSettings


class Session:
    settings_used = {"runtime": "null"}

    def prepare(self, x: np.ndarray) -> np.ndarray:
        return x

    def run(self, native: np.ndarray) -> np.ndarray:
        return native

    def to_numpy(self, output: np.ndarray) -> np.ndarray:
        return output


def load(ref: ModelRef, settings: RuntimeSettings) -> Session:
    return Session()
