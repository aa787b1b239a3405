"""Does an artifact compute on a target what it computes on this host? The compatibility
check behind the report's grid: the same artifact, runtime and input tensor on both, the
outputs compared under the precision's tolerance (max abs difference and top-1 agreement).
"""

from __future__ import annotations

import shutil
import tempfile
from contextlib import ExitStack
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

from . import bench, formats
from .evaluate import EvalRequest, dataset_for, items_of, reference_outputs, run_item
from .export.validate import compare
from .outputs import InputTensors
from .results import Status
from .targets import Target
from .targets.local import LocalTarget


@dataclass(frozen=True)
class CompatRow:
    """One artifact in one runtime on a target, against the same on this host."""

    label: str
    model: str | None
    format: str
    precision: str
    runtime: str
    target: str
    status: Status  # ok | degraded | failed (numerics), or why it did not run there
    reason: str
    samples: int = 0
    max_abs_diff: float | None = None
    max_rel_diff: float | None = None
    top1_agreement: float | None = None
    interpreter: str | None = None  # which package ran it on the target, when it says
    fingerprint: dict = field(default_factory=dict)  # the target's
    # Against FP32 PyTorch on this host, under the precision's tolerance, on both sides:
    # an artifact that passes on x86 and fails on the board says so.
    host_vs_reference: dict | None = None
    target_vs_reference: dict | None = None

    def to_dict(self) -> dict:
        return {**asdict(self), "status": self.status.value}


def against_host(request: EvalRequest, target: Target,
                 progress: Callable[[str], None] = lambda step: None) -> list[CompatRow]:
    """Every artifact of ``request`` in each runtime asked for, on ``target`` and on this host."""
    request.check()
    items = [item for _, item in items_of(request)]
    split = dataset_for(items, request).open("eval")
    rows = []
    with ExitStack() as stack:
        scratch = Path(tempfile.mkdtemp(prefix="edgebench-compat-"))
        stack.callback(shutil.rmtree, scratch, ignore_errors=True)
        host = stack.enter_context(LocalTarget())
        on_host, on_target = (InputTensors(split, t, scratch) for t in (host, target))
        references: dict[tuple, tuple] = {}
        for item in items:
            common = dict(label=item.source.label, model=item.source.model_name,
                          format=item.source.model.format, precision=item.precision,
                          runtime=item.runtime, target=target.name)
            progress(f"{item.source.label} in {item.runtime}")
            done = run_item(item, on_target, request, target, scratch, top_k=None)
            theirs, reply = done.values, done.reply
            fp = bench.target_fingerprint(reply, target)
            interpreter = (reply.settings_used or {}).get("interpreter")
            if theirs is None:
                rows.append(CompatRow(status=reply.status, reason=reply.reason, fingerprint=fp,
                                      **common))
                continue
            mine = run_item(item, on_host, request, host, scratch, top_k=None)
            ours = mine.values
            if ours is None:
                rows.append(CompatRow(status=mine.reply.status, fingerprint=fp, reason="it does not "
                                      f"run on this host ({mine.reply.status}: {mine.reply.reason})",
                                      **common))
                continue
            tolerance = formats.PRECISIONS[item.precision].tolerance
            v = compare(ours.reshape(len(ours), -1), theirs.reshape(len(theirs), -1), tolerance,
                        inputs=split.name)
            if item.reference_id not in references:
                references[item.reference_id] = reference_outputs(item, request, host, on_host,
                                                                  scratch, lambda s: None, top_k=None)
            ref, _ = references[item.reference_id]
            vs_ref = {} if ref is None else {
                side: _summary(compare(ref.reshape(len(ref), -1), out.reshape(len(out), -1),
                                       tolerance, inputs=split.name))
                for side, out in (("host_vs_reference", ours), ("target_vs_reference", theirs))}
            status, reason = v.outcome, v.reason
            if vs_ref and vs_ref["host_vs_reference"]["outcome"] == "ok" and \
                    vs_ref["target_vs_reference"]["outcome"] != "ok":
                status = Status(vs_ref["target_vs_reference"]["outcome"])
                reason = (f"passes against FP32 PyTorch on this host, not on {target.name}: "
                          f"{vs_ref['target_vs_reference']['reason']}")
            rows.append(CompatRow(status=status, reason=reason, samples=v.samples,
                                  max_abs_diff=v.max_abs_diff, max_rel_diff=v.max_rel_diff,
                                  top1_agreement=v.top1_agreement, interpreter=interpreter,
                                  fingerprint=fp, **common, **vs_ref))
    return rows


def _summary(v) -> dict:
    return {"outcome": v.outcome.value, "reason": v.reason, "max_rel_diff": v.max_rel_diff,
            "top1_agreement": v.top1_agreement}
