"""Hostile and odd input against every command: one line, an exit code, nothing lost.

Each class of hostile input has its tests here, parametrised over the commands
that take the input: ranges, ignored combinations, untrusted files, manifests, special
files, downloads, signals, concurrency, output failures, strict JSON, telemetry.
"""

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from PIL import Image

from edgebench import artifacts, limits
from edgebench.agent import Job
from edgebench.harness import HarnessSettings
from edgebench.results import Status
from edgebench.runtimes import ModelRef
from edgebench.targets import run_agent
from edgebench.targets.local import LocalTarget
from tests.helpers import alive, assert_one_line_error, children, no_valid_artifact_left

QUICK = ["--warmup", "0", "--min-runs", "3", "--min-seconds", "0"]
EXPORT = ["export", "resnet18", "--weights", "random", "--formats", "onnx", "--resolution", "64",
          "--validate-samples", "16"]

# ---- every option has a range --------------------------------------------------------------

RANGES = [
    # (command, option, value, needle)
    ("bench", "--threads", "nan", "--threads must be a whole number from 1 to"),
    ("bench", "--threads", "inf", "--threads must be"),
    ("bench", "--threads", str(limits.MAX_THREADS + 1), "--threads must be"),
    ("bench", "--threads", "-2", "--threads must be"),
    ("bench", "--threads", "two", "got 'two'"),
    ("bench", "--threads", "1.5", "--threads must be a whole number"),
    ("bench", "--batch", "1e12", "--batch must be"),
    ("bench", "--warmup", "-1", "--warmup must be"),
    ("bench", "--min-runs", "0", "--min-runs must be"),
    ("bench", "--min-seconds", "nan", "--min-seconds must be"),
    ("bench", "--min-seconds", "-1", "--min-seconds must be"),
    ("bench", "--max-seconds", "-1", "--max-seconds must be"),
    ("bench", "--max-seconds", "inf", "--max-seconds must be"),
    ("bench", "--timeout", "nan", "--timeout must be"),
    ("bench", "--timeout", "inf", "--timeout must be"),
    ("bench", "--timeout", "1e300", "--timeout must be"),
    ("export", "--resolution", "1e9", "--resolution must be"),
    ("export", "--resolution", "nan", "--resolution must be"),
    ("export", "--resolution", "0", "--resolution must be"),
    ("export", "--validate-samples", "1e12", "--validate-samples must be"),
    ("export", "--validate-samples", "0", "--validate-samples must be"),
    ("export", "--min-top1-agreement", "nan", "--min-top1-agreement must be"),
    ("export", "--min-top1-agreement", "1.5", "--min-top1-agreement must be"),
    ("export", "--opset", "nan", "--opset must be"),
    ("export", "--calib", "random:0", "sample count must be from 1"),
    ("export", "--calib", f"random:{limits.MAX_SAMPLES + 1}", "sample count must be from 1"),
    ("export", "--calib", "fashion-mnist:train:0", "sample count N of D:split:N must be"),
    ("train", "--epochs", "0", "--epochs must be a whole number from 1"),
    ("train", "--epochs", "nan", "--epochs must be"),
    ("train", "--lr", "inf", "--lr must be"),
    ("train", "--lr", "0", "--lr must be"),
    ("train", "--batch", "0", "--batch must be"),
    ("train", "--resolution", "8", "--resolution must be"),
    ("eval", "--threads", "nan", "--threads must be"),
    ("eval", "--batch", "0", "--batch must be"),
    ("eval", "--timeout", "inf", "--timeout must be"),
    ("eval", "--dataset", "fashion-mnist:test:0", "sample count N of D:split:N must be"),
    ("eval", "--dataset", f"fashion-mnist:test:{limits.MAX_SAMPLES + 1}", "must be"),
]
COMMANDS = {"bench": lambda arts, out: ["bench", arts["onnx"], *QUICK],
            "export": lambda arts, out: [*EXPORT, "--int8", "--out", out],
            "train": lambda arts, out: ["train", "resnet18", "--dataset", "fashion-mnist:train:64",
                                        "--out", out / "ckpt.pt"],
            "eval": lambda arts, out: ["eval", arts["onnx"], "--dataset", "fashion-mnist:test:8"]}


