"""What an exporter is given and what it reports back."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..manifest import Conversion, InputSpec, Quantization


@dataclass(frozen=True)
class ExportOptions:
    resolution: int
    opset: int = 17
    dynamic_batch: bool = False
    layout: str = "nchw"


@dataclass(frozen=True)
class ExportContext:
    """Everything a converter may use. ``base`` is the same format's FP32 artifact, which
    FP16, BF16 and INT8 are made from; ``calibration`` is the shared calibration set."""

    model: Any  # the eval-mode torch module, input in ``options.layout``
    sample: Any  # a torch tensor of one input
    options: ExportOptions
    base: Path | None = None
    calibration: np.ndarray | None = None  # N x input shape, float32, in ``options.layout``


@dataclass(frozen=True)
class ExportInfo:
    """What an exporter made: its input and output, and how it converted and quantised."""

    input_name: str
    input_shape: tuple
    input_dtype: str
    layout: str
    output_name: str
    quantization: Quantization | None = None
    conversion: Conversion = Conversion()

    def input_spec(self) -> InputSpec:
        return InputSpec(self.input_name, tuple(self.input_shape), self.input_dtype, self.layout)


def input_shape(options: ExportOptions, batch="batch") -> tuple:
    """The input shape an export promises, in its layout."""
    b = batch if options.dynamic_batch else 1
    r = options.resolution
    return (b, r, r, 3) if options.layout == "nhwc" else (b, 3, r, r)
