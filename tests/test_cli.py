"""The command group: help with examples for every command, choices from the capability table,
and no framework imported for help, list and info."""

import subprocess
import sys

from edgebench import formats


def test_help_lists_commands_with_examples(run_cli):
    code, out, _ = run_cli("--help")
    assert code == 0
    for command in ("list", "info", "export", "capabilities", "train", "eval", "bench", "validate"):
        assert command in out
        sub_code, sub_out, _ = run_cli(command, "--help")
        assert sub_code == 0 and "Example" in sub_out


def test_cli_choices_come_from_the_table(run_cli):
    _, out, _ = run_cli("export", "--help")
    for precision in formats.PRECISIONS:
        assert precision == "fp32" or f"--{precision}" in out
    for layout in {lay for f in formats.FORMATS.values() for lay in f.layouts}:
        assert layout in out
    _, out, _ = run_cli("bench", "--help")
    assert all(p in out for p in formats.RUNTIMES["torch"].precisions)


def test_help_list_and_info_need_no_heavy_framework():
    code = ("import sys; from edgebench.cli import main\n"
            "for args in (['--help'], ['list'], ['info', 'resnet50'], ['capabilities'],\n"
            "             ['train', '--help'], ['eval', '--help']):\n"
            "    try: main(args)\n"
            "    except SystemExit as e: assert not e.code, e.code\n"
            "heavy = [m for m in ('torch', 'onnxruntime', 'onnx', 'torchvision') if m in sys.modules]\n"
            "sys.exit(f'heavy imports: {heavy}' if heavy else 0)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
