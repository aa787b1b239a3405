"""Pinned runtimes on this machine: environments of their own, chosen by --runtime NAME==VERSION.

The environment is made for real (pip from the registries this machine is configured for,
once per cache); the agent runs there from the sources zip, as on a board.
"""

from __future__ import annotations

import json

import pytest

from edgebench.agent import Job
from edgebench.export import ExportRequest, run as export
from edgebench.formats import parse_runtime
from edgebench.results import Status
from edgebench.runtimes import ModelRef
from edgebench.targets import run_agent
from edgebench.envs import create, env_python, installed
from edgebench.targets.local import LocalTarget
from tests.helpers import OLD_ORT, OLD_TFLITE, assert_one_line_error

pytestmark = pytest.mark.network  # each pinned runtime is its own environment, from the registry
QUICK = ("--warmup", "1", "--min-runs", "3", "--min-seconds", "0", "--json")


@pytest.fixture(scope="module")
def old_ort():
    return create(parse_runtime(OLD_ORT))


@pytest.fixture(scope="module")
def int8(tmp_path_factory):
    out = tmp_path_factory.mktemp("envs")
    # 224 px: a bare model file (the stamped copy below) is fed at the default size
    cells = export(ExportRequest(model="resnet18", weights="random", resolution=224, out_dir=out,
                                 formats=("onnx",), precisions=("int8",), calib="fashion-mnist:16",
                                 validate_samples=16))
    (cell,) = [c for c in cells if c.precision == "int8"]
    assert cell.artifact is not None, cell.reason
    return cell.artifact


@pytest.fixture(scope="module")
def tflite_int8(tmp_path_factory):
    out = tmp_path_factory.mktemp("envs-tflite")
    cells = export(ExportRequest(model="resnet18", weights="random", resolution=64, out_dir=out,
                                 formats=("tflite",), precisions=("int8",),
                                 calib="fashion-mnist:16", validate_samples=16))
    (cell,) = [c for c in cells if c.precision == "int8"]
    assert cell.artifact is not None, cell.reason
    return cell.artifact


def _bench(run_cli, *args) -> dict[str, dict]:
    code, out, err = run_cli("bench", *args, *QUICK)
    assert out.strip(), err
    return {c["runtime"]: c for c in json.loads(out)}


def test_a_pinned_runtime_runs_in_its_own_environment(old_ort, int8, run_cli):
    cells = _bench(run_cli, int8.path, "--runtime", f"onnxruntime,{OLD_ORT}")
    old, new = cells[OLD_ORT], cells["onnxruntime"]
    assert old["status"] == "ok", old["reason"]
    assert old["fingerprint"]["versions"]["onnxruntime"] == "1.16.3"
    assert new["fingerprint"]["versions"]["onnxruntime"] != "1.16.3"
    assert old["key"] != new["key"]  # the version is part of the cell
    assert OLD_ORT in installed() and env_python(parse_runtime(OLD_ORT)).is_file()


def test_unused_opset_imports_are_what_breaks_onnxruntime_before_1_18(old_ort, int8, tmp_path, run_cli):
    """The same file with the quantiser's stray ai.onnx.ml v5 import: 1.16.3 refuses it."""
    import onnx

    model = onnx.load(str(int8.model_file))
    model.opset_import.append(onnx.helper.make_opsetid("ai.onnx.ml", 5))
    stamped = tmp_path / "stamped.onnx"
    onnx.save(model, str(stamped))
    cells = _bench(run_cli, stamped, "--runtime", f"onnxruntime,{OLD_ORT}")
    assert cells["onnxruntime"]["status"] == "ok"
    assert cells[OLD_ORT]["status"] == "load_failed" and "ai.onnx.ml" in cells[OLD_ORT]["reason"]


def test_eval_refuses_a_list_that_cannot_load_the_artifact(int8, run_cli):
    code, _, err = run_cli("eval", int8.path, "--runtime", f"tflite,{OLD_TFLITE}",
                           "--dataset", "fashion-mnist:test:16")
    assert_one_line_error(code, err, f"none of --runtime tflite,{OLD_TFLITE} loads onnx", expected_code=2)


def test_whether_xnnpack_took_the_graph_is_recorded(tflite_int8, run_cli):
    """ai-edge-litert hands an INT8 graph to XNNPACK; tflite-runtime 2.14 keeps it on its
    reference kernels although XNNPACK was asked for."""
    create(parse_runtime(OLD_TFLITE))
    cells = _bench(run_cli, tflite_int8.path, "--runtime", f"tflite,{OLD_TFLITE}")
    new, old = cells["tflite"], cells[OLD_TFLITE]
    assert new["status"] == old["status"] == "ok", (new["reason"], old["reason"])
    assert new["settings_used"]["xnnpack"] is old["settings_used"]["xnnpack"] is True
    assert new["settings_used"]["xnnpack_applied"] is True
    assert old["settings_used"]["xnnpack_applied"] is False
    assert old["settings_used"]["interpreter"] == "tflite-runtime"


def test_a_version_not_set_up_names_the_bootstrap_command(int8, run_cli):
    cell = _bench(run_cli, int8.path, "--runtime", "onnxruntime==1.17.0")["onnxruntime==1.17.0"]
    assert cell["status"] == "load_failed"
    assert "edgebench targets bootstrap local --runtimes onnxruntime==1.17.0" in cell["reason"]


def test_the_agent_refuses_an_environment_with_another_version(int8):
    """This test run's own environment has today's onnxruntime, not the pinned one."""
    job = Job(model=ModelRef(path=str(int8.model_file), format="onnx", precision="int8"),
              runtime=OLD_ORT).to_dict()

    class Here(LocalTarget):  # the main environment, whatever the job pins
        def agent_argv(self, runtime=None):
            return super().agent_argv(None)

    reply = run_agent(Here(), job, timeout_s=120)
    assert reply.status == Status.LOAD_FAILED
    assert "onnxruntime " in reply.reason and "is installed here, not 1.16.3" in reply.reason


def test_bootstrap_local(old_ort, run_cli):
    code, out, err = run_cli("targets", "bootstrap", "local", "--runtimes", OLD_ORT, "--json")
    assert code == 0, err
    assert OLD_ORT in json.loads(out)["environments"]
    code, _, err = run_cli("targets", "bootstrap", "local", "--runtimes", "onnxruntime")
    assert_one_line_error(code, err, "pin a version", expected_code=2)


@pytest.mark.parametrize("runtime,needle", [
    ("onnxruntime==1.16.3.x", "the version must be exact"),
    ("torch==2.0.0", "'torch' cannot be pinned"),
    ("onnxruntim", "unknown runtime 'onnxruntim'"),
])
def test_bad_pins_are_one_line(int8, run_cli, runtime, needle):
    code, _, err = run_cli("bench", int8.path, "--runtime", runtime)
    assert_one_line_error(code, err, needle, expected_code=2)
