import subprocess
import sys

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

from edgebench import formats
from edgebench.runtimes import RuntimeSettings, infer
from edgebench.runtimes import onnxruntime as backend


@pytest.fixture
def scale_model(tmp_path):
    """A real two-node ONNX graph: y = softmax-free x * 2 + 1, written without torch."""
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 4])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", 4])
    two = helper.make_tensor("two", TensorProto.FLOAT, [1], [2.0])
    one = helper.make_tensor("one", TensorProto.FLOAT, [1], [1.0])
    graph = helper.make_graph([helper.make_node("Mul", ["x", "two"], ["t"]),
                               helper.make_node("Add", ["t", "one"], ["y"])],
                              "scale", [x], [y], [two, one])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    path = tmp_path / "scale.onnx"
    onnx.save(model, path)
    return path


@pytest.mark.parametrize("threads", [0, 1, 2])
def test_load_and_run(scale_model, threads):
    session = backend.load(scale_model, RuntimeSettings(threads=threads))
    x = np.arange(8, dtype=np.float32).reshape(2, 4)
    assert session.input_name == "x" and session.output_name == "y"
    np.testing.assert_array_equal(infer(session, x), x * 2 + 1)


@pytest.mark.parametrize("spec", formats.RUNTIMES.values(), ids=lambda s: s.name)
def test_backend_imports_no_torch(spec):
    # the on-device agent has numpy and one runtime only
    code = f"import sys, {spec.module}; sys.exit('torch' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0
