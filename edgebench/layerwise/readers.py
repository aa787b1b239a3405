"""Every intermediate tensor of a model file, in execution order, with the PyTorch module
that made it.

One reader per format (``FormatSpec.tensors`` names it). All three keep the module path
of the PyTorch model they were exported from in their names, each in its own spelling:

- ONNX (torch.onnx): ``/layer1/layer1.0/relu_1/Relu_output_0`` (``_1``: the second call);
- OpenVINO IR: ``__module.layer1.0.relu/aten::relu_/Relu``;
- TFLite (litert-torch): ``...ResNet/...Sequential_layer1/...BasicBlock_0/...ReLU_relu;...``,
  where an op that fuses several modules lists them, the one whose output it is first.

Quantisation ops (QuantizeLinear, FakeQuantize, ...) are skipped: a tensor is read where
the float model has it, dequantised when the runtime stores it as integers.
"""

from __future__ import annotations

import re
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np


@dataclass(frozen=True)
class Tensor:
    """One op of the artifact; its output is read when it belongs to a module (or when the
    reader is asked for every op)."""

    module: str  # the PyTorch module path it belongs to ("" for none)
    op: str  # the format's op type
    name: str  # the format's own name for the op (what a quantiser's exclusion list takes)
    read: bool


# a reader: (path, modules, read_all=False, **options) -> (ops in execution order, run):
# run(one sample) returns {op name: float32 output in NCHW} for the ops that are read
Run = Callable[[np.ndarray], dict[str, np.ndarray]]


OUTPUT = "(output)"  # the model's output, where no module name is left on it
_CALL = re.compile(r"^(.*)_(\d+)$")


def onnx_module(tensor_name: str, modules: frozenset[str]) -> str:
    """``/layer1/layer1.0/relu_1/Relu_output_0`` -> ``layer1.0.relu``."""
    parts = tensor_name.split("/")
    if len(parts) < 3 or parts[0]:
        return ""
    # a scope is an attribute ("block") or a dotted path from the last attribute ("block.0")
    path, before = "", ""
    for part in parts[1:-1]:
        if "." in part:
            path = f"{before}.{part}" if before else part
        else:
            before, path = path, f"{path}.{part}" if path else part
    if path not in modules:  # a module called more than once: name_1, name_2, ...
        call = _CALL.match(path)
        if call and call.group(1) in modules:
            return call.group(1)
    return path


def openvino_module(friendly_name: str) -> str:
    """``__module.layer1.0.relu/aten::relu_/Relu`` -> ``layer1.0.relu``."""
    head = friendly_name.split("/", 1)[0]
    return head[len("__module."):] if head.startswith("__module.") else ""


def tflite_module(tensor_name: str) -> str:
    """litert-torch's ``Root/pkg.Class_attr/pkg.Class_attr;...`` -> ``attr.attr``."""
    first = tensor_name.split(";", 1)[0]
    parts = first.split("/")[1:]
    attrs = []
    for part in parts:
        _, sep, attr = part.rsplit(".", 1)[-1].partition("_")
        if not sep:
            return ""
        attrs.append(attr)
    return ".".join(attrs)


_ONNX_SKIPPED = {"QuantizeLinear", "DequantizeLinear", "Constant", "Shape", "Gather", "Unsqueeze",
                 "Concat", "Reshape", "Cast"}


def onnx(path: Path, modules: frozenset[str], read_all: bool = False, **_) -> tuple[list[Tensor], Run]:
    """Every float node of an ONNX file; the read ones become graph outputs (onnxruntime)."""
    import onnx as onnx_lib
    import onnxruntime as ort

    model = onnx_lib.load(str(path))
    graph = model.graph
    known = {o.name for o in graph.output}
    ops, wanted = [], {}
    for node in graph.node:
        if node.op_type in _ONNX_SKIPPED or node.domain == "com.microsoft" and "Quantize" in node.op_type:
            continue
        out = node.output[0]
        # the tensor's name first: the quantiser moves a removed Relu's name onto its Conv
        module = onnx_module(out, modules) or onnx_module(node.name, modules) or \
            (OUTPUT if out in known else "")
        name = node.name or out
        ops.append(Tensor(module, node.op_type, name, bool(module) or read_all))
        if ops[-1].read:
            wanted[name] = out
            if out not in known:
                graph.output.append(onnx_lib.ValueInfoProto(name=out))
    with tempfile.TemporaryDirectory() as tmp:
        augmented = Path(tmp) / "tensors.onnx"
        onnx_lib.save(model, str(augmented))
        options = ort.SessionOptions()
        options.log_severity_level = 3
        session = ort.InferenceSession(str(augmented), options, providers=["CPUExecutionProvider"])
    input_name, names = session.get_inputs()[0].name, list(wanted)

    def run(x: np.ndarray) -> dict[str, np.ndarray]:
        values = session.run([wanted[n] for n in names], {input_name: x})
        return {n: v.astype(np.float32) for n, v in zip(names, values)}

    return ops, run


