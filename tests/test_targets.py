"""The transport-neutral contract of edgebench/targets/__init__.py: how a command ended maps
onto one typed agent reply, whatever carried it; and which target a name opens."""

import json

import pytest

from edgebench.errors import UserInputError
from edgebench.results import AgentReply, Stage, Status
from edgebench.targets import (LOCAL, ExecResult, TargetError, decode_output, open_target,
                               run_agent)
from edgebench.targets.local import LocalTarget

JOB = {"runtime": "null", "kind": "bench"}


class Ended:
    """A transport whose command ended as given (no process runs: the mapping is the test)."""

    name = "board"
    emulated = False
    is_host = False

    def __init__(self, result: ExecResult | TargetError):
        self.result = result
        self.argv_runtime = None

    def agent_argv(self, runtime=None):
        self.argv_runtime = runtime
        return ["agent"]

    def exec(self, argv, stdin, timeout_s, on_start=None):
        assert json.loads(stdin) == JOB and argv == ["agent"]
        if isinstance(self.result, TargetError):
            raise self.result
        return self.result


def _reply(result) -> AgentReply:
    target = Ended(result)
    reply = run_agent(target, JOB, timeout_s=12)
    assert target.argv_runtime == "null"  # the agent is started for the job's runtime
    return reply


def test_the_agents_last_stdout_line_is_its_reply():
    answer = AgentReply(Status.OK, "fine", settings_used={"runtime": "null"})
    out = "a runtime's chatter\n" + json.dumps(answer.to_dict()) + "\n"
    assert _reply(ExecResult(0, out, "")) == answer


@pytest.mark.parametrize("result,status,stage,needles", [
    (ExecResult(None, "", "", timed_out=True), Status.TIMEOUT, Stage.RUN,
     ("no result within 12 s", "raise --timeout")),
    (ExecResult(None, "", "", lost="connection reset", status=Status.UNREACHABLE),
     Status.UNREACHABLE, Stage.TRANSPORT, ("board: connection reset",)),
    (ExecResult(None, "", "it broke\nfatal: bad pointer\n", signal="SIGSEGV"), Status.CRASHED,
     Stage.RUN, ("the agent died from SIGSEGV: fatal: bad pointer",)),
    (ExecResult(1, "", "ImportError: no numpy\n"), Status.CRASHED, Stage.RUN,
     ("exited with status 1 and no result: ImportError: no numpy",)),
    (ExecResult(0, "not json", ""), Status.CRASHED, Stage.RUN, ("exited with status 0",)),
    (ExecResult(0, "", ""), Status.CRASHED, Stage.RUN, ("no result: no output",)),
    (TargetError(Status.INFRA_ERROR, "host key changed", retryable=False), Status.INFRA_ERROR,
     Stage.TRANSPORT, ("board: host key changed",)),
])
def test_every_way_a_run_ends_is_a_typed_one_line_reply(result, status, stage, needles):
    reply = _reply(result)
    assert (reply.status, reply.stage) == (status, stage)
    assert "\n" not in reply.reason
    for needle in needles:
        assert needle in reply.reason, reply.reason
    assert reply.signal == (result.signal if isinstance(result, ExecResult) else None)


def test_decode_output_keeps_the_tail_and_replaces_bad_bytes():
    assert decode_output(b"a" * 100 + b"\xff", limit=10) == "a" * 9 + "\ufffd"
    assert decode_output("héllo".encode(), limit=1 << 10) == "héllo"


def test_names_open_this_machine_or_a_profile(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    local = open_target(LOCAL)
    assert isinstance(local, LocalTarget) and local.name == LOCAL and local.is_host
    with pytest.raises(UserInputError, match="unknown target 'pi': known targets are local"):
        open_target("pi")
