"""The emulated boards: their registry and paths (no root needed). What needs a running board
is in test_emulated.py: one test file, so one test process, owns the board."""

from __future__ import annotations

import pytest

from edgebench.errors import UserInputError
from edgebench.targets import emulate
from edgebench.targets.emulate import BOARDS, EmulationError


@pytest.mark.parametrize("name", BOARDS)
def test_each_board_shows_four_arm_cores_of_its_model(name):
    spec = emulate.board(name)
    assert spec.name == name and spec.qemu_cpu.startswith("cortex-a")
    lines = spec.cpuinfo.splitlines()
    assert [line for line in lines if line.startswith("processor")] == \
        [f"processor\t: {n}" for n in range(4)]
    assert lines[-1].startswith("Model\t\t: Raspberry Pi")
    assert {line.split(":", 1)[1].strip() for line in lines if line.startswith("CPU implementer")} \
        == {"0x41"}  # Arm
    assert "sve" not in spec.cpuinfo  # the runtimes' slow paths on qemu's default CPU


def test_the_pi5_has_the_fp16_and_dot_product_extensions_the_pi4_lacks():
    flags = {name: set(b.cpuinfo.split("Features\t: ")[1].splitlines()[0].split())
             for name, b in BOARDS.items()}
    assert {"fphp", "asimdhp", "asimddp"} <= flags["rpi5"]
    assert not {"fphp", "asimdhp", "asimddp"} & flags["rpi4"]


def test_an_unknown_board_names_the_choices():
    with pytest.raises(UserInputError, match="unknown board 'rpi9': choose from rpi4, rpi5"):
        emulate.board("rpi9")


def test_a_board_that_was_never_built(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    paths = emulate.Paths.of("rpi4")
    assert paths.root == tmp_path / "edgebench" / "boards" / "rpi4"
    assert paths.rootfs == paths.root / "rootfs" and not paths.built
    assert emulate.running("rpi4") is None and emulate.stop("rpi4") is False
    assert emulate.remove("rpi4") is False
    with pytest.raises(EmulationError, match="rebuild it"):
        emulate.host_key("rpi4")
    (paths.rootfs / "usr/sbin").mkdir(parents=True)
    (paths.rootfs / "usr/sbin/sshd").write_text("")
    assert paths.built
    assert emulate.remove("rpi4") is True and not paths.root.exists()
