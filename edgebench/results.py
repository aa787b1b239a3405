"""The typed cell results, the one status vocabulary and the stable cell key.

Every command that measures something returns these; what ``--json`` prints is exactly
``to_dict()``, and ``from_dict()`` reads it back. Standard library only (plus the light
typed settings they nest): the on-device agent imports this module.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import types
import typing
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, ClassVar

from .formats import Tolerance
from .harness import HarnessSettings, LatencyStats
from .runtimes import RuntimeSettings
from .schema import SCHEMA_VERSION, upgrade_record


class Status(str, Enum):
    """What happened to a cell: the report's vocabulary, used by every command."""

    OK = "ok"
    DEGRADED = "degraded"  # numerics or accuracy below the floor, but it runs
    FAILED = "failed"  # validation: it does not compute the reference function
    SLOWER_THAN_FP32 = "slower_than_fp32"
    UNSUPPORTED = "unsupported"  # the capability table says no: not an error
    EXPORT_FAILED = "export_failed"
    LOAD_FAILED = "load_failed"
    RUN_FAILED = "run_failed"  # loaded, but rejected the input or returned NaN/Inf
    CRASHED = "crashed"  # the runtime process died (signal recorded)
    TIMEOUT = "timeout"
    UNREACHABLE = "unreachable"  # the target could not be reached
    INFRA_ERROR = "infra_error"  # the device or transport failed: never a verdict on the model
    INTERRUPTED = "interrupted"  # the user stopped the command

    def __str__(self) -> str:
        return self.value

    @property
    def is_verdict(self) -> bool:
        """True when running the same cell again would give the same answer."""
        return self not in _TRANSIENT

    @property
    def is_failure(self) -> bool:
        """True when the cell produced no usable measurement or artifact."""
        return self not in (Status.OK, Status.DEGRADED, Status.SLOWER_THAN_FP32, Status.UNSUPPORTED)


_TRANSIENT = frozenset({Status.CRASHED, Status.TIMEOUT, Status.UNREACHABLE, Status.INFRA_ERROR,
                        Status.INTERRUPTED})


class Stage(str, Enum):
    """Where a non-ok status came from."""

    PLAN = "plan"  # the capability table answered before anything ran
    EXPORT = "export"
    VALIDATE = "validate"
    LOAD = "load"
    RUN = "run"
    TRANSPORT = "transport"

    def __str__(self) -> str:
        return self.value


# ---- (de)serialisation of frozen dataclasses: strict JSON, no NaN or Infinity -------------

