"""The emulated boards: their registry and paths (no root needed), and building a second
board from the first (the emulated tier: root, qemu-user and debootstrap)."""

from __future__ import annotations

import pytest

from edgebench.errors import UserInputError
from edgebench.targets import emulate, open_target
from edgebench.targets.emulate import BOARDS, EmulationError


def test_a_pi5_board_is_a_copy_with_its_own_host_keys_and_a_cortex_a76(emulated_board):
    """rpi5 is rpi4's Debian copied (seconds), with new host keys and the A76's ISA."""
    from pathlib import Path

    from edgebench.targets import emulate, profiles
    from edgebench.targets.board import client_key
    from edgebench.targets.bootstrap import probe
    from edgebench.targets.ssh import SSHTarget
    from tests.targets.conftest import free_port

    key = client_key()
    emulate.build("rpi5", Path(str(key) + ".pub").read_text())
    port = free_port()
    emulate.start("rpi5", port)
    try:
        assert emulate.host_key("rpi5") != emulate.host_key("rpi4")
        profile = profiles.Profile(name="rpi5-probe", host="127.0.0.1", port=port, user="root",
                                   key=str(key), emulated=True, board="rpi5")
        profiles.pin_host_key(profile, emulate.host_key("rpi5"))
        profiles.save(profile)
        with SSHTarget(profile) as target:
            info = probe(target, "python3")  # the board's own Python, stdlib only
    finally:
        emulate.stop("rpi5")
        profiles.delete("rpi5-probe")
    assert info["arch"] == "aarch64" and info["cpu_model"] == "Cortex-A76"
    # what changes results: FP16 arithmetic (fphp, asimdhp) and dot products (asimddp)
    assert {"fphp", "asimdhp", "asimddp"} <= set(info["isa_flags"])
    with open_target("rpi4") as target:
        pi4 = probe(target, "python3")
    assert pi4["cpu_model"] == "Cortex-A72" and not {"asimdhp", "asimddp"} & set(pi4["isa_flags"])


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
