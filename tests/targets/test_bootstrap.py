"""What `edgebench targets bootstrap --runtimes` installs is read from the runtimes' rows."""

import pytest

from edgebench import formats
from edgebench.errors import UserInputError
from edgebench.targets.bootstrap import BOARD_PACKAGES, DEFAULT_PACKAGES, BoardPackage, parse_packages
from edgebench.targets.profiles import VENV


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


def test_runtimes_are_named_or_pinned_on_a_board():
    assert [p.name for p in parse_packages(None)] == list(DEFAULT_PACKAGES)
    (pinned,) = parse_packages("onnxruntime==1.16.3")
    assert (pinned.runtime, pinned.venv, pinned.numpy) == ("onnxruntime", "venv-onnxruntime-1.16.3",
                                                          "numpy<2")
    with pytest.raises(UserInputError, match="unknown runtime torch for --runtimes"):
        parse_packages("torch")
