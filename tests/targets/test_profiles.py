"""Target profiles in targets.toml and edgebench's own known_hosts, in a config folder of
each test's own."""

import pytest

from edgebench.errors import UserInputError
from edgebench.targets import profiles
from edgebench.targets.profiles import Profile

KEY_A = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA comment-is-dropped"
KEY_B = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIB"


@pytest.fixture(autouse=True)
def config(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    return tmp_path / "edgebench"


def test_the_files_live_in_the_config_folder(config):
    assert profiles.profiles_file() == config / "targets.toml"
    assert profiles.known_hosts_file() == config / "known_hosts"


def test_profiles_survive_the_toml_file(config):
    full = Profile("pi-4.lab", "10.0.0.7", port=2200, user="pi", key="/keys/id \"x\"", emulated=True,
                   board="rpi4", workdir="bench", venvs={"default": "venv", "tflite": "venv-tfl"})
    bare = Profile("b", "host.example")
    profiles.save(full)
    profiles.save(bare)
    assert profiles.load() == {"pi-4.lab": full, "b": bare}
    assert "None" not in (config / "targets.toml").read_text()  # an unset field is left out
    assert profiles.get("b") == bare
    assert profiles.update("b", port=2022) == profiles.get("b") == Profile("b", "host.example", 2022)
    assert profiles.delete("b") and not profiles.delete("b")
    assert list(profiles.load()) == ["pi-4.lab"]


def test_python_is_the_runtimes_venv_else_the_default():
    p = Profile("p", "h", workdir="w", venvs={"default": "venv", "tflite": "venv-tfl"})
    assert p.python() == "w/venv/bin/python" == p.python("onnxruntime")
    assert p.python("tflite") == "w/venv-tfl/bin/python"


@pytest.mark.parametrize("text,needle", [
    ("[targets.x\n", "cannot read"),
    ("targets = 3\n", "[targets] is not a table"),
    ('[targets.x]\nhost = "h"\ncolour = "red"\n', "unknown keys colour"),
    ("[targets.x]\nport = 22\n", "malformed"),
])
def test_a_bad_file_is_one_line_naming_it(config, text, needle):
    config.mkdir(parents=True)
    (config / "targets.toml").write_text(text)
    with pytest.raises(UserInputError, match="remove") as caught:
        profiles.load()
    assert needle in str(caught.value) and str(config / "targets.toml") in str(caught.value)


def test_names_and_ports_are_checked():
    assert profiles.check_name("pi4_a.b-c") == "pi4_a.b-c" and profiles.check_port(65535) == 65535
    for bad in ("local", "a b", "-x", "x" * 65, ""):
        with pytest.raises(UserInputError):
            profiles.check_name(bad)
    for bad in (0, 65536):
        with pytest.raises(UserInputError, match="not a TCP port"):
            profiles.check_port(bad)
    with pytest.raises(UserInputError, match="targets add"):
        profiles.get("nope")


def test_a_pinned_key_replaces_the_old_one_in_openssh_form(config):
    pi = Profile("pi", "10.0.0.7", port=2200)
    assert pi.known_hosts_name() == "[10.0.0.7]:2200" and Profile("q", "h").known_hosts_name() == "h"
    profiles.pin_host_key(pi, KEY_A)
    profiles.pin_host_key(Profile("other", "10.0.0.8"), KEY_A)
    assert profiles.pinned_keys(pi) == [" ".join(KEY_A.split()[:2])]
    profiles.pin_host_key(pi, KEY_B)
    assert profiles.pinned_keys(pi) == [KEY_B]
    assert (config / "known_hosts").read_text().splitlines() == [
        "10.0.0.8 " + " ".join(KEY_A.split()[:2]), f"[10.0.0.7]:2200 {KEY_B}"]


def test_removing_a_profile_forgets_its_key_unless_another_uses_the_host(config):
    first, second = Profile("first", "10.0.0.9"), Profile("second", "10.0.0.9")
    for p in (first, second):
        profiles.save(p)
    profiles.pin_host_key(first, KEY_A)
    profiles.delete("first")
    assert profiles.pinned_keys(second)  # still used by "second"
    profiles.delete("second")
    assert profiles.pinned_keys(second) == []