def encode(value: Any) -> Any:
    """``value`` as JSON-ready data: dataclasses to dicts, enums to values, tuples to lists."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: encode(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, float):
        return value if math.isfinite(value) else None  # strict JSON: null, never NaN
    if isinstance(value, dict):
        return {str(k): encode(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [encode(v) for v in value]
    return value


_JSON_TYPES = {str: "a string", int: "an integer", float: "a number", bool: "true or false",
               dict: "an object", list: "a list", tuple: "a list"}


def _kind(tp: Any) -> str:
    return _JSON_TYPES.get(typing.get_origin(tp) or tp, getattr(tp, "__name__", str(tp)))


def _decode(tp: Any, value: Any, strict: bool = False, where: str = "") -> Any:
    """``value`` (JSON data) as type ``tp``. ``strict``: a value of another JSON type is a
    ``ValueError`` naming ``where`` (data from a file a user may have edited)."""
    origin = typing.get_origin(tp)
    if value is None:
        if strict and tp is not Any and not (origin in (typing.Union, types.UnionType)
                                              and type(None) in typing.get_args(tp)):
            raise ValueError(f"{where} is missing or not {_kind(tp)}")
        return None
    if origin in (typing.Union, types.UnionType):
        options = [a for a in typing.get_args(tp) if a is not type(None)]
        if len(options) == 1:
            return _decode(options[0], value, strict, where)
        if strict:
            for option in options:
                try:
                    return _decode(option, value, strict, where)
                except ValueError:
                    continue
            raise ValueError(f"{where} is not {' or '.join(_kind(o) for o in options)}")
        return value
    if origin is typing.Literal:
        if strict and value not in typing.get_args(tp):
            raise ValueError(f"{where} is {value!r}, not one of {typing.get_args(tp)}")
        return value
    if strict and (origin or tp) in _JSON_TYPES:
        wanted = {tuple: (list, tuple), float: (int, float)}.get(origin or tp, origin or tp)
        ok = isinstance(value, wanted) and not (isinstance(value, bool) and wanted is not bool)
        if not ok:
            raise ValueError(f"{where} is not {_kind(tp)}")
    if origin is tuple:
        args = typing.get_args(tp)
        if args and args[-1] is not Ellipsis:  # a fixed length: each place its own type
            if strict and len(value) != len(args):
                raise ValueError(f"{where} has {len(value)} values, not {len(args)}")
            return tuple(_decode(a, v, strict, f"{where}[]") for a, v in zip(args, value))
        inner = args[0] if args else Any
        return tuple(_decode(inner, v, strict, f"{where}[]") for v in value)
    if origin in (dict, list) or tp is Any:
        return value
    if isinstance(tp, type) and issubclass(tp, Enum):
        try:
            return tp(value)
        except ValueError as e:
            raise ValueError(f"{where} is {value!r}, not one of "
                             f"{', '.join(m.value for m in tp)}") from e
    if dataclasses.is_dataclass(tp):
        return decode_dataclass(tp, value, strict, where)
    if tp is float and isinstance(value, int):
        return float(value)
    return value


def decode_dataclass(cls: type, data: dict, strict: bool = False, where: str = "") -> Any:
    """Build ``cls`` from ``to_dict()`` output; unknown keys are an error, missing take defaults.
    ``strict``: every value's JSON type is checked too, and a missing required field is a
    ``ValueError`` naming it (``where``: its path, for the message)."""
    if not isinstance(data, dict):
        raise ValueError(f"{where or cls.__name__}: expected an object, got {type(data).__name__}")
    hints = typing.get_type_hints(cls)
    fields = [f for f in dataclasses.fields(cls) if f.init]
    names = {f.name for f in fields}
    unknown = set(data) - names - {"schema_version", "kind"}
    if unknown:
        raise ValueError(f"{where or cls.__name__}: unknown fields {', '.join(sorted(unknown))}")
    prefix = f"{where}." if where else ""
    if strict:
        for f in fields:
            if f.name not in data and f.default is dataclasses.MISSING and \
                    f.default_factory is dataclasses.MISSING:
                raise ValueError(f"{prefix}{f.name} is missing")
    return cls(**{k: _decode(hints[k], v, strict, f"{prefix}{k}")
                  for k, v in data.items() if k in names})


def to_json(value: Any, indent: int | None = 2) -> str:
    """Strict JSON (``allow_nan=False``): what every ``--json`` prints."""
    return json.dumps(encode(value), indent=indent, allow_nan=False)


class Record:
    """A typed result with a schema version: ``to_dict`` / ``from_dict`` round-trip."""

    KIND: ClassVar[str] = ""

    def to_dict(self) -> dict:
        return {"schema_version": SCHEMA_VERSION, "kind": self.KIND, **encode(self)}

    @classmethod
    def from_dict(cls, data: dict):
        """A record written by this or an older edgebench (``schema`` migrates it)."""
        try:
            data = upgrade_record(data)
        except ValueError as e:
            raise ValueError(f"{cls.__name__}: {e}") from e
        return decode_dataclass(cls, data)


# ---- the stable key -----------------------------------------------------------------------

@dataclass(frozen=True)
class CellKey:
    """Everything that identifies a measurement; equal parts give an equal ``digest``,
    whatever path the user typed to reach the artifact."""

    model: str
    weights: str  # "sha256:..." or "random:seed=N": the weights' identity, not their path
    format: str
    precision: str
    converter_description: str | None = None  # the tool that wrote the file (Capability.converter)
    calibration: str | None = None  # the calibration set's identity (a hash), INT8 only
    runtime: str | None = None
    settings: dict = field(default_factory=dict)  # the runtime settings that change results
    target: str = "local"
    tools: dict = field(default_factory=dict)  # tool versions
    dataset: str | None = None  # accuracy: the split scored and its content hash

    @property
    def digest(self) -> str:
        parts = encode(self)
        # hashed under its first name, so that the keys in existing stores stay valid
        parts["converter"] = parts.pop("converter_description")
        blob = json.dumps(parts, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(blob.encode()).hexdigest()[:20]


# ---- what a cell can end as ---------------------------------------------------------------

@dataclass(frozen=True)
class Validation:
    """An artifact's outputs against the PyTorch reference on held-out samples."""

    outcome: Status  # ok | degraded | failed
    reason: str
    samples: int
    max_abs_diff: float | None
    max_rel_diff: float | None  # max_abs_diff / largest |reference logit|
    min_cosine: float | None
    mean_cosine: float | None
    top1_agreement: float
    tolerance: Tolerance
    inputs: str  # where the held-out inputs came from

    def to_dict(self) -> dict:
        return encode(self)

    @classmethod
    def from_dict(cls, data: dict) -> "Validation":
        return decode_dataclass(cls, data)


