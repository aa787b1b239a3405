"""The command line's policy: which typed error (and so which exit code) a result earns."""

from __future__ import annotations

from .. import errors

# Most specific first: the first matching class decides the exit code.
EXIT_CODES: tuple[tuple[type[errors.EdgebenchError], int], ...] = (
    (errors.UserInputError, 2),
    (errors.ValidationDegradedError, 3),
    (errors.ValidationFailedError, 4),
    (errors.DependencyMissingError, 5),
    (errors.WeightsUnavailableError, 6),
    (errors.DataUnavailableError, 6),
    (errors.OutputError, 7),
    (errors.ExportError, 8),
    (errors.CellsFailedError, 9),
    (errors.EdgebenchError, 1),
)
EXIT_INTERRUPTED = 130


def exit_code(error: errors.EdgebenchError) -> int:
    return next(code for cls, code in EXIT_CODES if isinstance(error, cls))


# An export's worst status decides its exit, most severe first. Its "failed" is a verdict on
# the artifact (exit 4); a measured cell's is a cell that gave no number (exit 9, like a crash).
_EXPORT_FAILURES: tuple[tuple[tuple[str, ...], type[errors.EdgebenchError], str], ...] = (
    (("export_failed",), errors.ExportError, "export failed"),
    (("crashed", "timeout", "infra_error", "interrupted"), errors.CellsFailedError,
     "validation did not finish"),
    (("failed", "load_failed", "run_failed"), errors.ValidationFailedError, "validation failed"),
    (("degraded",), errors.ValidationDegradedError, "degraded"),
)


def check(result) -> None:
    """Raise the typed error a command's result earns, or return: the one status rule.

    ``result`` is an ``api.ExportResult`` or a list of measured rows (latency cells, accuracy
    cells, compatibility rows): a failed row is exit 9, then a degraded one exit 3.
    """
    from ..api import ExportResult
    from ..report.console import pct

    if isinstance(result, ExportResult):
        for statuses, error, label in _EXPORT_FAILURES:
            hit = next((c for c in result.judged() if c.status in statuses), None)
            if hit:
                where = f" (artifact kept at {hit.path})" if hit.path else ""
                status = f" ({hit.status})" if hit.status != label else ""
                raise error(f"{hit.model} {hit.label}: {label}{status}: {hit.reason}{where}")
        for x in result.unmet()[:1]:
            best = max((r for r in x.rungs if r.top1 is not None), key=lambda r: r.top1, default=None)
            raise errors.ValidationFailedError(
                f"{x.model} {x.format}: no rung of the INT8 rescue ladder met the floor "
                f"({x.floor}: top-1 {pct(x.threshold)}); best: "
                f"{f'{best.name} {best.top1:.2f}%' if best else 'none scored'}; every rung is in "
                f"{x.rungs[0].folder or 'the output'}/manifest.json")
        return
    rows = list(result)
    noun = "cells" if rows and all(getattr(r, "KIND", "") == "latency" for r in rows) else "rows"
    bad = [r for r in rows if r.status.is_failure]
    if bad:
        raise errors.CellsFailedError(f"{len(bad)} of {len(rows)} {noun} failed; first: "
                                      f"{bad[0].label} in {bad[0].runtime}: {bad[0].status}: "
                                      f"{bad[0].reason}")
    degraded = [r for r in rows if r.status == "degraded"]
    if degraded:
        raise errors.ValidationDegradedError(f"{len(degraded)} of {len(rows)} {noun} degraded; "
                                             f"first: {degraded[0].label}: {degraded[0].reason}")
