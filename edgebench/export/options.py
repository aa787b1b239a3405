"""What an exporter is told and what it reports back."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class ExportOptions:
    resolution: int
    opset: int = 17
    dynamic_batch: bool = False


@dataclass(frozen=True)
class ExportInfo:
    input_name: str
    input_shape: tuple
    input_dtype: str
    layout: str
    output_name: str
    extra: dict = field(default_factory=dict)

    def input_dict(self) -> dict:
        return {"name": self.input_name, "shape": list(self.input_shape),
                "dtype": self.input_dtype, "layout": self.layout}
