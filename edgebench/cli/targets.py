"""``edgebench targets``: boards reached over SSH, and emulated ones."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ..errors import UserInputError
from ..targets import LOCAL, open_target
from ..targets.emulate import BOARDS
from . import options
from .output import emit, output, print_json, say


@click.group()
def targets():
    """Boards reached over SSH, and emulated ones: add, list, check, bootstrap, emulate.

    \b
    Example:
      edgebench targets add pi5 --host pi5.local --user pi
      edgebench targets check pi5
      edgebench targets bootstrap pi5 --runtimes onnxruntime,tflite
      edgebench bench artifacts/resnet18/* --target pi5
    """


def _confirm_key(name: str, host: str, port: int, key: str, accept: bool, old: list[str]) -> None:
    from ..targets.ssh import host_key_fingerprint

    if old:
        say(f"{name}: the host key pinned before: {', '.join(host_key_fingerprint(k) for k in old)}")
    say(f"{name}: {host}:{port} offers host key {key.split()[0]} {host_key_fingerprint(key)}")
    if accept:
        return
    if not sys.stdin.isatty():
        raise UserInputError("no terminal to confirm the host key on: check the "
                                    "fingerprint above, then pass --accept-new-host-key")
    if not click.confirm("Pin this host key for edgebench?", default=False, err=True):
        raise UserInputError("host key not accepted: nothing was changed")


@targets.command("add")
@click.argument("name")
@click.option("--host", required=True, help="Host name or address of the board.")
@click.option("--port", type=int, default=22, show_default=True, help="SSH port.")
@click.option("--user", default=None, help="Login name [default: yours, as ssh does].")
@click.option("--key", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Private key file [default: your SSH agent and ~/.ssh keys].")
@click.option("--accept-new-host-key", "accept", is_flag=True,
              help="Pin the board's host key without asking (scripts; check its fingerprint).")
@options.as_json
def targets_add(name, host, port, user, key, accept, as_json):
    """Add a board: fetch its host key, show its fingerprint, pin it after confirmation.

    The key is pinned in edgebench's own known_hosts file; a changed key is refused later
    (a reflashed board: `edgebench targets rekey NAME`).

    \b
    Example:
      edgebench targets add pi5 --host 192.168.1.50 --user pi --key ~/.ssh/id_ed25519
    """
    from ..targets import profiles
    from ..targets.ssh import fetch_host_key

    profiles.check_name(name)
    profiles.check_port(port)
    if name in profiles.load():
        raise UserInputError(f"target {name!r} exists: edgebench targets remove {name} "
                                    "first (or rekey it)")
    if key is not None and not key.is_file():
        raise UserInputError(f"--key {key}: no such file: give your private key file")
    profile = profiles.Profile(name=name, host=host, port=port, user=user,
                               key=str(key.expanduser().resolve()) if key else None)
    host_key = fetch_host_key(host, port)
    _confirm_key(name, host, port, host_key, accept, [])
    profiles.pin_host_key(profile, host_key)
    profiles.save(profile)
    with output():
        if as_json:
            print_json(profile.to_dict())
        else:
            click.echo(f"added {name}: {profile.user or ''}{'@' if profile.user else ''}{host}:{port}"
                       f" (next: edgebench targets check {name})")


@targets.command("list")
@options.as_json
def targets_list(as_json):
    """List the boards edgebench knows ('local' is always there).

    \b
    Example:
      edgebench targets list --json
    """
    from ..report import console
    from ..targets import profiles

    rows = [p.to_dict() for p in profiles.load().values()]
    emit(rows, as_json, console.target_list)


@targets.command("remove")
@click.argument("name")
def targets_remove(name):
    """Forget a board and its pinned host key (an emulated board's files stay: emulate --remove).

    \b
    Example:
      edgebench targets remove pi5
    """
    from ..targets import profiles

    profiles.get(name)
    profiles.delete(name)
    click.echo(f"removed {name}")


@targets.command("rekey")
@click.argument("name")
@click.option("--accept-new-host-key", "accept", is_flag=True,
              help="Pin the new host key without asking (scripts; check its fingerprint).")
def targets_rekey(name, accept):
    """Pin a board's new host key (after a reflash), showing the old and new fingerprints.

    \b
    Example:
      edgebench targets rekey pi5
    """
    from ..targets import profiles
    from ..targets.ssh import fetch_host_key

    profile = profiles.get(name)
    key = fetch_host_key(profile.host, profile.port)
    _confirm_key(name, profile.host, profile.port, key, accept, profiles.pinned_keys(profile))
    profiles.pin_host_key(profile, key)
    click.echo(f"{name}: host key pinned")


@targets.command("check")
@click.argument("name")
@options.as_json
def targets_check(name, as_json):
    """Reach a board and describe it: arch, CPU, cores, OS, Python, runtimes, disk, Pi health.

    On a Raspberry Pi also the board model, SoC temperature, throttling and under-voltage
    flags and the frequency governor; a probe the board lacks reads "unknown". Exit 1 with
    the reason when the board cannot be reached.

    \b
    Example:
      edgebench targets check pi5 --json
    """
    from ..report import console
    from ..targets import TargetError
    from ..targets.bootstrap import probe, probe_host

    with open_target(name) as target:
        try:
            info = probe_host() if target.is_host else probe(target)
        except TargetError as e:  # said in the JSON too, then the exit code
            if as_json:
                emit({"target": name, "reachable": False, "status": e.status.value,
                       "reason": str(e)}, True, None)
            raise
    info = {"target": name, "reachable": True, "emulated": target.emulated, **info}
    emit(info, as_json, console.target_check)



@targets.command("bootstrap")
@click.argument("name")
@click.option("--runtimes", "runtimes_", default=None, metavar="R[,R...]",
              help="onnxruntime, openvino, tflite (ai-edge-litert), tflite-runtime (its own "
                   "environment, numpy<2), or an exact version in its own environment: "
                   "onnxruntime==1.16.3 [default: onnxruntime,openvino,tflite].")
@click.option("--wheels", type=click.Choice(["auto", "board", "host"]), default="auto",
              show_default=True, help="Where packages come from: the board's own pip, or wheels "
              "this host downloads for the board and uploads (auto: the board's, else the host's).")
@options.as_json
def targets_bootstrap(name, runtimes_, wheels, as_json):
    """Set a board up: a virtual environment with numpy and the chosen runtimes.

    The agent itself is not installed: each run sends this edgebench's agent (once per
    version, content-addressed). A pinned runtime (NAME==VERSION) gets an environment of
    its own, on a board or on this machine ('local', in edgebench's cache); bench, eval
    and sweep then take --runtime NAME==VERSION.

    \b
    Example:
      edgebench targets bootstrap pi5 --runtimes onnxruntime,tflite-runtime --wheels host
      edgebench targets bootstrap local --runtimes onnxruntime==1.16.3,openvino==2024.0.0
    """
    from ..report import console
    from ..targets.bootstrap import bootstrap, bootstrap_host, parse_packages

    packages = parse_packages(runtimes_)
    if name == LOCAL:
        emit(bootstrap_host(packages, say), as_json, lambda d: click.echo(
            "pinned runtimes here: " + (", ".join(d["environments"]) or "none")))
        return
    with open_target(name) as target:
        info = bootstrap(target, packages, wheels, say)
    info = {"target": name, "reachable": True, "emulated": target.emulated, **info}
    emit(info, as_json, console.target_check)


@targets.command("emulate")
@click.argument("board", type=click.Choice(list(BOARDS)))
@click.option("--port", type=int, default=2222, show_default=True,
              help="Loopback port of the board's SSH server.")
@click.option("--name", default=None, help="Target name [default: the board's].")
@click.option("--stop", is_flag=True, help="Stop the running board.")
@click.option("--remove", is_flag=True, help="Stop the board, delete its files and its target.")
@options.as_json
def targets_emulate(board, port, name, stop, remove, as_json):
    """Start an emulated Raspberry Pi (aarch64 Debian under qemu-user, SSH on 127.0.0.1).

    Linux host and root only (apt-get install qemu-user-static binfmt-support debootstrap).
    rpi4 is a Cortex-A72 (ARMv8.0), rpi5 a Cortex-A76 (ARMv8.2: FP16 arithmetic, dotprod).
    The first run builds the board into the cache folder (minutes; a second board is copied
    from the first in seconds, with its own host keys) with onnxruntime, OpenVINO,
    ai-edge-litert and tflite-runtime; later runs start it in about a second.
    It is registered as a target marked emulated: for compatibility and numerics, never
    speed (its latencies are kept out of speed tables).

    \b
    Example:
      edgebench targets emulate rpi4 && edgebench eval artifacts/resnet18/* --target rpi4
      edgebench targets emulate rpi5 --port 2223   # a Pi 5-class core beside it
      edgebench targets emulate rpi4 --stop
    """
    from ..report import console
    from ..targets import emulate, profiles
    from ..targets.board import bring_up

    name = profiles.check_name(name or board)
    profiles.check_port(port)
    if remove or stop:
        done = emulate.remove(board) if remove else emulate.stop(board)
        if remove and name in profiles.load():
            profiles.delete(name)
        click.echo(f"{board}: {'removed' if remove else 'stopped'}" + ("" if done else " (it was not running)"))
        return
    with console.progress(3, f"emulate {board}") as bar:
        def step(text: str) -> None:  # minutes each: said in logs too, not only on the bar
            bar(text)
            say(text)

        info = bring_up(board, name, port, step, say)
    with output():
        if as_json:
            print_json(info)
        else:
            click.echo(f"{name}: emulated {emulate.BOARDS[board].description} on 127.0.0.1:{port}; "
                       f"built in {info['build_s']:.0f} s, started in {info['start_s']:.1f} s"
                       f" (next: edgebench targets check {name})")


COMMANDS = (targets,)
