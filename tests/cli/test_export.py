"""`edgebench export` in-process (CliRunner) and as a subprocess; each bad input a user can give it."""

import json

import pytest
import torch
import torchvision

from tests.helpers import assert_one_line_error, no_valid_artifact_left


@pytest.mark.slow
def test_export_json_then_cache_hit(run_cli, tmp_path):
    args = ["export", "resnet18", "--weights", "random", "--out", tmp_path, "--resolution", "96",
            "--validate-samples", "40"]
    code, out, err = run_cli(*args, "--json")
    assert code == 0, err
    rows = json.loads(out)
    assert [(r["format"], r["precision"]) for r in rows] == [
        ("onnx", "fp32"), ("openvino", "fp32"), ("tflite", "fp32")]
    assert all(r["status"] == "ok" and r["cached"] is False and r["validation"]["samples"] == 40
               for r in rows)
    code, out, _ = run_cli(*args)
    assert code == 0 and out.count("hit") == 3 and "tflite-fp32" in out


def _checkpoint(tmp_path, kind):
    path = tmp_path / f"{kind}.pt"
    if kind == "corrupt":
        path.write_bytes(b"\x00garbage" * 64)
    elif kind == "truncated":
        torch.save(torchvision.models.resnet18().state_dict(), path)
        path.write_bytes(path.read_bytes()[:1000])
    elif kind == "other_arch":
        torch.save(torchvision.models.resnet34().state_dict(), path)
    return path


BAD_INPUTS = {
    "unknown model": (["export", "resnet5"], 2, ["unknown model", "resnet50"]),
    "unknown format": (["export", "resnet18", "--formats", "tflitee", "--weights", "random"], 2,
                       ["unknown format", "onnx"]),
    "zero resolution": (["export", "resnet18", "--weights", "random", "--resolution", "0"], 2,
                        ["--resolution must be a whole number from 16"]),
    "negative resolution": (["export", "resnet18", "--weights", "random", "--resolution", "-224"],
                            2, ["--resolution must be a whole number from 16"]),
    "bad opset": (["export", "resnet18", "--weights", "random", "--opset", "99"], 2, ["--opset"]),
    "missing checkpoint": (["export", "resnet18", "--weights", "{tmp}/nope.pt"], 2, ["does not exist"]),
    "corrupt checkpoint": (["export", "resnet18", "--weights", "{corrupt}"], 2, ["cannot read"]),
    "truncated checkpoint": (["export", "resnet18", "--weights", "{truncated}"], 2, ["cannot read"]),
    "checkpoint of another architecture": (["export", "resnet18", "--weights", "{other_arch}"], 2,
                                           ["does not fit resnet18"]),
    "unwritable output": (["export", "resnet18", "--weights", "random", "--out", "{blocker}/sub"], 7,
                          ["not writable", "--out"]),
    "unknown info model": (["info", "efficientnet_b9"], 2, ["did you mean"]),
    "converter for another format": (["export", "resnet18", "--weights", "random", "--formats", "onnx",
                                      "--converter", "onnx2tf"], 2,
                                     ["--converter onnx2tf makes tflite only", "--formats tflite"]),
    "unknown converter": (["export", "resnet18", "--weights", "random", "--converter", "tf2onnx"], 2,
                          ["tf2onnx", "onnx2tf"]),
    "converter with a floor": (["export", "resnet18", "--weights", "random", "--formats", "tflite",
                                "--int8", "--converter", "onnx2tf", "--accuracy-floor", "99%"], 2,
                               ["drop --converter or --accuracy-floor"]),
}


def _materialise(args, tmp_path):
    args = [*args, "--formats", "onnx", "--validate-samples", "16"] if args[0] == "export" and \
        "--formats" not in args else args
    blocker = tmp_path / "blocker"
    blocker.write_text("a file, not a folder")
    values = {"tmp": tmp_path, "blocker": blocker}
    for kind in ("corrupt", "truncated", "other_arch"):
        if any("{" + kind + "}" in a for a in args):
            values[kind] = _checkpoint(tmp_path, kind)
    out = [a.format(**values) for a in args]
    if "--out" not in out and out[0] == "export":
        out += ["--out", str(tmp_path / "art")]
    return out


@pytest.mark.parametrize("case", list(BAD_INPUTS))
def test_bad_input_in_process(run_cli, tmp_path, case):
    args, expected, needles = BAD_INPUTS[case]
    code, _, err = run_cli(*_materialise(args, tmp_path))
    assert_one_line_error(code, err, *needles, expected_code=expected)
    assert no_valid_artifact_left(tmp_path / "art")


@pytest.mark.parametrize("case", ["unknown model", "corrupt checkpoint", "unwritable output"])
def test_bad_input_as_subprocess(run_subprocess, tmp_path, case):
    args, expected, needles = BAD_INPUTS[case]
    code, _, err = run_subprocess(*_materialise(args, tmp_path))
    assert_one_line_error(code, err, *needles, expected_code=expected)


@pytest.mark.slow
def test_export_as_subprocess_and_failed_validation_exit_code(run_subprocess, tmp_path):
    code, out, err = run_subprocess("export", "mobilenet_v3_large", "--weights", "random",
                                    "--formats", "onnx", "--resolution", "64", "--validate-samples",
                                    "32", "--out", tmp_path, "--json")
    assert code == 0, err
    assert json.loads(out)[0]["status"] == "ok"
    state = torchvision.models.resnet18(num_classes=5).state_dict()
    state["fc.bias"][:] = float("inf")
    torch.save(state, tmp_path / "inf.pt")
    code, out, err = run_subprocess("export", "resnet18", "--weights", tmp_path / "inf.pt",
                                    "--formats", "onnx", "--validate-samples", "16", "--out", tmp_path)
    assert_one_line_error(code, err, "validation failed", "artifact kept", expected_code=4)
    assert (tmp_path / "resnet18" / "onnx-fp32" / "model.onnx").is_file()
