"""The executor seam (edgebench/executors/__init__.py): items pinned to resources, the local
executor's ordering, threads and retries, and the targets opened once per process."""

import threading
import time

import pytest

from edgebench.errors import UserInputError
from edgebench.executors import (EXPORT, Item, LocalExecutor, OpenTargets, board_resource, timed)
from edgebench.targets.local import LocalTarget


def _item(name: str, resource: str, fn, attempt: int = 1) -> Item:
    return Item(name, resource, fn, (name,), lost=lambda reason: [f"{name} lost: {reason}"],
                attempt=attempt)


def _record(log: list):
    def on_done(item, started, records, retriable):
        assert started <= time.time() and retriable
        log.append((item.name, records, threading.current_thread().name))
        return []

    return on_done


def test_board_resources_are_named_by_their_target():
    assert board_resource("rpi4") == "board:rpi4" != EXPORT


def test_one_resource_runs_its_items_in_order_in_this_thread():
    log: list = []
    LocalExecutor().run([_item(n, EXPORT, lambda name: [name.upper()]) for n in "abc"], _record(log))
    assert log == [(n, [n.upper()], threading.current_thread().name) for n in "abc"]


def test_two_resources_run_side_by_side():
    both = threading.Barrier(2, timeout=10)  # broken unless both items run at once

    def meet(name):
        both.wait()
        return [name]

    log: list = []
    LocalExecutor().run([_item("x", board_resource("a"), meet), _item("y", board_resource("b"), meet)],
                        _record(log))
    assert sorted(name for name, _, _ in log) == ["x", "y"]
    assert len({thread for _, _, thread in log}) == 2


def test_a_retry_runs_next_on_its_resource():
    order: list = []

    def on_done(item, started, records, retriable):
        order.append((item.name, item.attempt))
        if item.name == "a" and item.attempt == 1:
            return [_item("a", EXPORT, item.fn, attempt=2)]
        return []

    LocalExecutor().run([_item("a", EXPORT, lambda n: []), _item("b", EXPORT, lambda n: [])], on_done)
    assert order == [("a", 1), ("a", 2), ("b", 1)]


def test_a_failing_item_stops_the_other_resources_after_their_current_item():
    ran: list = []

    def fail(name):
        raise RuntimeError("boom")

    def slow(name):
        time.sleep(0.3)
        ran.append(name)
        return []

    items = [_item("bad", board_resource("a"), fail)] + \
        [_item(f"s{i}", board_resource("b"), slow) for i in range(5)]
    with pytest.raises(RuntimeError, match="boom"):
        LocalExecutor().run(items, _record([]))
    assert len(ran) <= 1  # at most the item it was running, not its whole queue


def test_timed_returns_when_it_started_and_what_it_returned():
    before = time.time()
    started, records = timed(lambda a, b: [a + b], 1, 2)
    assert before <= started <= time.time() and records == [3]


def test_open_targets_are_opened_once_and_this_machine_goes_by_other_names(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))  # no profiles: only local is known
    targets = OpenTargets(this_machine=("fake-board",))
    fake = targets.get("fake-board")
    assert isinstance(fake, LocalTarget) and fake.name == "fake-board" and fake.is_host
    assert targets.get("fake-board") is fake
    local = targets.get("local")
    assert isinstance(local, LocalTarget) and local is not fake
    with pytest.raises(UserInputError, match="unknown target 'nope'"):
        targets.get("nope")
    targets.close()
    assert targets.get("fake-board") is not fake  # closed targets are opened afresh
    targets.close()
