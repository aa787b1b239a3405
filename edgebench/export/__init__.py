"""Export: one module per format, validation against the PyTorch reference, the pipeline."""

from .pipeline import ExportRequest, ExportResult, planned_steps, run

__all__ = ["ExportRequest", "ExportResult", "planned_steps", "run"]
