import configparser
import dataclasses
import importlib
from pathlib import Path

import pytest

from edgebench import formats
from edgebench.errors import UnsupportedError, UserInputError
from edgebench.runtimes import RuntimeSettings


@pytest.mark.parametrize("cap", formats.CAPABILITIES, ids=lambda c: c.key)
def test_every_row_resolves_to_code(cap):
    assert callable(cap.load_exporter())
    backend = cap.validation_runtime.load_backend()
    assert callable(backend.load)
    assert cap.precision in formats.PRECISIONS and cap.format in formats.FORMATS
    assert formats.lookup(cap.format, cap.precision, cap.converter) is cap
    assert len({(c.format, c.precision, c.converter) for c in formats.CAPABILITIES}) == \
        len(formats.CAPABILITIES)  # one row per (format, precision, converter)


@pytest.mark.parametrize("spec", formats.FORMATS.values(), ids=lambda f: f.name)
def test_each_format_is_validated_by_a_declared_runtime_that_loads_it(spec):
    runtime = formats.RUNTIMES[spec.validated_by]
    assert spec.name in runtime.formats  # its own format, not the reference or the null one
    assert not runtime.reference and not runtime.any_format
    assert all(c.validation_runtime is runtime for c in formats.CAPABILITIES if c.format == spec.name)


@pytest.mark.parametrize("converter", formats.converters())
def test_each_converter_is_a_dimension_of_the_table(converter):
    name = formats.converter_name(converter)
    made = formats.made_by(name)
    assert made, converter
    for cap in (c for c in formats.CAPABILITIES if c.converter == name):
        assert cap.format in made
        assert cap.key == f"{cap.format}-{cap.precision}" + (f"-{name}" if name else "")
        # its FP32 base is made by the same converter
        assert formats.lookup(cap.format, "fp32", name).converter == name


def test_a_converter_that_does_not_make_a_pair_says_what_it_makes():
    with pytest.raises(UnsupportedError, match="tflite fp16 is not made by onnx2tf: it makes tflite fp32"):
        formats.lookup("tflite", "fp16", "onnx2tf")
    with pytest.raises(UserInputError, match="unknown converter 'tf2onnx': choose from default, onnx2tf"):
        formats.converter_name("tf2onnx")


def test_unknown_format_lists_the_known_ones():
    with pytest.raises(UserInputError, match="unknown format 'tflit'.*onnx"):
        formats.lookup("tflit", "fp32")


def test_unsupported_pair_lists_what_is_supported():
    with pytest.raises(UnsupportedError, match="onnx int4 is not supported: onnx supports fp32"):
        formats.lookup("onnx", "int4")
    with pytest.raises(UnsupportedError, match="onnx bf16 .* bf16 is available in openvino"):
        formats.lookup("onnx", "bf16")


@pytest.mark.parametrize("precision", formats.PRECISIONS)
def test_every_precision_says_what_a_runtime_may_execute_it_as(precision):
    assert precision in formats.PRECISIONS[precision].executes_as


# A runtime or a format is one complete row: everything else reads it from the table.

def _extras() -> set[str]:
    config = configparser.ConfigParser(interpolation=None)
    config.read(Path(__file__).parents[2] / "setup.cfg")
    return set(config["options.extras_require"])


@pytest.mark.parametrize("spec", formats.RUNTIMES.values(), ids=lambda r: r.name)
def test_every_runtime_row_is_complete(spec):
    backend = spec.load_backend()  # imports numpy only: the runtime itself is imported lazily
    assert backend.__name__ == spec.module and callable(backend.load)
    assert spec.extra in _extras()
    settings = {f.name for f in dataclasses.fields(RuntimeSettings)}
    for knob in spec.knobs:
        assert knob.field in settings, knob
        assert knob.option.startswith("--") and knob.help.endswith(".")
        assert not knob.choices or knob.default in knob.choices
    if spec.reference or spec.any_format:  # runs on the host (or runs nothing): no board package
        assert not spec.board_packages and not spec.distributions
        return
    assert spec.board_packages, f"{spec.name} cannot be installed on a board"
    pinnable = {d.name for d in spec.distributions}
    assert set(spec.board_packages) <= pinnable  # their numpy facts are known
    assert pinnable <= set(spec.fingerprinted)  # every result says which version ran
    assert spec.loggers
    for fmt in spec.formats:
        assert fmt in formats.FORMATS


@pytest.mark.parametrize("spec", formats.FORMATS.values(), ids=lambda f: f.name)
def test_every_format_row_is_complete(spec):
    module, function = spec.tensors.split(":")  # its reader, for edgebench diff
    assert callable(getattr(importlib.import_module(module), function))
    assert spec.name in formats.RUNTIMES[spec.validated_by].formats  # its validator loads it
    assert spec.file_name.endswith(spec.suffixes[0]) and formats.format_of(spec.file_name) == spec.name
    assert any(c.format == spec.name and c.precision == "fp32" for c in formats.CAPABILITIES)


@pytest.mark.parametrize("cap", formats.CAPABILITIES + formats.RESCUE_RUNGS, ids=lambda c: c.key)
def test_every_capability_names_its_extra_and_known_tools(cap):
    assert cap.extra in _extras()
    assert set(cap.tools) <= set(formats.TOOLS)  # their loggers are quieted


def test_one_row_is_the_reference():
    (reference,) = [r for r in formats.RUNTIMES.values() if r.reference]
    assert formats.reference_runtime() is reference
    assert reference.precisions  # it runs in what it is asked, not in an artifact's own


def test_knobs_are_every_runtimes_in_table_order():
    assert [k.field for k in formats.knobs()] == [
        k.field for r in formats.RUNTIMES.values() for k in r.knobs]
    assert len({k.option for k in formats.knobs()}) == len(formats.knobs())


def test_a_runtime_keeps_its_own_cells_knobs_to_itself():
    asked = RuntimeSettings(precision="fp16", compile=True, hint="throughput", xnnpack=False)
    reference = formats.reference_runtime().name
    assert formats.settings_for(reference, asked) == asked
    onnx = formats.settings_for("onnxruntime", asked)
    assert (onnx.precision, onnx.compile) == (None, False)  # RuntimeSettings' defaults
    assert (onnx.hint, onnx.xnnpack) == ("throughput", False)  # shared: in every cell's key


def test_the_lists_read_from_the_table_are_the_previous_hand_written_ones():
    """The fingerprint's distributions and the quiet loggers were hand-written before: the
    table gives the same lists (loggers: at least the same)."""
    assert formats.fingerprinted() == ("numpy", "onnxruntime", "onnxruntime-gpu", "openvino",
                                       "ai-edge-litert", "tflite-runtime", "tensorflow", "torch")
    assert set(formats.quiet_loggers()) >= {
        "absl", "nncf", "torch", "openvino", "onnxruntime", "litert_torch", "ai_edge_quantizer",
        "tensorflow", "jax",  # the loggers
        "torchvision", "onnx", "onnxscript", "ai_edge_litert"}  # and the modules warnings came from
