"""Where a sweep's work runs: one seam, two executors.

A sweep hands an executor ``Item``s (an export, one cell, one accuracy batch), each pinned to a
resource: ``export``, or ``board:NAME`` for the target it measures. The executor runs each item
where its resource is and gives every result back to the sweep, in the sweep's own process,
which commits it and may hand back a retry. ``LocalExecutor`` runs items here, one thread per
resource (the sweep as it always ran); ``cluster.DaskExecutor`` runs them on Dask workers.
Nothing else in the sweep knows which one runs.
"""

from __future__ import annotations

import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Callable, Protocol

from ..targets import Target, open_target

EXPORT = "export"
BOARD_PREFIX = "board:"


def board_resource(target: str) -> str:
    return f"{BOARD_PREFIX}{target}"


@dataclass(frozen=True)
class Item:
    """One unit of work: ``fn(*args)`` returns the records it made, where ``resource`` is.

    ``lost(reason)`` makes the records for an item whose result never came back (its worker
    died, no worker offers its resource); only the sweep's process calls it.
    """

    name: str  # for people: progress lines, `edgebench cluster status`
    resource: str
    fn: Callable[..., list]
    args: tuple
    lost: Callable[[str], list] = field(compare=False, repr=False)
    attempt: int = 1


# (item, when it started, its records, retriable) -> items to run next: the sweep commits,
# then may retry
OnDone = Callable[[Item, float, list, bool], list]


class Executor(Protocol):
    def run(self, items: list[Item], on_done: OnDone) -> None:
        """Run every item (and every retry ``on_done`` returns); return when all are done."""

    def close(self) -> None: ...


class OpenTargets:
    """Targets opened once per process and reused by every item that measures on them (an
    SSH connection per board, not per cell); ``this_machine`` names boards that are this
    machine under another name (a gateway's fake board)."""

    def __init__(self, this_machine: tuple[str, ...] = ()):
        self.this_machine = set(this_machine)
        self._open: dict[str, Target] = {}
        self._lock = threading.Lock()

    def get(self, name: str) -> Target:
        with self._lock:
            if name not in self._open:
                if name in self.this_machine:
                    from ..targets.local import LocalTarget

                    self._open[name] = LocalTarget(name=name)
                else:
                    self._open[name] = open_target(name)
            return self._open[name]

    def close(self) -> None:
        with self._lock:
            targets, self._open = list(self._open.values()), {}
        for target in targets:
            target.close()


_HERE = OpenTargets()


def target(name: str) -> Target:
    """The open target ``name`` for an item running in this process: a Dask worker's own
    boards when this is one, else this process's."""
    if "distributed" in sys.modules:  # only a Dask worker process has it imported by then
        from .cluster import worker_targets

        found = worker_targets()
        if found is not None:
            return found.get(name)
    return _HERE.get(name)


class LocalExecutor:
    """Here: items of one resource one after another, resources side by side in threads
    (one resource: in this thread, so that Ctrl-C reaches the running agent)."""

    def __init__(self):
        self._stop = threading.Event()

    def run(self, items: list[Item], on_done: OnDone) -> None:
        groups: dict[str, list[Item]] = {}
        for item in items:
            groups.setdefault(item.resource, []).append(item)

        def drain(queue: list[Item]) -> None:
            while queue and not self._stop.is_set():
                item = queue.pop(0)
                queue[:0] = on_done(item, *timed(item.fn, *item.args), True)

        try:
            if len(groups) <= 1:
                for queue in groups.values():
                    drain(queue)
            else:
                with ThreadPoolExecutor(max_workers=len(groups)) as pool:
                    futures = [pool.submit(drain, q) for q in groups.values()]
                    try:
                        for future in futures:
                            future.result()
                    except BaseException:
                        # set before the pool's exit waits for its threads, or they drain
                        # every queue first
                        self._stop.set()
                        raise
        except BaseException:
            self._stop.set()  # the other resources stop after their current item
            raise

    def close(self) -> None:
        _HERE.close()


def timed(fn: Callable[..., list], *args) -> tuple[float, list[Any]]:
    """(when it started, what it returned): the store keeps each attempt's start."""
    started = time.time()
    return started, fn(*args)
