"""What ``targets bootstrap`` installs where, decided on the host (no board needed), read from
the runtimes' rows."""

import subprocess
from importlib import metadata

import pytest

from edgebench import formats
from edgebench.envs import why_failed
from edgebench.errors import UserInputError
from edgebench.targets.bootstrap import (BOARD_PACKAGES, DEFAULT_PACKAGES, BoardPackage, bootstrap,
                                         parse_packages, platform_tags)
from edgebench.targets.profiles import VENV


@pytest.mark.parametrize("name", BOARD_PACKAGES)
def test_every_board_package_is_a_runtimes_choice(name):
    (package,) = parse_packages(name)
    assert package is BOARD_PACKAGES[name]
    assert package.requirement().startswith(package.distribution)


def test_the_default_is_the_three_runtimes_in_one_environment():
    packages = parse_packages(None)
    assert tuple(p.name for p in packages) == DEFAULT_PACKAGES == tuple(p.name for p in parse_packages(""))
    assert {p.venv for p in packages} == {VENV}


def test_a_host_runtime_is_pinned_to_the_hosts_version():
    (ort,) = parse_packages("onnxruntime")
    assert ort.requirement() == f"onnxruntime=={metadata.version('onnxruntime')}"
    (old,) = parse_packages("tflite-runtime")
    assert old.requirement() == "tflite-runtime"  # numpy 1.x: whatever the board takes


def test_a_pinned_version_gets_its_own_environment():
    (pinned,) = parse_packages("onnxruntime==1.16.3")
    assert pinned.requirement() == "onnxruntime==1.16.3" and pinned.runtime == "onnxruntime"
    assert pinned.venv.startswith("venv-") and pinned.venv != VENV and not pinned.pin_to_host


@pytest.mark.parametrize("text,needle", [("tensorrt", "unknown runtime tensorrt"),
                                         (" , ", "unknown runtime (none)")])
def test_an_unknown_runtime_names_the_choices(text, needle):
    with pytest.raises(UserInputError, match="choose from onnxruntime, openvino") as caught:
        parse_packages(text)
    assert needle in str(caught.value)


def test_a_bad_wheel_source_is_refused_before_the_board_is_touched():
    with pytest.raises(UserInputError, match="--wheels 'pypi': choose from auto, board, host"):
        bootstrap(None, parse_packages(None), wheels="pypi")


def test_platform_tags_go_from_the_boards_glibc_down():
    tags = platform_tags("aarch64", "2.36")
    assert tags[0] == "manylinux_2_36_aarch64" and tags[-3] == "manylinux_2_17_aarch64"
    assert tags[-2:] == ["manylinux2014_aarch64", "linux_aarch64"]
    assert platform_tags("armv7l", None)[0] == "manylinux_2_17_armv7l"  # unknown: the oldest


@pytest.mark.parametrize("stdout,stderr,expected", [
    ("", "Collecting x\nERROR: No matching distribution for x\nmore\n",
     "ERROR: No matching distribution for x"),
    ("", "Collecting x\nlast words\n", "last words"),
    ("from stdout\n", "", "from stdout"),
    ("", "", "exit 3"),
])
def test_why_failed_is_pips_error_line_else_the_last(stdout, stderr, expected):
    assert why_failed(subprocess.CompletedProcess([], 3, stdout, stderr)) == expected


def test_the_board_packages_are_the_previous_hand_written_ones():
    assert BOARD_PACKAGES == {p.name: p for p in (
        BoardPackage("onnxruntime", "onnxruntime", "onnxruntime", VENV),
        BoardPackage("openvino", "openvino", "openvino", VENV),
        BoardPackage("tflite", "tflite", "ai-edge-litert", VENV),
        BoardPackage("tflite-runtime", "tflite", "tflite-runtime", "venv-tflite-runtime",
                     numpy="numpy<2", pin_to_host=False),
    )}
    assert DEFAULT_PACKAGES == ("onnxruntime", "openvino", "tflite")


@pytest.mark.parametrize("package", BOARD_PACKAGES.values(), ids=lambda p: p.name)
def test_each_board_package_serves_a_runtime_that_lists_it(package):
    spec = formats.RUNTIMES[package.runtime]
    assert package.distribution in spec.board_packages
    numpy1 = spec.distribution(package.distribution).numpy2_from is None
    assert (package.numpy == "numpy<2") == numpy1 == (package.venv != VENV)


def test_a_pinned_runtime_on_a_board_takes_the_numpy_of_its_time():
    (pinned,) = parse_packages("onnxruntime==1.16.3")
    assert (pinned.runtime, pinned.venv, pinned.numpy) == ("onnxruntime", "venv-onnxruntime-1.16.3",
                                                          "numpy<2")
    with pytest.raises(UserInputError, match="unknown runtime torch for --runtimes"):
        parse_packages("torch")
