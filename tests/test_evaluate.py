"""``edgebench eval``: real artifacts of a trained checkpoint, scored through the agent."""

import json
import os
from pathlib import Path

import numpy as np
import pytest

from edgebench import formats
from edgebench.artifacts import read
from edgebench.data.fashion_mnist import FASHION_MNIST_CLASSES
from edgebench.data.labelled import DatasetSpec, preprocess_split
from edgebench.evaluate import EvalRequest, dataset_for, items_of, planned_keys, run
from edgebench.results import AccuracyCell, Status
from edgebench.targets.local import LocalTarget
from tests.helpers import OLD_ORT, assert_one_line_error

DATA = "fashion-mnist:test:400"


@pytest.fixture(scope="module")
def checkpoint(fm_checkpoint):
    return fm_checkpoint


@pytest.fixture(scope="module")
def exported(fm_exports):
    """FP32 and INT8 in every format, all from the checkpoint (the session's export set):
    {label: folder}."""
    return {label: c.path for label, c in fm_exports.cells.items()}


@pytest.fixture(scope="module")
def scored(exported, checkpoint):
    with LocalTarget() as target:
        cells = run(EvalRequest(artifacts=(*exported.values(), "zoo:resnet18"), dataset=DATA,
                                weights=str(checkpoint)), target)
    return {c.label: c for c in cells}


@pytest.mark.parametrize("fmt", formats.FORMATS)
def test_fp32_artifacts_score_what_pytorch_scores(scored, exported, fmt):
    cell = scored[exported[f"{fmt}-fp32"]]
    ref = scored["zoo:resnet18"]
    assert cell.status == Status.OK and cell.runtime == formats.FORMATS[fmt].runtimes[0]
    assert cell.samples == 400 and cell.dataset == DATA
    assert cell.top1_agreement >= 0.995 and abs(cell.drop_points) <= 0.5
    assert cell.reference_top1 == ref.top1 and cell.top1 <= cell.top5
    assert list(cell.per_class) == list(FASHION_MNIST_CLASSES)
    assert "resized to 32 px" in cell.note


def test_the_reference_row_is_its_own_reference(scored):
    ref = scored["zoo:resnet18"]
    assert ref.runtime == "torch" and ref.precision == "fp32"
    assert ref.drop_points == 0 and ref.top1_agreement == 1.0


def test_scores_match_an_independent_onnxruntime_run(scored, exported):
    """Top-1, top-5 and per-class accuracy recomputed here, in-process, from scratch."""
    import onnxruntime as ort

    folder = exported["onnx-int8"]
    art = read(Path(folder))
    split = DatasetSpec.parse(DATA).open()
    t = preprocess_split(split, art.manifest.preprocess)
    options = ort.SessionOptions()  # the agent's threads: int8 sums may round otherwise
    options.intra_op_num_threads, options.inter_op_num_threads = os.cpu_count() or 1, 1
    session = ort.InferenceSession(str(art.model_file), options,
                                   providers=["CPUExecutionProvider"])
    logits = np.concatenate([session.run(None, {art.manifest.input.name: x[None]})[0]
                             for x in t.x])
    top5 = np.argsort(-logits, axis=1, kind="stable")[:, :5]  # int8 logits tie: lowest index
    cell = scored[folder]
    assert cell.top1 == pytest.approx(100 * (top5[:, 0] == t.labels).mean(), abs=1e-6)
    assert cell.top5 == pytest.approx(100 * (top5 == t.labels[:, None]).any(1).mean(), abs=1e-6)
    shirt = t.labels == FASHION_MNIST_CLASSES.index("Shirt")
    assert cell.per_class["Shirt"] == pytest.approx(100 * (top5[shirt, 0] == 6).mean(), abs=1e-3)
    assert cell.drop_points == pytest.approx(cell.reference_top1 - cell.top1, abs=1e-6)
    assert cell.max_drop_points == formats.PRECISIONS["int8"].max_accuracy_drop
    assert cell.status == (Status.OK if cell.drop_points <= 1.0 else Status.DEGRADED)


