"""Export: one module per format, validation against the PyTorch reference, the pipeline."""

from .pipeline import ExportRequest, planned_steps, run

__all__ = ["ExportRequest", "planned_steps", "run"]