@pytest.mark.parametrize("command,option,value,needle", RANGES,
                         ids=[f"{c}{o}={v}" for c, o, v, _ in RANGES])
def test_numbers_out_of_range_are_one_line(run_cli, small_artifacts, tmp_path, command, option,
                                           value, needle):
    args = COMMANDS[command](small_artifacts, tmp_path / "art")
    code, out, err = run_cli(*args, option, value)
    assert_one_line_error(code, err, needle, expected_code=2)
    assert out == "" and no_valid_artifact_left(tmp_path / "art")


@pytest.mark.parametrize("command,rng", [
    ("bench", limits.THREADS), ("bench", limits.BATCH), ("bench", limits.TIMEOUT),
    ("bench", limits.WARMUP), ("export", limits.RESOLUTION), ("export", limits.VALIDATE_SAMPLES),
    ("train", limits.EPOCHS), ("train", limits.RESOLUTION), ("eval", limits.THREADS),
])
def test_ranges_are_stated_in_help(run_cli, command, rng):
    _, out, _ = run_cli(command, "--help")
    assert rng.describe() in " ".join(out.split())  # click wraps help text


def test_max_seconds_below_min_seconds(run_cli, small_artifacts):
    code, _, err = run_cli("bench", small_artifacts["onnx"], "--min-seconds", "5", "--max-seconds", "1")
    assert_one_line_error(code, err, "--max-seconds 1 is below --min-seconds 5", expected_code=2)


def test_more_samples_than_memory_holds(run_cli, tmp_path):
    code, _, err = run_cli("export", "resnet18", "--weights", "random", "--resolution", "4096",
                           "--validate-samples", "100000", "--out", tmp_path)
    assert_one_line_error(code, err, "GiB", "use at most", expected_code=2)


@pytest.mark.parametrize("args,needle", [
    (["bench", "--bogus"], "No such option '--bogus'"),
    (["nonsense"], "No such command 'nonsense'"),
    (["export"], "Missing argument 'MODEL'"),
])
def test_usage_errors_are_one_line(run_cli, args, needle):
    code, _, err = run_cli(*args)
    assert_one_line_error(code, err, needle, "--help", expected_code=2)


def test_validate_needs_a_board_on_the_other_side(run_cli, small_artifacts):
    code, _, err = run_cli("validate", small_artifacts["onnx"], "--target", "local")
    assert_one_line_error(code, err, "validate compares a target with this host",
                          "--target rpi4", expected_code=2)
    code, _, err = run_cli("validate", small_artifacts["onnx"], "--target", "pi9")
    assert_one_line_error(code, err, "unknown target 'pi9'", expected_code=2)


def test_an_unknown_runtime_lists_the_known_ones_and_how_to_pin(run_cli):
    code, _, err = run_cli("bench", "x", "--runtime", "tensorflow")
    assert_one_line_error(code, err, "unknown runtime 'tensorflow': choose from onnxruntime",
                          "onnxruntime==1.16.3", expected_code=2)


# ---- options that do nothing are said so --------------------------------------------------

@pytest.mark.parametrize("extra,needle", [
    (["--calib", "random:4"], "--calib has no effect"),
    (["--min-top1-agreement", "0.5"], "--min-top1-agreement has no effect"),
])
def test_ignored_options_are_warned_about(run_cli, tmp_path, extra, needle):
    code, _, err = run_cli(*EXPORT, "--out", tmp_path, *extra)
    assert code == 0 and f"warning: {needle}" in err


def test_dynamic_batch_for_tflite_is_warned_about(run_cli, tmp_path):
    code, _, err = run_cli("export", "resnet18", "--weights", "random", "--formats", "onnx,tflite",
                           "--resolution", "64", "--validate-samples", "8", "--dynamic-batch",
                           "--out", tmp_path)
    assert code == 0 and "--dynamic-batch does not apply to tflite" in err


