"""The on-device entry point: ``python -m edgebench.agent`` reads a JSON job on stdin and
writes one JSON result (an ``AgentReply``) on stdout.

Two job kinds: ``latency`` (warm up and time one model with the harness) and ``outputs``
(run a tensor file through the model in batches and write the outputs to a file:
validation and accuracy). It imports numpy and the one runtime the job names (torch only
for the torch backend), so it runs on a board that has nothing else. Every failure it can
see becomes a typed reply; the host turns a crash or a timeout into one as well.
"""

from __future__ import annotations

import json
import os
import platform
import signal
import sys
import threading
import time
from importlib import metadata
from dataclasses import dataclass, replace
from functools import partial

import numpy as np

from . import fingerprint, harness
from .errors import DependencyMissingError, LoadError, UserInputError, first_line
from .formats import RUNTIMES, parse_runtime
from .results import AgentReply, Stage, Status
from .runtimes import ModelRef, RuntimeSettings

INPUT_SEED = 0
JOB_KINDS = ("latency", "outputs")
WATCH_INTERVAL_S = 0.25
# The host's pid, set by a host that starts the agent as its child: a host killed while the
# agent was still importing is noticed too (getppid() read then would already be init's).
HOST_PID_ENV = "EDGEBENCH_HOST_PID"
DEFAULT_MEMORY_SHARE = 0.9  # of the device's memory, when the job names no limit
# Thread pools the runtimes and their BLAS libraries size from the environment at import.
THREAD_ENV = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "TF_NUM_INTRAOP_THREADS")


@dataclass(frozen=True)
class Job:
    """One job for the agent: which model, which runtime, how to run it, what to do.

    ``latency``: time the model on seeded random input under ``harness``.
    ``outputs``: read ``inputs`` (an .npy in the artifact's layout), run it in batches of
    ``settings.batch`` and write the outputs to ``outputs`` (an .npy of logits, or an
    .npz of ``indices`` and ``values`` when ``top_k`` is set). Paths are target-side.
    """

    model: ModelRef
    runtime: str
    kind: str = "latency"
    settings: RuntimeSettings = RuntimeSettings()
    harness: harness.HarnessSettings = harness.HarnessSettings()
    input_dtype: str = "float32"
    inputs: str | None = None
    outputs: str | None = None
    top_k: int | None = None
    memory_mb: float | None = None  # None: most of the device's memory

    def to_dict(self) -> dict:
        return {"model": self.model.to_dict(), "runtime": self.runtime, "kind": self.kind,
                "settings": self.settings.to_dict(), "harness": self.harness.to_dict(),
                "input_dtype": self.input_dtype, "inputs": self.inputs, "outputs": self.outputs,
                "top_k": self.top_k, "memory_mb": self.memory_mb}

    @classmethod
    def from_dict(cls, d: dict) -> "Job":
        job = cls(model=ModelRef.from_dict(d["model"]), runtime=d["runtime"],
                  kind=d.get("kind", "latency"),
                  settings=RuntimeSettings(**d.get("settings", {})),
                  harness=harness.HarnessSettings(**d.get("harness", {})),
                  input_dtype=d.get("input_dtype", "float32"), inputs=d.get("inputs"),
                  outputs=d.get("outputs"), top_k=d.get("top_k"), memory_mb=d.get("memory_mb"))
        if job.kind not in JOB_KINDS:
            raise ValueError(f"unknown job kind {job.kind!r}: expected {' or '.join(JOB_KINDS)}")
        if job.kind == "outputs" and not (job.inputs and job.outputs):
            raise ValueError("an outputs job needs both inputs and outputs paths")
        return job


def _peak_rss_mb() -> float | None:
    """This process's own peak resident memory.

    Linux carries ``ru_maxrss`` across fork and exec, so an agent started by a large parent
    (a sweep that just exported with torch) would report the parent's size; VmHWM belongs to
    the process's own address space.
    """
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024.0  # kB
    except (OSError, ValueError, IndexError):
        pass
    try:
        import resource
    except ImportError:  # not on Windows
        return None
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # Linux: KiB


