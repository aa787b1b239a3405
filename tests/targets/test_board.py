"""``targets emulate``'s pieces that need no board: edgebench's own client key and the
runtimes an emulated board gets."""

import stat

from edgebench.targets import board
from edgebench.targets.bootstrap import DEFAULT_PACKAGES, parse_packages


def test_the_client_key_is_made_once_and_owner_only(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    key = board.client_key()
    assert key == tmp_path / "edgebench" / "keys" / "emulated_ed25519"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert stat.S_IMODE(key.parent.stat().st_mode) == 0o700
    public = key.with_name(key.name + ".pub").read_text()
    assert public.startswith("ssh-ed25519 ") and "edgebench-emulated" in public
    private = key.read_bytes()
    assert board.client_key() == key and key.read_bytes() == private  # not made again


def test_an_emulated_board_gets_both_tflite_interpreters():
    packages = parse_packages(",".join(board.EMULATED_PACKAGES))
    assert [p.name for p in packages] == [*DEFAULT_PACKAGES, "tflite-runtime"]
    (old,) = [p for p in packages if p.distribution == "tflite-runtime"]
    assert old.runtime == "tflite" and old.venv != packages[0].venv and old.numpy == "numpy<2"
