"""A sweep on a Dask cluster: the executor, the board worker and the cluster's status.

Dask places the work; edgebench keeps every guarantee itself (the engine keeps no state that
matters, and it does not survive losing its scheduler):
- each attempt is its own impure task (``pure=False``, a key per attempt, ``retries=0``), so
  Dask never merges, caches or retries a measurement;
- a task Dask starts again after its worker died does not measure: it reports the loss, the
  sweep records ``infra_error`` and retries it as a new attempt on a worker that offers the
  resource (whatever the scheduler's ``allowed-failures``);
- an item whose resource no worker offers waits ``no_worker_timeout_s`` at most, then is
  ``infra_error`` ("no worker for board NAME") without a retry;
- results come back to the sweep's process, which commits each one as it completes.
A board's worker runs on a gateway host (``edgebench cluster worker --board NAME``), one
thread, no profiler; the board itself runs only the agent, over SSH.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import dataclass

from ..errors import ClusterError, UserInputError, first_line
from . import BOARD_PREFIX, EXPORT, Item, OnDone, OpenTargets, board_resource, timed

try:  # only when Dask is installed; the executor says how to install it otherwise
    from distributed import WorkerPlugin as _WorkerPlugin
except ImportError:  # pragma: no cover
    _WorkerPlugin = object

PLUGIN = "edgebench-boards"
KEY_PREFIX = "edgebench "
STARTED = "edgebench-started"
DEFAULT_NO_WORKER_TIMEOUT_S = 120.0
POLL_S = 0.5
CONNECT_TIMEOUT_S = 10
JOIN_TIMEOUT_S = 60  # a worker waits this long for its scheduler, at start and after losing it


class WorkerLost(Exception):
    """The task was started again by Dask after the worker running it died."""


def _dask():
    try:
        import distributed
    except ImportError as e:
        raise UserInputError("a sweep on a cluster needs Dask: pip install 'edgebench[cluster]'") from e
    return distributed


def connect(address: str):
    """A Dask client of the scheduler at ``address``, or a one-line error."""
    distributed = _dask()
    try:
        return distributed.Client(address, timeout=CONNECT_TIMEOUT_S, set_as_default=False)
    except (OSError, TimeoutError, ValueError) as e:
        raise ClusterError(f"cannot reach the Dask scheduler at {address}: {first_line(e)}: start "
                           "one (dask scheduler) or check the address") from e


def describe(resource: str) -> str:
    return f"board {resource[len(BOARD_PREFIX):]}" if resource.startswith(BOARD_PREFIX) else resource


class DaskExecutor:
    """Items as Dask tasks pinned by worker resources; see the module's docstring."""

    def __init__(self, address: str, no_worker_timeout_s: float = DEFAULT_NO_WORKER_TIMEOUT_S):
        self.no_worker_timeout_s = no_worker_timeout_s
        self.client = connect(address)

    def run(self, items: list[Item], on_done: OnDone) -> None:
        distributed = _dask()
        pending: dict = {}  # future -> item
        waiting_since: dict = {}  # future -> when its resource was first seen without a worker

        def submit(item: Item) -> None:
            key = f"{KEY_PREFIX}{item.name} #{item.attempt} {uuid.uuid4().hex[:8]}"
            future = self.client.submit(_guarded, item.fn, *item.args, key=key, pure=False,
                                        retries=0, resources={item.resource: 1})
            pending[future] = item

        def finish(future, started: float, records: list, retriable: bool) -> None:
            item = pending.pop(future)
            waiting_since.pop(future, None)
            for again in on_done(item, started, records, retriable):
                submit(again)

        for item in items:
            submit(item)
        try:
            while pending:
                try:
                    with self.client.as_current():
                        done, _ = distributed.wait(list(pending), timeout=POLL_S,
                                                   return_when="FIRST_COMPLETED")
                except distributed.TimeoutError:
                    done = set()
                except distributed.client.FuturesCancelledError as e:  # the scheduler is gone
                    raise ClusterError(f"lost the Dask scheduler ({len(pending)} items in flight "
                                       "are not in the store): run the same command again once it "
                                       "is back; finished cells are in the store") from e
                for future in done:
                    finish(future, *self._outcome(future, pending[future]))
                self._expire(pending, waiting_since, finish)
        except BaseException:
            for future in pending:
                future.cancel()
            raise

    def _outcome(self, future, item: Item) -> tuple[float, list, bool]:
        if future.status == "finished":
            return (*future.result(), True)
        now = time.time()
        if future.status == "cancelled":
            return now, item.lost("the cluster cancelled it (its scheduler restarted or was lost)"), True
        error = future.exception()
        if isinstance(error, WorkerLost) or type(error).__name__ == "KilledWorker":
            return now, item.lost(f"the worker running it died ({first_line(error)})"), True
        if type(error).__name__ in ("CommClosedError", "FutureCancelledError"):
            raise ClusterError(f"lost the Dask scheduler: {first_line(error)}: run the same command "
                               "again once it is back; finished cells are in the store")
        # the item's own code raised on the worker: a bug or a bad target, never retried
        return now, item.lost(f"{type(error).__name__} on the worker: {first_line(error)}"), False

    def _expire(self, pending: dict, waiting_since: dict, finish) -> None:
        """Items whose resource no worker offers: infra_error after the timeout."""
        offered = self.resources()
        now = time.monotonic()
        for future, item in list(pending.items()):
            if item.resource in offered or future.done():
                waiting_since.pop(future, None)
                continue
            since = waiting_since.setdefault(future, now)
            if now - since >= self.no_worker_timeout_s:
                future.cancel()
                finish(future, time.time(), item.lost(f"no worker for {describe(item.resource)} after "
                                         f"{self.no_worker_timeout_s:g} s: start one with "
                                         f"`edgebench cluster worker`"), False)

    def resources(self) -> set[str]:
        workers = self.client.scheduler_info(n_workers=-1).get("workers", {})
        return {r for w in workers.values() for r in (w.get("resources") or {})}

    def close(self) -> None:
        self.client.close()