def _load(job: Job, install_hint: str | None = None):
    """(session, load_ms) or a load_failed reply."""
    try:
        choice = parse_runtime(job.runtime)
    except UserInputError as e:
        return AgentReply(Status.LOAD_FAILED, str(e), Stage.LOAD)
    spec = RUNTIMES[choice.runtime]
    if choice.version:  # a pinned runtime runs only in an environment that has that version
        try:
            found = metadata.version(choice.distribution.name)
        except metadata.PackageNotFoundError:
            found = None
        if found != choice.version:
            have = f"{found} is installed" if found else "is not installed"
            hint = install_hint or f"edgebench targets bootstrap local --runtimes {choice.spec}"
            return AgentReply(Status.LOAD_FAILED, f"{choice.distribution.name} {have} here, not "
                              f"{choice.version}: {hint}",
                              Stage.LOAD)
    try:
        backend = spec.load_backend()
        started = time.perf_counter()
        session = backend.load(job.model, job.settings)
        return session, (time.perf_counter() - started) * 1e3
    except DependencyMissingError as e:
        if install_hint:  # on a board, the fix is the host's bootstrap command, not pip
            e = f"{str(e).split(':')[0]} on {platform.node() or 'this device'}: {install_hint}"
        return AgentReply(Status.LOAD_FAILED, str(e), Stage.LOAD)
    except LoadError as e:
        return AgentReply(Status.LOAD_FAILED, str(e), Stage.LOAD)
    except Exception as e:  # a runtime's own error types: still a load failure
        return AgentReply(Status.LOAD_FAILED, f"{job.runtime}: {first_line(e)}", Stage.LOAD)


def _run_failed(reason: str, **done) -> AgentReply:
    return AgentReply(Status.RUN_FAILED, reason, Stage.RUN, peak_rss_mb=_peak_rss_mb(), **done)


def _latency(job: Job, session, load_ms: float) -> AgentReply:
    done = {"load_ms": load_ms, "settings_used": session.settings_used,
            "fingerprint": fingerprint.collect()}
    try:
        shape = job.model.shape(job.settings.batch)
        x = np.random.default_rng(INPUT_SEED).standard_normal(shape).astype(job.input_dtype)
        native = session.prepare(x)
        started = time.perf_counter()
        first = session.run(native)
        done["first_inference_ms"] = (time.perf_counter() - started) * 1e3
        y = session.to_numpy(first)
    except Exception as e:  # the runtime rejected the input (shape, dtype) or failed to run
        return _run_failed(f"{job.runtime} rejected the input: {first_line(e)}", **done)
    done.update(input_shape=tuple(shape), input_dtype=job.input_dtype, output_shape=tuple(y.shape))
    if not np.isfinite(y).all():
        return _run_failed("the first inference returned NaN or Inf", **done)
    stats, last = harness.measure(partial(session.run, native), job.harness)
    if not np.isfinite(session.to_numpy(last)).all():
        return _run_failed("an inference during timing returned NaN or Inf", **done)
    return AgentReply(Status.OK, latency=stats, throughput_ips=job.settings.batch * 1e3 / stats.mean_ms,
                      peak_rss_mb=_peak_rss_mb(), **done)


def _outputs(job: Job, session, load_ms: float) -> AgentReply:
    done = {"load_ms": load_ms, "settings_used": session.settings_used,
            "fingerprint": fingerprint.collect()}
    batch = job.settings.batch
    try:
        x = np.load(job.inputs, mmap_mode="r", allow_pickle=False)
    except (OSError, ValueError) as e:
        return _run_failed(f"cannot read the input tensor file: {first_line(e)}", **done)
    chunks = []
    try:
        for start in range(0, len(x), batch):
            chunk = np.array(x[start:start + batch])  # a private, writable copy of the mapping
            n = len(chunk)
            if n < batch:  # the session was loaded for one batch size: pad the last chunk
                pad = np.zeros((batch - n, *chunk.shape[1:]), chunk.dtype)
                chunk = np.concatenate([chunk, pad])
            chunks.append(np.array(session.to_numpy(session.run(session.prepare(chunk)))[:n]))
    except Exception as e:  # the runtime rejected the input or failed to run
        return _run_failed(f"{job.runtime} failed on the inputs: {first_line(e)}", **done)
    y = np.concatenate(chunks) if chunks else np.zeros((0,), np.float32)
    partial_path = f"{job.outputs}.partial-{os.getpid()}"
    with open(partial_path, "wb") as f:
        if job.top_k:
            k = min(job.top_k, y.shape[-1])
            indices = np.argsort(-y, axis=-1, kind="stable")[..., :k]
            np.savez(f, indices=indices, values=np.take_along_axis(y, indices, axis=-1))
        else:
            np.save(f, y)
    os.replace(partial_path, job.outputs)  # never a half-written outputs file
    return AgentReply(Status.OK, input_shape=tuple(x.shape), input_dtype=str(x.dtype),
                      output_shape=tuple(y.shape), outputs_path=job.outputs, samples=len(x),
                      peak_rss_mb=_peak_rss_mb(), **done)


