"""Telemetry off: the switches every process inherits, and OpenVINO's consent declined."""

import json
import os
import subprocess
import sys

import pytest

from edgebench import privacy


def test_the_switches_are_set_without_overriding_the_users(monkeypatch):
    for key in privacy.ENV:
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("NNCF_CI", "mine")
    privacy.disable_telemetry()
    privacy.disable_telemetry()  # idempotent
    assert os.environ["ORT_DISABLE_TELEMETRY"] == "1" and os.environ["NNCF_CI"] == "mine"


def test_openvinos_consent_check_is_declined():
    opt_in = pytest.importorskip("openvino_telemetry.utils.opt_in_checker")
    privacy.disable_telemetry()
    assert opt_in.OptInChecker().check() == opt_in.ConsentCheckResult.DECLINED


def test_an_agent_process_inherits_the_switches():
    code = ("import json, os\nfrom edgebench.privacy import disable_telemetry\ndisable_telemetry()\n"
            "import subprocess, sys\n"
            "print(subprocess.run([sys.executable, '-c', 'import json, os; print(json.dumps("
            "dict(os.environ)))'], capture_output=True, text=True).stdout)")
    env = {k: v for k, v in os.environ.items() if k not in privacy.ENV}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                         check=True).stdout
    child = json.loads(out)
    assert all(child[k] == v for k, v in privacy.ENV.items())