@dataclass(frozen=True)
class ExportCell(Record):
    """One (format, precision) of an export: an artifact and its validation, or why not."""

    KIND: ClassVar[str] = "export"

    model: str
    format: str
    precision: str
    status: Status
    reason: str
    key: str
    converter: str | None = None  # another converter than the format's own (None: its own)
    stage: Stage | None = None  # where a non-ok status came from
    tools: dict = field(default_factory=dict)
    path: str | None = None  # the artifact folder, when one was kept
    size_bytes: int | None = None
    export_seconds: float | None = None
    validation: Validation | None = None
    validated_by: str | None = None  # the runtime that ran the validation
    signal: str | None = None  # crashed: the signal that ended the runtime
    cached: bool = False
    name: str | None = None  # the artifact folder's name: FORMAT-PRECISION[-RUNG][-CONVERTER]
    converter_description: str | None = None  # the tool that wrote the file, in words
    weights: str | None = None  # the weights' identity ("sha256:..." or "random:seed=N...")
    calibration: str | None = None  # the calibration set's identity, calibrated precisions only

    @property
    def label(self) -> str:
        return self.name or f"{self.format}-{self.precision}"

    @property
    def artifact(self):
        """The kept artifact folder and its manifest (read from disk), or None."""
        from pathlib import Path

        from .artifacts import read

        return read(Path(self.path)) if self.path else None


@dataclass(frozen=True)
class AgentReply(Record):
    """What the on-device agent answers for one job (the host adds the cell around it)."""

    KIND: ClassVar[str] = "agent"

    status: Status
    reason: str = ""
    stage: Stage | None = None
    signal: str | None = None
    load_ms: float | None = None
    first_inference_ms: float | None = None
    peak_rss_mb: float | None = None
    settings_used: dict = field(default_factory=dict)
    latency: LatencyStats | None = None
    throughput_ips: float | None = None
    input_shape: tuple[int, ...] | None = None
    input_dtype: str | None = None
    output_shape: tuple[int, ...] | None = None
    outputs_path: str | None = None  # outputs job: where the agent wrote them (target side)
    samples: int | None = None
    fingerprint: dict | None = None


@dataclass(frozen=True)
class RuntimeCell(Record):
    """What every cell run in a runtime on a target names: the artifact, where, how it ended."""

    label: str  # what the user gave (folder, file or zoo:MODEL)
    model: str | None
    format: str
    precision: str
    runtime: str
    target: str
    status: Status
    reason: str
    key: str