def _guarded(fn, *args):
    """On the worker: run ``fn`` once per key. Dask starts a task again when its worker
    died; that second start reports the loss instead of measuring again."""
    from distributed import get_client, get_worker

    key = get_worker().get_current_task()
    client = get_client()
    if client.get_metadata([STARTED, str(key)], None):
        raise WorkerLost("a worker started this attempt before and died; Dask does not retry it")
    client.set_metadata([STARTED, str(key)], True)
    return timed(fn, *args)


# ---- the worker side ----------------------------------------------------------------------

class BoardPlugin(_WorkerPlugin):
    """A worker's boards: the targets it opens, once, for every cell it runs."""

    name = PLUGIN

    def __init__(self, boards: tuple[str, ...], this_machine: bool = False):
        self.boards = boards
        self.targets = OpenTargets(boards if this_machine else ())

    def setup(self, worker) -> None:
        pass

    def teardown(self, worker) -> None:
        self.targets.close()


def worker_targets() -> OpenTargets | None:
    """The calling Dask worker's open targets, or None outside a worker."""
    from distributed import get_worker

    try:
        worker = get_worker()
    except ValueError:
        return None
    plugin = worker.plugins.get(PLUGIN)
    if plugin is None:  # a plain `dask worker`: its boards are the gateway's target profiles
        plugin = BoardPlugin(())
        worker.plugins[PLUGIN] = plugin
    return plugin.targets


@dataclass(frozen=True)
class WorkerSpec:
    """What one ``edgebench cluster worker`` offers."""

    scheduler: str
    boards: tuple[str, ...] = ()
    export: bool = False
    this_machine: bool = False  # the boards are this host under those names (tests, x86)
    name: str | None = None

    def resources(self) -> dict[str, int]:
        found = {board_resource(b): 1 for b in self.boards}
        if self.export:
            found[EXPORT] = 1
        return found

    def check(self) -> None:
        if not self.boards and not self.export:
            raise UserInputError("a worker with nothing to offer: give --board NAME and/or --export")
        if not self.this_machine:
            from ..targets import LOCAL
            from ..targets.profiles import get

            for board in self.boards:
                if board != LOCAL:
                    get(board)  # an unknown board is a one-line error here, not in a cell


def serve(spec: WorkerSpec, ready=lambda address: None, starting=lambda text: None) -> None:
    """Run a single-threaded worker for ``spec`` until it is stopped."""
    distributed = _dask()
    import dask

    spec.check()
    # nothing periodic of Dask's beside a measurement that runs on this host
    dask.config.set({"distributed.worker.profile.enabled": False})
    starting(f"joining {spec.scheduler} (gives up after {JOIN_TIMEOUT_S} s without it)")

    async def main() -> None:
        async with distributed.Worker(
                spec.scheduler, nthreads=1, resources=spec.resources(), dashboard=False,
                name=spec.name or f"edgebench-{'-'.join(spec.boards) or 'export'}-{uuid.uuid4().hex[:4]}",
                plugins={BoardPlugin(spec.boards, spec.this_machine)},
                death_timeout=JOIN_TIMEOUT_S) as worker:
            ready(worker.address)
            await worker.finished()

    try:
        asyncio.run(main())
    except (OSError, TimeoutError) as e:
        raise ClusterError(f"cannot join the Dask scheduler at {spec.scheduler}: {first_line(e)}") from e


def status(address: str) -> dict:
    """Workers, what each offers and the edgebench items each is running."""
    with connect(address) as client:
        workers = client.scheduler_info(n_workers=-1).get("workers", {})
        processing = client.processing()
    out = []
    for address_, info in sorted(workers.items()):
        resources = sorted(info.get("resources") or {})
        out.append({
            "address": address_, "name": str(info.get("name")),
            "boards": [r[len(BOARD_PREFIX):] for r in resources if r.startswith(BOARD_PREFIX)],
            "export": EXPORT in resources, "threads": info.get("nthreads"),
            "in_flight": [_item_name(k) for k in processing.get(address_, ())],
        })
    return {"scheduler": address, "workers": out}


def _item_name(key) -> str:
    key = str(key)
    return key[len(KEY_PREFIX):].rsplit(" ", 1)[0] if key.startswith(KEY_PREFIX) else key