def run_job(job: Job, install_hint: str | None = None) -> AgentReply:
    """Load the model and do the job; never raises for anything the model or runtime does."""
    loaded = _load(job, install_hint)
    if isinstance(loaded, AgentReply):  # the device and its versions explain a load failure
        return replace(loaded, peak_rss_mb=_peak_rss_mb(), fingerprint=fingerprint.collect())
    session, load_ms = loaded
    return (_outputs if job.kind == "outputs" else _latency)(job, session, load_ms)


def _rss_mb() -> float:
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except (OSError, ValueError, IndexError):
        return 0.0


def _die(message: str) -> None:
    """End this agent and everything it started (its process group) with one stderr line."""
    try:
        sys.stderr.write(f"edgebench-agent: {message}\n")
        sys.stderr.flush()
    except (OSError, ValueError):
        pass  # the host that would read it may be gone (a broken pipe)
    try:
        os.killpg(os.getpgrp(), signal.SIGKILL)
    finally:
        os._exit(137)


def _watch(parent: int, limit_mb: float | None) -> None:
    """A daemon thread: the agent ends itself when its host is gone or it outgrows its memory."""
    while True:
        if os.getppid() != parent:
            _die("the host process is gone: stopping")
        rss = _rss_mb()
        if limit_mb and rss > limit_mb:
            _die(f"out of memory: {rss:.0f} MB resident, over the job's limit of "
                 f"{limit_mb:.0f} MB (a smaller batch or resolution needs less)")
        time.sleep(WATCH_INTERVAL_S)


def _limit_memory_mb(job: Job) -> float | None:
    if job.memory_mb:
        return job.memory_mb
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") * DEFAULT_MEMORY_SHARE / 2**20
    except (ValueError, OSError, AttributeError):
        return None


def _options(argv: list[str]) -> tuple[bool, str | None]:
    """``--report-pgid`` and ``--install-hint TEXT``: what a remote target asks of the agent."""
    report = "--report-pgid" in argv
    hint = argv[argv.index("--install-hint") + 1] if "--install-hint" in argv[:-1] else None
    return report, hint


def _own_group() -> None:
    """Lead a process group of our own and say which, so the host can kill all of it."""
    try:
        os.setsid()
    except OSError:  # already a group leader (sshd started us as one)
        pass
    sys.stderr.write(f"edgebench-agent: pgid {os.getpgrp()}\n")
    sys.stderr.flush()


def main(argv: list[str] | None = None) -> int:
    from .privacy import disable_telemetry

    report_pgid, install_hint = _options(sys.argv[1:] if argv is None else argv)
    if report_pgid:
        _own_group()
    disable_telemetry()  # before any runtime is imported
    try:
        job = Job.from_dict(json.loads(sys.stdin.read()))
    except (ValueError, KeyError, TypeError) as e:
        reply = AgentReply(Status.LOAD_FAILED, f"malformed job: {first_line(e)}", Stage.LOAD)
        print(json.dumps(reply.to_dict()), flush=True)
        return 2
    if job.settings.threads:
        for name in THREAD_ENV:
            os.environ[name] = str(job.settings.threads)
    host = int(os.environ.get(HOST_PID_ENV) or 0) or os.getppid()
    threading.Thread(target=_watch, args=(host, _limit_memory_mb(job)), daemon=True,
                     name="edgebench-watch").start()
    print(json.dumps(run_job(job, install_hint).to_dict(), allow_nan=False), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