@dataclass(frozen=True)
class LatencyCell(RuntimeCell):
    """One artifact in one runtime on one target: how fast, or why not."""

    KIND: ClassVar[str] = "latency"

    stage: Stage | None = None
    tools: dict = field(default_factory=dict)
    signal: str | None = None
    size_bytes: int | None = None
    settings: RuntimeSettings = RuntimeSettings()
    harness: HarnessSettings = HarnessSettings()
    settings_used: dict = field(default_factory=dict)
    latency: LatencyStats | None = None
    load_ms: float | None = None
    first_inference_ms: float | None = None
    peak_rss_mb: float | None = None
    throughput_ips: float | None = None
    input_shape: tuple[int, ...] | None = None
    output_shape: tuple[int, ...] | None = None
    fingerprint: dict | None = None
    converter: str | None = None  # another converter than the format's own (None: its own)
    weights: str | None = None  # the weights' identity, as in the cell key
    calibration: str | None = None  # the artifact's calibration set's identity, when calibrated


@dataclass(frozen=True)
class AccuracyCell(RuntimeCell):
    """One artifact (or the PyTorch reference) scored on labelled data in one runtime."""

    KIND: ClassVar[str] = "accuracy"

    dataset: str  # D:split:N as evaluated
    stage: Stage | None = None
    dataset_id: str | None = None  # the split's content hash
    samples: int = 0  # images scored
    skipped: int = 0  # unreadable images passed over
    top1: float | None = None  # percent
    top5: float | None = None
    per_class: dict = field(default_factory=dict)  # class name -> top-1 percent
    reference_top1: float | None = None  # FP32 PyTorch on the same tensor
    drop_points: float | None = None  # reference_top1 - top1
    top1_agreement: float | None = None  # share of images whose top-1 matches the reference's
    max_drop_points: float | None = None  # the precision's allowance before "degraded"
    seconds: float | None = None  # the agent's wall time, load included
    images_per_s: float | None = None
    note: str | None = None  # how the images were resized, when they were
    signal: str | None = None
    tools: dict = field(default_factory=dict)
    settings_used: dict = field(default_factory=dict)
    fingerprint: dict | None = None  # the device that ran it
    converter: str | None = None  # another converter than the format's own (None: its own)
    weights: str | None = None  # the weights' identity, as in the cell key
    calibration: str | None = None  # the artifact's calibration set's identity, when calibrated


@dataclass(frozen=True)
class TrainResult(Record):
    """What ``edgebench train`` made: the checkpoint and its test accuracy."""

    KIND: ClassVar[str] = "train"

    model: str
    dataset: str
    checkpoint: str
    classes: tuple[str, ...]
    resolution: int
    started_from: str  # imagenet | random
    epochs: int
    train_seconds: float
    test_top1: float
    test_samples: int
    history: tuple[dict, ...] = ()  # per epoch: loss, train_top1, seconds
    batch: int | None = None
    freeze_backbone: bool = False
    train_images: int | None = None
    status: Status = Status.OK
    key: str = ""  # a results store's cell key: the recipe, data and device
    fingerprint: dict | None = None  # the machine that trained

    @property
    def seconds_per_epoch(self) -> float:
        """The median epoch's wall time (preprocessing excluded)."""
        seconds = sorted(e["seconds"] for e in self.history)
        return seconds[len(seconds) // 2] if seconds else self.train_seconds / max(self.epochs, 1)


RECORDS: dict[str, type[Record]] = {r.KIND: r for r in (
    ExportCell, LatencyCell, AgentReply, AccuracyCell, TrainResult)}


def from_dict(data: dict) -> Record:
    """Any record, by its ``kind``."""
    kind = data.get("kind") if isinstance(data, dict) else None
    if kind not in RECORDS:
        raise ValueError(f"unknown record kind {kind!r}: expected one of {', '.join(RECORDS)}")
    return RECORDS[kind].from_dict(data)
