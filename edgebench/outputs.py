"""Outputs on a target: the one path by which a model's outputs come back from the agent.

Export validation, ``edgebench eval`` and the board compatibility check all ask the same
question (what does this model compute on these inputs, on that target?), so they share one
way to ask it: the host makes each input tensor file once and puts it on the target
(:class:`InputTensors`), :func:`fetch` uploads the model, runs the agent's ``outputs`` job
and brings the array back, and :func:`select_runtimes` is the one rule for which runtimes
run a model. An upload or download that fails is a typed reply, like a crash or a timeout:
the caller records it, nothing aborts.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from . import formats
from .errors import OutputError
from .results import AgentReply, Stage, Status
from .runtimes import ModelRef, RuntimeSettings
from .targets import Target, TargetError, run_agent


@dataclass(frozen=True)
class Outputs:
    """What came back: the array (top-k indices, or every output row), or why there is none."""

    values: np.ndarray | None
    reply: AgentReply
    seconds: float

    @property
    def ok(self) -> bool:
        return self.values is not None


def fetch(target: Target, upload: Callable[[Target], ModelRef], runtime: str,
          settings: RuntimeSettings, inputs: str, scratch: Path, name: str, timeout_s: float,
          top_k: int | None = None) -> Outputs:
    """Run ``runtime``'s ``outputs`` job on ``target`` over the target-side tensor file
    ``inputs``; ``upload`` puts the model there and returns its target-side reference.

    The array comes back into ``scratch`` as ``name`` (``.npz`` of top-k indices when
    ``top_k`` is given, else ``.npy`` of the outputs)."""
    from .agent import Job

    started = time.perf_counter()
    try:
        suffix = "npz" if top_k else "npy"
        job = Job(model=upload(target), runtime=runtime, kind="outputs", settings=settings,
                  inputs=inputs, top_k=top_k, outputs=target.scratch(f"{name}.{suffix}"))
        reply = run_agent(target, job.to_dict(), timeout_s)
        seconds = time.perf_counter() - started
        if reply.status != Status.OK:
            return Outputs(None, reply, seconds)
        local = scratch / f"{name}.{suffix}"
        target.get(reply.outputs_path, local)
    except TargetError as e:  # an upload or download failed: the board, not the model
        return Outputs(None, AgentReply(e.status, f"{target.name}: {e}", Stage.TRANSPORT),
                       time.perf_counter() - started)
    if not top_k:
        return Outputs(np.load(local, allow_pickle=False), reply, seconds)
    with np.load(local, allow_pickle=False) as z:
        return Outputs(np.array(z["indices"]), reply, seconds)


@dataclass(frozen=True)
class Tensor:
    """One input tensor file on a target, or why it is not there."""

    remote: str | None  # the target-side path
    labels: np.ndarray
    skipped: int  # unreadable images left out
    note: str | None
    error: AgentReply | None  # the upload failed: every row that needs it says why


class InputTensors:
    """A labelled split preprocessed once per (preprocessing, layout, input dtype) and put on
    ``target``: every model that reads its inputs the same way reads the same file."""

    def __init__(self, split, target: Target, folder: Path,
                 warn: Callable[[str], None] = lambda message: None):
        self.split, self.target, self.folder, self.warn = split, target, folder, warn
        self._made: dict[tuple, Tensor] = {}

    def get(self, preprocess, layout: str, quantise: tuple | None) -> Tensor:
        from .data.labelled import preprocess_split

        key = (preprocess, layout, quantise)
        if key not in self._made:
            t = preprocess_split(self.split, preprocess, layout, quantise)
            if t.skipped:
                self.warn(f"skipped {t.skipped} unreadable images in {self.split.where}")
            path = self.folder / f"inputs-{len(self._made)}.npy"
            try:
                np.save(path, t.x)
            except OSError as e:
                raise OutputError(f"cannot write the evaluation inputs to {self.folder} ({e}): free "
                                  "space there or point TMPDIR at a disk with room") from e
            try:
                remote, error = self.target.put(path), None
            except TargetError as e:
                remote, error = None, AgentReply(e.status, f"{self.target.name}: {e}", Stage.TRANSPORT)
            self._made[key] = Tensor(remote, t.labels, t.skipped, t.note, error)
        return self._made[key]


@dataclass(frozen=True)
class Refused:
    """A runtime that was asked for and does not load the model, and why."""

    choice: formats.RuntimeChoice
    reason: str


def select_runtimes(fmt: str, model_name: str | None, requested: tuple[formats.RuntimeChoice, ...],
                    every: bool) -> tuple[list[formats.RuntimeChoice], list[Refused]]:
    """The one rule for which runtimes run a model of format ``fmt``: those asked for that the
    table says load it (the others refused, with the table's reason), or when none are asked
    for, every runtime that loads it (``every``, as ``bench`` compares them) or only the
    format's ``validated_by`` runtime (what ``eval`` scores and export validates in)."""
    if not requested:
        if every:
            return [formats.RuntimeChoice(r) for r in formats.runtimes_for(fmt)], []
        spec = formats.FORMATS.get(fmt)
        return [formats.RuntimeChoice(spec.validated_by if spec else fmt)], []
    loading, refused = [], []
    for choice in requested:
        table = formats.RUNTIMES[choice.runtime]
        if table.loads(fmt, model_name):
            loading.append(choice)
        else:
            refused.append(Refused(choice, f"{choice.runtime} does not load {fmt} (it loads "
                                           f"{table.describe_loads()})"))
    return loading, refused