_OV_SKIPPED = {"Parameter", "Result", "Constant", "FakeQuantize", "Convert", "ShapeOf", "Concat",
               "Gather", "Reshape", "Squeeze", "Unsqueeze"}


def openvino(path: Path, modules: frozenset[str], read_all: bool = False, precision: str = "fp32",
             **_) -> tuple[list[Tensor], Run]:
    """Every op of an IR; the read ones become outputs, run in the precision the artifact
    runs in on this CPU."""
    import openvino as ov

    from ..runtimes.openvino import PRECISION_HINTS, UPCAST_WITHOUT_CAPABILITY

    core = ov.Core()
    hint, needs = PRECISION_HINTS.get(precision, PRECISION_HINTS["fp32"])
    if needs not in core.get_property("CPU", "OPTIMIZATION_CAPABILITIES"):
        hint = UPCAST_WITHOUT_CAPABILITY.get(precision, (hint,))[0]
    model = core.read_model(str(path))
    results = {r.input_value(0).get_node().get_friendly_name() for r in model.get_results()}
    found = [(op, op.get_friendly_name()) for op in model.get_ordered_ops()
             if op.get_type_name() not in _OV_SKIPPED]
    ops = [Tensor(m, op.get_type_name(), n, bool(m) or read_all) for op, n in found
           for m in (openvino_module(n) or (OUTPUT if n in results else ""),)]
    read = [op for (op, _), t in zip(found, ops) if t.read]
    model.add_outputs([op.output(0) for op in read])
    # compiled outputs come in the model's order; a Result's input names the op it reads
    port = {r.get_node().input_value(0).get_node().get_friendly_name(): k
            for k, r in enumerate(model.outputs)}
    compiled = core.compile_model(model, "CPU", {"INFERENCE_PRECISION_HINT": hint})
    request = compiled.create_infer_request()
    names = [op.get_friendly_name() for op in read]

    def run(x: np.ndarray) -> dict[str, np.ndarray]:
        result = request.infer({0: x})
        return {n: np.asarray(result[compiled.outputs[port[n]]], np.float32) for n in names}

    return ops, run


_TFLITE_SKIPPED = {"QUANTIZE", "DEQUANTIZE"}


def tflite(path: Path, modules: frozenset[str], read_all: bool = False, **_) -> tuple[list[Tensor], Run]:
    """Every op of a .tflite file, run without delegates; integer outputs dequantised."""
    from ..runtimes import quantise
    from ..runtimes.tflite import interpreter_class

    Interpreter, plain, _ = interpreter_class()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "intended for debugging purposes only"
        # no XNNPACK: a delegate runs the graph as one op and keeps no intermediate tensor
        interp = Interpreter(model_path=str(path), experimental_preserve_all_tensors=True,
                             experimental_op_resolver_type=plain)
    interp.allocate_tensors()
    details = {t["index"]: t for t in interp.get_tensor_details()}
    ops, index, outputs = [], {}, {o["index"] for o in interp.get_output_details()}
    for op in interp._get_ops_details():  # the only listing of ops in execution order
        if op["op_name"] in _TFLITE_SKIPPED or not op["outputs"]:
            continue
        t = details[op["outputs"][0]]
        module = tflite_module(t["name"]) or (OUTPUT if t["index"] in outputs else "")
        ops.append(Tensor(module, op["op_name"], t["name"], bool(module) or read_all))
        index[t["name"]] = t["index"]
    read = [t.name for t in ops if t.read]
    inp = interp.get_input_details()[0]
    scale, zero = inp["quantization"]

    def run(x: np.ndarray) -> dict[str, np.ndarray]:
        if np.dtype(inp["dtype"]).kind in "iu":
            x = quantise(x, scale, zero, inp["dtype"])
        interp.set_tensor(inp["index"], x)
        interp.invoke()
        return {n: _dequantised(interp.get_tensor(index[n]), details[index[n]]) for n in read}

    return ops, run


def _dequantised(value: np.ndarray, detail: dict) -> np.ndarray:
    if value.dtype.kind in "iu":
        scale, zero = detail["quantization"]
        value = (value.astype(np.float32) - zero) * scale
    # litert-torch computes channels-last inside; the reference is NCHW
    return (value.transpose(0, 3, 1, 2) if value.ndim == 4 else value).astype(np.float32)
