"""An artifact's ``manifest.json`` as typed records: what was exported, from what, how, and
whether it computes the reference function.

``Manifest.to_dict`` writes the JSON layout every version wrote (the report and users read
it); ``Manifest.from_dict`` reads any version ``schema`` can migrate and checks every
value's JSON type, so a damaged or hostile file is a ``ValueError`` of one line (the
artifact module names the file), never a traceback later.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from .errors import UserInputError
from .results import Stage, Status, Validation, decode_dataclass, encode
from .schema import SCHEMA_VERSION, upgrade_manifest
from .zoo.spec import Preprocess


def _without_none(data: dict) -> dict:
    """Fields a converter did not report are left out of the JSON, as they always were."""
    return {k: v for k, v in data.items() if v is not None and v != []}


@dataclass(frozen=True, kw_only=True)
class ModelInfo:
    """The zoo model the artifact was exported from."""

    name: str
    family: str | None = None
    resolution: int  # the input size of this artifact
    native_resolution: int | None = None  # the zoo entry's own
    num_classes: int | None = None
    params: int | None = None
    macs: int | None = None  # at ``resolution``; None when only the native size was counted


@dataclass(frozen=True)
class WeightsInfo:
    """Where the weights came from (``zoo.weights.ResolvedWeights``)."""

    source: str  # imagenet | random | checkpoint
    path: str | None = None
    sha256: str | None = None
    seed: int | None = None
    recipe: str | None = None  # random weights: how they were drawn

    @property
    def identity(self) -> str:
        """The weights as a cell key names them (older manifests name no random recipe)."""
        if self.source == "random":
            return ":".join(filter(None, (f"random:seed={self.seed}", self.recipe)))
        return f"sha256:{self.sha256}"

    @property
    def choice(self) -> str:
        """What ``--weights`` rebuilds the PyTorch reference from."""
        return self.path if self.source == "checkpoint" and self.path else self.source


@dataclass(frozen=True)
class DatasetInfo:
    """A checkpoint's own data set: what eval scores the artifact on without flags."""

    name: str
    train_split: str
    eval_split: str
    classes: tuple[str, ...] = ()
    checkpoint_test_top1: float | None = None

    @property
    def eval_spec(self) -> str:
        return f"{self.name}:{self.eval_split}"

    @property
    def train_spec(self) -> str:
        return f"{self.name}:{self.train_split}"


@dataclass(frozen=True)
class RescueRung:
    """The rescue ladder's rung an artifact was made by (``formats.RESCUE_RUNGS``)."""

    rung: int
    name: str


@dataclass(frozen=True)
class TensorSpec:
    name: str
    shape: tuple[int | str, ...]  # "batch" for a dynamic first dimension
    dtype: str

    @property
    def dynamic_batch(self) -> bool:
        return bool(self.shape) and self.shape[0] == "batch"


@dataclass(frozen=True)
class InputSpec(TensorSpec):
    layout: str = "NCHW"


@dataclass(frozen=True)
class FileEntry:
    """One file of the artifact, by name inside its folder."""

    name: str
    size_bytes: int
    sha256: str


@dataclass(frozen=True)
class TensorQuantization:
    """An integer input or output tensor's parameters: real = scale * (q - zero_point)."""

    dtype: str
    scale: float
    zero_point: int


@dataclass(frozen=True)
class Quantization:
    """How a converter quantised the artifact: what each exporter reports (unset: not
    applicable to that converter)."""

    tool: str | None = None  # nncf | ai-edge-quantizer | onnx2tf; None: onnxruntime's quantiser
    recipe: str | None = None  # ai-edge-quantizer's recipe, onnx2tf's mode
    format: str | None = None  # onnxruntime: QDQ
    per_channel: bool | None = None
    activations: str | None = None  # onnxruntime: QUInt8 | QUInt16
    weights: str | None = None
    calibration: str | None = None  # onnxruntime's range method: MinMax | Entropy | Percentile
    preset: str | None = None  # NNCF's preset
    ranges: str | None = None  # NNCF's range estimator
    fast_bias_correction: bool | None = None
    samples: int | None = None  # calibration samples
    kept_in_float: tuple[str, ...] = ()  # ops left out of quantisation (rescue rung 2)
    input: TensorQuantization | None = None  # an integer input tensor
    output: TensorQuantization | None = None

    def to_dict(self) -> dict:
        return _without_none({k: _without_none(v) if isinstance(v, dict) else v
                              for k, v in encode(self).items()})