def test_an_fp16_file_not_smaller_than_fp32_is_not_ok(tmp_path):
    from edgebench import formats
    from edgebench.export.pipeline import _not_smaller
    from edgebench.manifest import InputSpec, Manifest, ModelInfo, WeightsInfo

    base = tmp_path / "onnx-fp32"
    base.mkdir()
    (base / "model.onnx").write_bytes(b"x" * 1000)
    stage = tmp_path / "stage"
    stage.mkdir()
    (stage / "model.onnx").write_bytes(b"x" * 1000)
    artifacts.commit(stage, base, Manifest(model=ModelInfo(name="m", resolution=8),
                                           weights=WeightsInfo("random"), format="onnx",
                                           precision="fp32", input=InputSpec("i", (1,), "float32"),
                                           files=artifacts.describe_files(stage),
                                           status=Status.OK))
    fp16 = formats.lookup("onnx", "fp16")
    assert "fp16 file is 0.98 of the FP32" in _not_smaller(fp16, base / "model.onnx", 980)
    assert _not_smaller(fp16, base / "model.onnx", 500) is None
    assert _not_smaller(formats.lookup("openvino", "bf16"), base / "model.onnx", 1000) is None


# ---- nothing from outside is trusted -------------------------------------------------------

def test_hostile_images_in_a_calibration_folder_are_skipped_and_counted(tmp_path):
    from edgebench import zoo
    from edgebench.data.datasets import CalibrationSpec

    folder = tmp_path / "calib"
    folder.mkdir()
    Image.new("RGB", (40, 30), (200, 10, 10)).save(folder / "good.png")
    Image.new("1", (30_000, 30_000)).save(folder / "bomb.png")  # over Pillow's pixel limit
    (folder / "truncated.png").write_bytes((folder / "good.png").read_bytes()[:60])
    (folder / "text.jpg").write_text("not an image")
    samples = CalibrationSpec(str(folder), 10).load(zoo.get("resnet18").preprocess.at_resolution(32))
    assert len(samples) == 1 and samples.skipped == 3


def _manifest(folder: Path) -> dict:
    return json.loads((folder / "manifest.json").read_text())


MANIFEST_DAMAGE = {
    "not json": lambda m: "{not json",
    "a list": lambda m: [],
    "no input": lambda m: {k: v for k, v in m.items() if k != "input"},
    "size is text": lambda m: {**m, "size_bytes": "big"},
    "other schema": lambda m: {**m, "schema_version": 99},
    "name outside": lambda m: {**m, "file": {**m["file"], "name": "../../etc/passwd"},
                               "files": [{**m["file"], "name": "../../etc/passwd"}]},
    "absolute name": lambda m: {**m, "file": {**m["file"], "name": "/etc/passwd"},
                                "files": [{**m["file"], "name": "/etc/passwd"}]},
}


@pytest.mark.parametrize("damage", MANIFEST_DAMAGE)
def test_a_malformed_manifest_is_a_clean_error_naming_the_file(run_cli, small_artifacts, tmp_path,
                                                                damage):
    folder = shutil.copytree(small_artifacts["onnx"], tmp_path / "onnx-fp32")
    bad = MANIFEST_DAMAGE[damage](_manifest(folder))
    (folder / "manifest.json").write_text(bad if isinstance(bad, str) else json.dumps(bad))
    code, _, err = run_cli("bench", folder, *QUICK)
    assert_one_line_error(code, err, str(folder / "manifest.json"), "not a valid edgebench manifest",
                          expected_code=2)


@pytest.mark.parametrize("change", ["same size", "truncated", "missing"])
def test_a_model_file_changed_after_export_is_refused(run_cli, small_artifacts, tmp_path, change):
    folder = shutil.copytree(small_artifacts["onnx"], tmp_path / "onnx-fp32")
    model = folder / "model.onnx"
    data = bytearray(model.read_bytes())
    if change == "same size":
        data[-10] ^= 0xFF
        model.write_bytes(bytes(data))
    elif change == "truncated":
        model.write_bytes(bytes(data[:100]))
    else:
        model.unlink()
    code, out, err = run_cli("bench", folder, *QUICK)
    assert_one_line_error(code, err, "model.onnx", expected_code=2)
    assert out == ""


