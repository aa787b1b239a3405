"""What ``eval`` costs over a bare onnxruntime loop, on the same 10,000-image tensor file.

Both sides start a fresh Python process, import onnxruntime, load the same ONNX artifact
with the same threads, run every image through it and write the top-5 indices: one is
edgebench's agent (``outputs`` job, as ``eval`` runs it), the other a ten-line script.
Alternating rounds, medians; the target is at most 1.3x. The whole ``edgebench eval``
command (host preprocessing and the FP32 PyTorch reference included) is timed once for
context. Run: ``python benchmarks/eval_overhead.py ARTIFACT`` (an ONNX artifact folder).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from statistics import median

import numpy as np

from edgebench.agent import Job
from edgebench.artifacts import read
from edgebench.bench import resolve
from edgebench.data.labelled import DatasetSpec, preprocess_split
from edgebench.runtimes import RuntimeSettings
from edgebench.targets import run_agent
from edgebench.targets.local import LocalTarget
from edgebench.zoo.spec import Preprocess

TARGET_RATIO = 1.3
BARE = """
import sys, numpy as np, onnxruntime as ort
model, inputs, outputs, name, threads = sys.argv[1:6]
o = ort.SessionOptions(); o.intra_op_num_threads = int(threads)
s = ort.InferenceSession(model, o, providers=["CPUExecutionProvider"])
x = np.load(inputs, mmap_mode="r")
y = np.concatenate([s.run(None, {name: np.array(x[i:i + 1])})[0] for i in range(len(x))])
np.save(outputs, np.argsort(-y, axis=1)[:, :5])
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("artifact", type=Path)
    parser.add_argument("--dataset", default="fashion-mnist:test")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    art = read(args.artifact)
    m = art.manifest
    t = preprocess_split(DatasetSpec.parse(args.dataset).open(), Preprocess.from_dict(m["preprocess"]))
    work = Path(tempfile.mkdtemp(prefix="eval-overhead-"))
    inputs = work / "inputs.npy"
    np.save(inputs, t.x)
    source = resolve(str(args.artifact))
    settings = RuntimeSettings(threads=args.threads, batch=int(m["input"]["shape"][0]))
    job = Job(model=source.model, runtime="onnxruntime", kind="outputs", settings=settings,
              inputs=str(inputs), outputs=str(work / "agent.npz"), top_k=5).to_dict()
    agent_s, bare_s = [], []
    with LocalTarget() as target:
        for _ in range(args.rounds):
            started = time.perf_counter()
            reply = run_agent(target, job, 3600)
            agent_s.append(time.perf_counter() - started)
            if reply.status != "ok":
                sys.exit(f"the agent failed: {reply.reason}")
            started = time.perf_counter()
            subprocess.run([sys.executable, "-c", BARE, str(art.model_file), str(inputs),
                            str(work / "bare.npy"), m["input"]["name"], str(args.threads)], check=True)
            bare_s.append(time.perf_counter() - started)
    with np.load(work / "agent.npz") as z:
        same = np.array_equal(z["indices"], np.load(work / "bare.npy"))
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "edgebench", "eval", str(args.artifact), "--dataset",
                    args.dataset, "--threads", str(args.threads), "--json"],
                   check=True, capture_output=True)
    command_s = time.perf_counter() - started
    ratio = median(agent_s) / median(bare_s)
    print(f"{len(t.x)} images, {args.artifact}, {args.threads} threads, batch {settings.batch}, "
          f"{args.rounds} alternating rounds")
    print(f"bare onnxruntime loop (process):  median {median(bare_s):.2f} s  {sorted(round(s, 2) for s in bare_s)}")
    print(f"edgebench agent outputs job:      median {median(agent_s):.2f} s  {sorted(round(s, 2) for s in agent_s)}")
    print(f"ratio agent / bare: {ratio:.3f} (target <= {TARGET_RATIO}); identical top-5: {same}")
    print(f"whole `edgebench eval` command (preprocessing + PyTorch reference + agent): {command_s:.1f} s")
    return 0 if ratio <= TARGET_RATIO and same else 1


if __name__ == "__main__":
    sys.exit(main())