@dataclass(frozen=True)
class Conversion:
    """The converter's own settings beyond the export options, as its exporter reports them
    (unset: not applicable). Written as top-level manifest keys."""

    opset: int | None = None  # ONNX: the opset asked for
    converter_settings: dict[str, Any] | None = None  # e.g. onnxruntime float16's keep_io_types
    opset_imports: dict[str, int] | None = None  # ONNX: the opsets its nodes use
    compress_to_fp16: bool | None = None  # OpenVINO FP16
    inference_precision_hint: str | None = None  # OpenVINO BF16: the runtime precision to pin
    converter_environment: dict[str, str] | None = None  # a converter run in its own environment

    def to_dict(self) -> dict:
        return _without_none(encode(self))


CONVERSION_KEYS = tuple(f.name for f in dataclasses.fields(Conversion))
_PREPROCESS_CONSTANTS = {"crop": "center", "scale": "1/255"}  # what Preprocess.to_dict adds


def _forbidden_name(name: str) -> bool:
    return name in ("", ".", "..") or "/" in name or "\\" in name or "\x00" in name


@dataclass(frozen=True, kw_only=True)
class Manifest:
    """Everything ``edgebench export`` knows about one artifact folder."""

    model: ModelInfo
    weights: WeightsInfo
    dataset: DatasetInfo | None = None  # a checkpoint's own data set
    format: str
    precision: str
    converter: str | None = None  # another converter than the format's own (None: its own)
    converter_description: str | None = None  # the tool that wrote the file, in words
    rescue_rung: RescueRung | None = None
    conversion: Conversion = Conversion()
    quantization: Quantization | None = None
    calibration: str | None = None  # the calibration source, as given
    calibration_id: str | None = None  # its identity (a hash), as cell keys name it
    input: InputSpec
    output: TensorSpec | None = None
    preprocess: Preprocess | None = None
    files: tuple[FileEntry, ...]  # the main model file first
    tools: dict[str, str] = field(default_factory=dict)  # versions that shaped the bytes
    known_to_load: dict[str, str] = field(default_factory=dict)  # oldest runtimes seen to load it
    export_seconds: float | None = None
    status: Status | None = None  # None in the oldest manifests: the validation's outcome
    stage: Stage | None = None
    reason: str | None = None
    validation: Validation | None = None
    validated_by: str | None = None  # the runtime that ran the validation
    cache_key: str | None = None
    rescue: dict | None = None  # export.rescue.Ladder.to_dict() of the ladder that chose it
    created_at: str | None = None

    @property
    def file(self) -> FileEntry:
        return self.files[0]

    @property
    def size_bytes(self) -> int:
        return sum(f.size_bytes for f in self.files)

    def preprocessing(self, label: str) -> Preprocess:
        """The preprocessing the artifact expects, or a one-line error when it records none."""
        if self.preprocess is None:
            raise UserInputError(f"{label}'s manifest records no preprocessing: export the "
                                 "artifact again")
        return self.preprocess

    def to_dict(self) -> dict:
        """The JSON written to ``manifest.json``."""
        out: dict[str, Any] = {"schema_version": SCHEMA_VERSION}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if f.name == "conversion":
                out.update(value.to_dict())
            elif f.name == "quantization":
                if value is not None:
                    out["quantization"] = value.to_dict()
            elif f.name == "preprocess":
                out["preprocess"] = value.to_dict() if value else None
            elif f.name == "files":
                out["file"] = encode(self.file)
                out["files"] = encode(value)
                out["size_bytes"] = self.size_bytes
            elif f.name == "rescue" and value is None:
                continue  # only the artifact a rescue ladder chose has one
            else:
                out[f.name] = encode(value)
        return out

    @classmethod
    def from_dict(cls, data: Any) -> "Manifest":
        """A manifest of any version this edgebench reads; a ``ValueError`` of one line naming
        the first value that is missing or of the wrong type."""
        if not isinstance(data, dict):
            raise ValueError("not a JSON object")
        data = dict(upgrade_manifest(data))
        data.pop("schema_version")
        conversion = {k: data.pop(k) for k in CONVERSION_KEYS if k in data}
        data["conversion"] = conversion
        first = data.pop("file", None)
        size = data.pop("size_bytes", None)
        files = data.get("files")
        if isinstance(data.get("preprocess"), dict):
            pre = dict(data["preprocess"])
            for key, constant in _PREPROCESS_CONSTANTS.items():
                if pre.pop(key, constant) != constant:
                    raise ValueError(f"preprocess.{key} is not {constant!r}")
            data["preprocess"] = pre
        manifest = decode_dataclass(cls, data, strict=True)
        if not isinstance(first, dict) or not files or first != files[0]:
            raise ValueError("file and files[0] disagree")
        for entry in manifest.files:
            if _forbidden_name(entry.name):  # a manifest may only name files inside its folder
                raise ValueError(f"file name {entry.name!r} points outside its folder")
        if not isinstance(size, int) or isinstance(size, bool) or size != manifest.size_bytes:
            raise ValueError(f"size_bytes {size!r} is not the sum of its files' sizes")
        return manifest