def test_the_export_cache_compares_content_not_size(run_cli, tmp_path):
    args = [*EXPORT, "--out", tmp_path, "--json"]
    assert run_cli(*args)[0] == 0
    model = tmp_path / "resnet18" / "onnx-fp32" / "model.onnx"
    data = bytearray(model.read_bytes())
    data[-10] ^= 0xFF  # same size, other bytes
    model.write_bytes(bytes(data))
    code, out, err = run_cli(*args)
    assert code == 0, err
    (cell,) = json.loads(out)
    assert cell["cached"] is False and cell["status"] == "ok"


@pytest.mark.parametrize("where", ["bench", "weights"])
@pytest.mark.parametrize("kind", ["fifo", "device"])
def test_special_files_are_refused_before_any_runtime_opens_them(run_cli, tmp_path, where, kind):
    path = tmp_path / ("model.onnx" if where == "bench" else "ckpt.pt")
    if kind == "fifo":
        os.mkfifo(path)
    else:
        path.symlink_to("/dev/zero")
    args = ["bench", path] if where == "bench" else [*EXPORT, "--weights", path, "--out", tmp_path / "o"]
    code, _, err = run_cli(*args)
    assert_one_line_error(code, err, "not a regular file", expected_code=2)


def test_downloads_are_https_and_checked(tmp_path, monkeypatch):
    import io
    import urllib.request

    from edgebench.data import fashion_mnist

    with pytest.raises(OSError, match="plain HTTP"):
        fashion_mnist._download(tmp_path, ("t10k-labels-idx1-ubyte.gz",), "http://example.invalid/")

    class Response(io.BytesIO):
        def __enter__(self):
            return self

    monkeypatch.setattr(urllib.request, "urlopen", lambda url, timeout: Response(b"tampered"))
    with pytest.raises(OSError, match="not the published"):
        fashion_mnist._download(tmp_path, ("t10k-labels-idx1-ubyte.gz",))
    assert not list(tmp_path.iterdir())  # nothing half-fetched or unverified is kept


# ---- signals and concurrency ---------------------------------------------------------------

def _cli(*args):
    return [sys.executable, "-m", "edgebench", *map(str, args)]


def _wait_for_agent(proc: subprocess.Popen, timeout_s: float = 120) -> int:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        agents = [p for p in children(proc.pid)
                  if b"edgebench.agent" in Path(f"/proc/{p}/cmdline").read_bytes()]
        if agents:
            return agents[0]
        time.sleep(0.05)
    raise AssertionError("no agent started")


@pytest.mark.parametrize("sig,code,word", [(signal.SIGTERM, 143, "terminated"),
                                           (signal.SIGINT, 130, "interrupted")])
def test_a_signal_ends_the_command_and_its_agents(small_artifacts, sig, code, word):
    proc = subprocess.Popen(_cli("bench", small_artifacts["onnx"], "--min-seconds", "600",
                                 "--max-seconds", "600", "--timeout", "900"),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    agent = _wait_for_agent(proc)
    time.sleep(1.0)
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=60)
    assert_one_line_error(proc.returncode, err, word, expected_code=code)
    time.sleep(0.2)
    assert not alive(agent)


def test_sigterm_mid_export_leaves_no_staging(tmp_path):
    proc = subprocess.Popen(_cli(*EXPORT, "--formats", "onnx,openvino", "--out", tmp_path),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not list(tmp_path.rglob(".staging-*")):
        time.sleep(0.02)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=120)
    assert_one_line_error(proc.returncode, err, "terminated", expected_code=143)
    assert not list(tmp_path.rglob(".staging-*"))


