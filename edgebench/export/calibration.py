"""The one calibration protocol, adapted to each quantiser's own reader type.

Every quantiser is fed the same preprocessed samples, in the same order.
"""

from __future__ import annotations

from typing import Iterator

import numpy as np


def batches(samples: np.ndarray) -> Iterator[np.ndarray]:
    """One sample at a time, batch dimension kept (1 x C x H x W)."""
    for i in range(len(samples)):
        yield samples[i:i + 1]


def onnxruntime_reader(samples: np.ndarray, input_name: str):
    """onnxruntime.quantization's CalibrationDataReader over the samples."""
    from onnxruntime.quantization import CalibrationDataReader

    class Reader(CalibrationDataReader):
        def __init__(self):
            self._it = batches(samples)

        def get_next(self):
            x = next(self._it, None)
            return None if x is None else {input_name: x}

        def rewind(self):
            self._it = batches(samples)

    return Reader()


def nncf_dataset(samples: np.ndarray):
    import nncf

    return nncf.Dataset(list(batches(samples)))


def litert_signature_data(samples: np.ndarray, signature: str, input_name: str) -> dict:
    """ai-edge-quantizer's calibration input: {signature: [{input: array}, ...]}."""
    return {signature: [{input_name: x} for x in batches(samples)]}