def test_rows_are_typed_records(scored):
    for cell in scored.values():
        assert AccuracyCell.from_dict(json.loads(json.dumps(cell.to_dict()))) == cell
    assert len({c.key for c in scored.values()}) == len(scored)


def test_eval_prints_json_and_defaults_to_the_checkpoint_data_set(exported, run_cli):
    code, out, err = run_cli("eval", exported["onnx-fp32"], "--dataset", "fashion-mnist:test:50",
                             "--json")
    rows = json.loads(out)
    assert code == 0, err
    assert rows[0]["kind"] == "accuracy" and rows[0]["samples"] == 50
    # No --dataset: the checkpoint's own evaluation split, every image of it. What is chosen is
    # asserted here; scoring all 10,000 (minutes) is the README's demo, which gives no --dataset.
    request = EvalRequest(artifacts=(str(exported["onnx-fp32"]),))
    spec = dataset_for([item for _, item in items_of(request)], request)
    assert spec.text() == "fashion-mnist:test" and spec.count is None
    # and the same key that scoring would store: a sweep's resume finds it
    assert list(planned_keys(request, "local")) == [(str(exported["onnx-fp32"]), "onnxruntime")]


def test_eval_scores_in_each_runtime_of_a_list(exported, run_cli):
    from edgebench.envs import create

    old = OLD_ORT
    create(formats.parse_runtime(old))
    code, out, err = run_cli("eval", exported["onnx-int8"], exported["tflite-fp32"], "--runtime",
                             f"onnxruntime,{old},tflite", "--dataset", "fashion-mnist:test:50",
                             "--json")
    rows = {(Path(r["label"]).name, r["runtime"]): r for r in json.loads(out)}
    # each artifact in the runtimes that load its format, and only those
    assert set(rows) == {("onnx-int8", "onnxruntime"), ("onnx-int8", old),
                         ("tflite-fp32", "tflite")}, err
    assert code in (0, 3) and all(r["samples"] == 50 for r in rows.values())
    # the same quantised function in both onnxruntime versions
    assert rows[("onnx-int8", old)]["top1"] == pytest.approx(rows[("onnx-int8", "onnxruntime")]["top1"],
                                                             abs=2.0)
    assert rows[("onnx-int8", old)]["key"] != rows[("onnx-int8", "onnxruntime")]["key"]


def test_an_artifact_that_times_out_is_a_row_not_an_abort(exported, run_cli):
    code, out, err = run_cli("eval", exported["onnx-fp32"], exported["tflite-fp32"], "--dataset",
                             "fashion-mnist:test:50", "--timeout", "0.1", "--json")
    rows = json.loads(out)
    assert code == 9 and [r["status"] for r in rows] == ["timeout", "timeout"]
    assert err.strip().startswith("error: 2 of 2 rows failed")


@pytest.mark.parametrize("args,needle", [
    (["zoo:resnet18"], "give --dataset"),
    (["zoo:resnet18", "--dataset", "imagefolder:/no/such"], "does not exist"),
    (["zoo:resnet18", "--dataset", "fashion-mnist:val"], "takes no path"),
    (["zoo:resnet18", "--dataset", "fashion-mnist", "--target", "pi"], "unknown target 'pi'"),
    (["/no/such/artifact", "--dataset", "fashion-mnist"], "does not exist"),
])
def test_bad_eval_input_is_one_line(run_cli, args, needle):
    code, _, err = run_cli("eval", *args)
    assert_one_line_error(code, err, needle, expected_code=2)


def test_an_imagenet_head_is_refused_on_ten_classes(run_cli):
    code, _, err = run_cli("eval", "zoo:resnet18", "--dataset", "fashion-mnist:test:10")
    assert_one_line_error(code, err, "has 1000 classes but fashion-mnist:test has 10",
                          expected_code=2)