def test_an_agent_whose_host_was_killed_exits_by_itself(tmp_path):
    """SIGKILL leaves the host no chance to clean up: the agent notices and ends itself."""
    forever = Job(model=ModelRef(path=None, format="none", input_shape=(1, 4)), runtime="null",
                  harness=HarnessSettings(0, 1, 600, 600)).to_dict()
    pid_file = tmp_path / "agent.pid"
    code = ("import json, sys\nfrom edgebench.targets import run_agent\n"
            "from edgebench.targets.local import LocalTarget\n"
            f"run_agent(LocalTarget(), json.loads(sys.argv[1]), 900, "
            f"lambda pid: open({str(pid_file)!r}, 'w').write(str(pid)))\n")
    host = subprocess.Popen([sys.executable, "-c", code, json.dumps(forever)])
    deadline = time.monotonic() + 60
    while not (pid_file.exists() and pid_file.read_text()) and time.monotonic() < deadline:
        time.sleep(0.05)
    agent = int(pid_file.read_text())
    # killed at once: the agent may still be importing, before it has looked at its parent
    host.kill()
    host.wait()
    deadline = time.monotonic() + 10
    while alive(agent) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not alive(agent)


def test_a_runaway_agent_ends_on_its_memory_limit_not_the_timeout():
    job = Job(model=ModelRef(path=None, format="none", input_shape=(1, 4)), runtime="null",
              harness=HarnessSettings(0, 1, 600, 600), memory_mb=1.0)
    reply = run_agent(LocalTarget(), job.to_dict(), 120)
    assert reply.status == Status.CRASHED and "out of memory" in reply.reason
    assert "--timeout" not in reply.reason


def test_two_exports_into_one_folder_take_turns(tmp_path):
    argv = _cli(*EXPORT, "--out", tmp_path, "--json")
    first = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(0.5)
    second = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    (out1, err1), (out2, err2) = first.communicate(timeout=600), second.communicate(timeout=600)
    assert first.returncode == 0 and second.returncode == 0, (err1, err2)
    cells = json.loads(out1) + json.loads(out2)
    assert [c["status"] for c in cells] == ["ok", "ok"]
    assert sorted(c["cached"] for c in cells) == [False, True]  # the second reused the first's
    assert artifacts.read(tmp_path / "resnet18" / "onnx-fp32").status == "ok"


# ---- output machines can read, and output that cannot be written ---------------------------

@pytest.mark.parametrize("sink", ["closed pipe", "full disk"])
def test_a_failed_write_of_the_output_is_one_line(sink):
    if sink == "full disk" and not os.path.exists("/dev/full"):
        pytest.skip("/dev/full is not on this system")
    argv = _cli("list", "--json")
    if sink == "full disk":
        with open("/dev/full", "w") as full:
            proc = subprocess.run(argv, stdout=full, stderr=subprocess.PIPE, text=True, timeout=120)
        err, code = proc.stderr, proc.returncode
    else:
        proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        proc.stdout.close()  # the reader is gone before anything is written
        err, code = proc.stderr.read(), proc.wait(timeout=120)
    assert_one_line_error(code, err, "cannot write the results", expected_code=7)


def test_json_and_manifests_are_strict_even_for_a_failed_validation(run_subprocess, tmp_path):
    import torch
    import torchvision

    state = torchvision.models.resnet18(num_classes=5).state_dict()
    state["fc.bias"][:] = float("nan")
    torch.save(state, tmp_path / "nan.pt")
    code, out, _ = run_subprocess("export", "resnet18", "--weights", tmp_path / "nan.pt", "--formats",
                                  "onnx", "--validate-samples", "8", "--out", tmp_path, "--json")

    def refuse(constant):
        raise AssertionError(f"non-strict JSON constant {constant}")

    assert code == 4
    (cell,) = json.loads(out, parse_constant=refuse)
    assert cell["status"] == "failed" and cell["validation"]["max_abs_diff"] is None
    json.loads((tmp_path / "resnet18" / "onnx-fp32" / "manifest.json").read_text(),
               parse_constant=refuse)


# ---- privacy -------------------------------------------------------------------------------

def test_no_runtime_telemetry_is_written(small_artifacts, tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("CI", "TF_BUILD", "JENKINS_URL")}
    env.update(HOME=str(home), XDG_CACHE_HOME=str(home / ".cache"))
    proc = subprocess.run(_cli("bench", small_artifacts["onnx"], *QUICK), capture_output=True,
                          text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr
    written = sorted(str(p.relative_to(home)) for p in home.rglob("*") if p.is_file())
    assert not [p for p in written if "Microsoft" in p or p.startswith("intel")], written
