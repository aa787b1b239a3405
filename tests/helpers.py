"""Assertions and small builders shared by the tests."""

import shutil
from pathlib import Path

import click
import pytest

from edgebench import formats, zoo
from edgebench.runtimes import ModelRef
from edgebench.zoo.reference import torch_reference
from edgebench.zoo.weights import resolve as resolve_weights

# The old runtimes the tests pin (their own environments; `make test-setup` makes them once).
OLD_ORT = "onnxruntime==1.16.3"  # before 1.18: refuses unknown opset import versions
OLD_TFLITE = "tflite-runtime==2.14.0"  # the last aarch64 wheel; no XNNPACK for integer models
PINNED_RUNTIMES = (OLD_ORT, OLD_TFLITE)
# The session's trained checkpoint is tested on the first 2,000 test images, not all 10,000
TEST_SAMPLES = 2000
# torch.compile on the CPU builds C++ kernels: without a compiler those cells are load_failed
needs_cxx = pytest.mark.skipif(shutil.which("g++") is None and shutil.which("c++") is None,
                               reason="needs a C++ compiler for torch.compile on the CPU "
                                      "(tools/setup-system installs g++ as root)")


def assert_one_line_error(code: int, stderr: str, *needles: str, expected_code: int | None = None):
    """A bad input ends with one `error:` line, a non-zero exit and no traceback."""
    assert code != 0
    if expected_code is not None:
        assert code == expected_code, stderr
    assert "Traceback" not in stderr
    lines = [line for line in stderr.strip().splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), stderr
    for needle in needles:
        assert needle in lines[0], lines[0]


def assert_help(run_cli, command: click.Command, *path: str) -> str:
    """`edgebench PATH --help` shows an example of PATH and every option ``command`` declares;
    returns the help with its whitespace collapsed (click wraps help text)."""
    code, out, err = run_cli(*path, "--help")
    assert code == 0, err
    assert "Example" in out and f"  edgebench {' '.join(path)} " in out, out
    for param in command.params:
        if isinstance(param, click.Option):
            for name in (*param.opts, *param.secondary_opts):
                assert name in out, f"{name} missing from {' '.join(path)} --help"
    return " ".join(out.split())


def assert_usage_error(run_cli, where: str, args, *needles: str) -> None:
    """A command line click refuses: one line naming the problem and `WHERE --help`, exit 2,
    nothing on standard output."""
    code, out, err = run_cli(*args)
    assert_one_line_error(code, err, *needles, f"{where} --help'", expected_code=2)
    assert out == ""


def no_valid_artifact_left(root: Path) -> bool:
    """Nothing a later run could take for a valid artifact: no manifest, no staging dir."""
    if not root.exists():
        return True
    return not list(root.rglob("manifest.json")) and not list(root.rglob(".staging-*"))


def validation_runtime(fmt: str) -> str:
    """The runtime the capability table validates (and by default benches) ``fmt`` with."""
    return formats.FORMATS[fmt].runtimes[0]


def torch_ref(name: str = "resnet18", resolution: int = 64) -> ModelRef:
    """The PyTorch reference of a zoo entry, described for the torch backend."""
    entry = zoo.get(name)
    return torch_reference(entry, resolve_weights(entry, "random"), resolution)


def children(pid: int) -> list[int]:
    """The pids whose parent is ``pid`` (from /proc)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def alive(pid: int) -> bool:
    """The process exists and is not a zombie."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def torchvision_entries() -> list[str]:
    """The zoo entries whose ImageNet weights torchvision publishes (with their metadata)."""
    from edgebench.zoo.spec import TorchvisionWeights

    return [n for n in zoo.list_models() if isinstance(zoo.get(n).imagenet, TorchvisionWeights)]


def torchvision_weights(name: str):
    """torchvision's weights enum member of a zoo entry: its meta, url and eval transform."""
    import torchvision.models as tvm

    cls_name, member = zoo.get(name).imagenet.enum.split(".")
    return getattr(getattr(tvm, cls_name), member)
