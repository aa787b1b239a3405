"""PyTorch, the reference baseline: CPU, or CUDA with FP16, channels-last and CUDA graphs;
eager, or compiled by inductor.

The host describes the model (a builder and a state_dict file); this backend builds it,
loads the weights with ``weights_only=True`` and runs it. It knows nothing of the zoo.
Batch-1 eager inference on a big GPU is bound by kernel launches; a CUDA graph,
captured once after warm-up and replayed, removes the launch gaps, and inductor's fused,
autotuned kernels shrink what is left. Compilation happens in ``load`` (it is the cell's
load time) and its cache lives in edgebench's cache folder, so a second run of the same
cell on the same machine does not compile again.
"""

from __future__ import annotations

import importlib
import os
import time

import numpy as np

from ..errors import LoadError, first_line, require
from ..files import cache_dir
from . import ModelRef, RuntimeSettings

WARMUP_BEFORE_CAPTURE = 3
# Autotuned kernels without inductor's own CUDA graphs: the backend captures one graph
# itself, the same way for eager and compiled models, so the two differ only in kernels.
COMPILE_MODE = "max-autotune-no-cudagraphs"
# Inference only, so the weights are constants: inductor folds each BatchNorm into its
# convolution and lays the weights out for the kernels once, at compile time.
FREEZING = True
COMPILE_CACHE = "torch-compile"  # under edgebench's cache folder


def mode_name(compiled: bool, graphs: bool) -> str:
    """What ran, in one word: eager, eager+graph, compiled or compiled+graph."""
    return ("compiled" if compiled else "eager") + ("+graph" if graphs else "")


class Session:
    def __init__(self, ref: ModelRef, settings: RuntimeSettings):
        torch = require("torch", "export")
        self._torch = torch
        if settings.threads:
            torch.set_num_threads(settings.threads)
        device = {"cpu": "cpu", "gpu": "cuda"}.get(settings.device.lower(), settings.device.lower())
        if device.startswith("cuda") and not torch.cuda.is_available():
            raise LoadError("torch sees no CUDA device here: run on a machine with an NVIDIA GPU "
                            "or use --device cpu")
        precision = settings.precision or "fp32"
        if precision not in ("fp32", "fp16"):
            raise LoadError(f"the torch backend runs fp32 or fp16, not {precision!r}")
        model = _build(torch, ref)
        self._dtype = torch.float16 if precision == "fp16" else torch.float32
        self._memory_format = torch.channels_last if settings.channels_last else torch.contiguous_format
        self._device = torch.device(device)
        self._model = model.to(self._device, self._dtype, memory_format=self._memory_format)
        self._cuda = self._device.type == "cuda"
        self._graphs = self._cuda and settings.cuda_graphs
        if self._cuda:
            torch.backends.cudnn.benchmark = True
        self._graph = None
        self.settings_used = {
            "runtime": "torch",
            "device": str(self._device) + (f" ({torch.cuda.get_device_name(self._device)})"
                                           if self._cuda else ""),
            "precision": precision,
            "executed_precision": precision,
            "channels_last": settings.channels_last,
            "cuda_graphs": self._graphs,
            "mode": mode_name(settings.compile, self._graphs),
            "threads": torch.get_num_threads(),
        }
        if settings.compile:
            try:
                shape = ref.shape(settings.batch)
            except ValueError as e:
                raise LoadError(f"torch.compile needs a static input shape: {e}") from e
            self.settings_used["compile"] = self._compile(shape)

    def _compile(self, shape: tuple[int, ...]) -> dict:
        """Compile for this one input shape and run it once: the compile is load time."""
        torch = self._torch
        from torch._dynamo.utils import counters
        from torch._inductor import list_mode_options
        from torch._inductor.runtime.cache_dir_utils import default_cache_dir

        # inductor writes its default into the variable once it has looked: only a value
        # other than that default is the user's own choice
        chosen = os.environ.get("TORCHINDUCTOR_CACHE_DIR")
        if not chosen or os.path.abspath(chosen) == os.path.abspath(default_cache_dir()):
            os.environ["TORCHINDUCTOR_CACHE_DIR"] = str(cache_dir(COMPILE_CACHE))

        before = dict(counters["inductor"])
        started = time.perf_counter()
        try:
            # the mode's own options plus freezing (torch.compile takes a mode or options)
            options = {**list_mode_options(COMPILE_MODE, False), "freezing": FREEZING}
            compiled = torch.compile(self._model, options=options, fullgraph=True, dynamic=False)
            x = torch.randn(shape, device=self._device, dtype=self._dtype).contiguous(
                memory_format=self._memory_format)
            with torch.inference_mode():
                compiled(x)
            if self._cuda:
                torch.cuda.synchronize()
        except Exception as e:  # Dynamo, inductor and Triton raise their own types
            raise LoadError(f"torch.compile ({COMPILE_MODE}) failed: {first_line(e)}") from e
        self._model = compiled
        hits, misses = (counters["inductor"][k] - before.get(k, 0)
                        for k in ("fxgraph_cache_hit", "fxgraph_cache_miss"))
        return {"mode": COMPILE_MODE, "freezing": FREEZING,
                "compile_ms": (time.perf_counter() - started) * 1e3,
                "cache": "hit" if hits and not misses else "miss" if misses else "none",
                "cache_dir": os.environ["TORCHINDUCTOR_CACHE_DIR"]}

    def prepare(self, x: np.ndarray):
        torch = self._torch
        tensor = torch.from_numpy(x).to(self._device, self._dtype).contiguous(
            memory_format=self._memory_format)
        if not self._graphs:
            return tensor
        # Capture once: warm up on a side stream (cuDNN picks its kernels), then record.
        self._static_in = tensor
        stream = torch.cuda.Stream()
        stream.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(stream), torch.inference_mode():
            for _ in range(WARMUP_BEFORE_CAPTURE):
                self._model(self._static_in)
        torch.cuda.current_stream().wait_stream(stream)
        self._graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(self._graph), torch.inference_mode():
            self._static_out = self._model(self._static_in)
        torch.cuda.synchronize()
        return tensor

    def run(self, tensor):
        torch = self._torch
        if self._graph is not None:
            self._graph.replay()
            torch.cuda.synchronize()
            return self._static_out
        with torch.inference_mode():
            out = self._model(tensor)
        if self._cuda:
            torch.cuda.synchronize()
        return out

    def to_numpy(self, output) -> np.ndarray:
        return output.float().cpu().numpy()


def _build(torch, ref: ModelRef):
    """The eval-mode module: ``builder(*builder_args)`` with the state_dict at ``ref.path``."""
    module_name, _, func = (ref.builder or "").partition(":")
    try:
        build = getattr(importlib.import_module(module_name), func)
        model = build(*ref.builder_args)
        state = torch.load(ref.path, map_location="cpu", weights_only=True)
        model.load_state_dict(state, strict=True)
    except Exception as e:  # import, build and state_dict errors of every kind
        raise LoadError(f"could not build {ref.builder}{tuple(ref.builder_args)}: "
                        f"{first_line(e)}") from e
    return model.eval()


def load(ref: ModelRef, settings: RuntimeSettings = RuntimeSettings()) -> Session:
    if not (ref.builder and ref.path):
        raise LoadError("the torch backend needs a builder and a state_dict file: give an "
                        "artifact folder (its manifest names the model) or zoo:MODEL")
    return Session(ref, settings)
