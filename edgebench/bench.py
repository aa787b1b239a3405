"""``edgebench bench``: artifacts x runtimes, each cell measured by the agent in its own process."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable

from . import artifacts, formats
from .errors import UserInputError
from .harness import HarnessSettings
from .runtimes import ModelRef, RuntimeSettings
from .targets import Target, run_agent

ZOO_PREFIX = "zoo:"
DEFAULT_TIMEOUT_S = 600.0


@dataclass(frozen=True)
class BenchRequest:
    artifacts: tuple[str, ...]
    runtime: str | None = None  # None: every runtime that loads the format
    settings: RuntimeSettings = RuntimeSettings()
    harness: HarnessSettings = HarnessSettings()
    timeout_s: float = DEFAULT_TIMEOUT_S
    weights: str = "random"  # for zoo:MODEL references

    def check(self) -> None:
        """One-line errors for settings no runtime could take."""
        if self.settings.threads is not None and self.settings.threads < 1:
            raise UserInputError(f"--threads must be at least 1, got {self.settings.threads} "
                                 "(omit it for the runtime's default)")
        if self.settings.batch < 1:
            raise UserInputError(f"--batch must be at least 1, got {self.settings.batch}")
        if self.harness.min_runs < 1 or self.harness.min_seconds < 0:
            raise UserInputError("--min-runs must be at least 1 and --min-seconds at least 0")
        if self.timeout_s <= 0:
            raise UserInputError(f"--timeout must be positive, got {self.timeout_s}")
        if self.runtime is not None and self.runtime not in formats.RUNTIMES:
            raise UserInputError(f"unknown runtime {self.runtime!r}: choose from "
                                 f"{', '.join(formats.RUNTIMES)}")


@dataclass(frozen=True)
class Cell:
    label: str
    model: ModelRef
    runtime: str
    model_name: str | None
    size_bytes: int | None


def _from_manifest(folder: Path, manifest: dict) -> tuple[ModelRef, str, int]:
    weights = manifest["weights"]
    ref = ModelRef(
        path=str(folder / manifest["file"]["name"]), format=manifest["format"],
        precision=manifest["precision"], input_name=manifest["input"]["name"],
        input_shape=tuple(manifest["input"]["shape"]), input_dtype=manifest["input"]["dtype"],
        zoo_model=manifest["model"]["name"],
        weights=weights["path"] if weights["source"] == "checkpoint" else weights["source"],
        resolution=manifest["model"]["resolution"])
    return ref, manifest["model"]["name"], manifest["size_bytes"]


def resolve(spec: str, weights: str = "random") -> tuple[ModelRef, str | None, int | None]:
    """An artifact folder, a model file or ``zoo:MODEL`` to what the agent loads."""
    if spec.startswith(ZOO_PREFIX):
        from . import zoo

        entry = zoo.get(spec[len(ZOO_PREFIX):])
        return ModelRef(path=None, format="torch", zoo_model=entry.name, weights=weights,
                        resolution=entry.resolution), entry.name, None
    path = Path(spec)
    if not path.exists():
        raise UserInputError(f"artifact {spec} does not exist: give an artifact folder, a model "
                             "file or zoo:MODEL")
    if path.is_dir():
        art = artifacts.read(path)
        if art is not None:
            return _from_manifest(path, art.manifest)
        files = [p for p in sorted(path.iterdir()) if formats.format_of(p)]
        if len(files) != 1:
            raise UserInputError(f"{spec} has no manifest.json and {len(files)} model files: "
                                 "give the model file itself")
        path = files[0]
    fmt = formats.format_of(path)
    if fmt is None:
        suffixes = ", ".join(s for f in formats.FORMATS.values() for s in f.suffixes)
        raise UserInputError(f"{spec}: unknown model file type (expected {suffixes})")
    art = artifacts.read(path.parent)
    if art is not None and art.manifest["file"]["name"] == path.name:
        return _from_manifest(path.parent, art.manifest)
    return ModelRef(path=str(path), format=fmt), None, path.stat().st_size


def plan(request: BenchRequest) -> list[tuple[Cell | None, dict | None]]:
    """Cells to measure, and rows the capability table already answers (unsupported)."""
    request.check()
    cells: list[tuple[Cell | None, dict | None]] = []
    for spec in request.artifacts:
        ref, name, size = resolve(spec, request.weights)
        if request.runtime:
            runtimes = [request.runtime]
        else:
            runtimes = ["torch"] if ref.format == "torch" else formats.runtimes_for(ref.format)
        for runtime in runtimes:
            loads = ref.format in formats.RUNTIMES[runtime].formats or (
                runtime == "torch" and ref.zoo_model) or runtime == "null"
            if not loads:
                cells.append((None, {"label": spec, "runtime": runtime, "format": ref.format,
                                     "status": "unsupported",
                                     "reason": f"{runtime} does not load {ref.format} (it loads "
                                               f"{', '.join(formats.RUNTIMES[runtime].formats) or 'zoo models'})"}))
                continue
            cells.append((Cell(spec, ref, runtime, name, size), None))
    return cells


def run(request: BenchRequest, target: Target,
        progress: Callable[[str], None] = lambda step: None) -> list[dict]:
    """Measure every cell; a failing cell never stops the others."""
    from .agent import Job

    rows = []
    for cell, answered in plan(request):
        if answered is not None:
            rows.append(answered)
            continue
        progress(f"{cell.label} in {cell.runtime}")
        settings = request.settings
        if cell.runtime != "torch":
            settings = replace(settings, precision=None)
        job = Job(model=cell.model, runtime=cell.runtime, settings=settings, harness=request.harness)
        result = run_agent(target, job.to_dict(), request.timeout_s)
        rows.append({"label": cell.label, "model": cell.model_name, "format": cell.model.format,
                     "precision": (settings.precision or "fp32") if cell.runtime == "torch"
                     else cell.model.precision, "size_bytes": cell.size_bytes, **result})
    return rows
