"""TFLite backend: ai-edge-litert, else tflite-runtime, else tensorflow.lite.

XNNPACK is on by default; whether it was asked for and whether it took the graph are both
recorded. Integer models are fed through their input tensor's own scale and zero point, and
their outputs dequantised the same way.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import DependencyMissingError, LoadError, first_line
from . import ModelRef, RuntimeSettings, quantise

TFLITE_MAGIC = b"TFL3"  # flatbuffer file identifier at byte offset 4


def interpreter_class():
    """(Interpreter class, resolver type for 'no default delegates' or None, source name)."""
    try:
        from ai_edge_litert import interpreter as lite

        return lite.Interpreter, lite.OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES, "ai-edge-litert"
    except ImportError:
        pass
    try:
        from tflite_runtime import interpreter as lite

        return lite.Interpreter, lite.OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES, "tflite-runtime"
    except ImportError:
        pass
    try:
        import tensorflow as tf

        return (tf.lite.Interpreter,
                tf.lite.experimental.OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES, "tensorflow")
    except ImportError as e:
        raise DependencyMissingError(
            "no TFLite interpreter is installed (ai-edge-litert, tflite-runtime or tensorflow): "
            "pip install 'edgebench[tflite]'") from e


class Session:
    def __init__(self, ref: ModelRef, settings: RuntimeSettings):
        Interpreter, no_delegates, source = interpreter_class()
        path = Path(ref.path)
        if settings.device.lower() != "cpu":
            raise LoadError(f"the TFLite backend runs on cpu only, not {settings.device!r}")
        with open(path, "rb") as f:
            head = f.read(8)
        if head[4:8] != TFLITE_MAGIC:
            raise LoadError(f"{path.name} is not a TFLite flatbuffer (no TFL3 identifier): "
                            "is it another format with a .tflite name?")
        kwargs = {"model_path": str(path), "num_threads": settings.threads or None}
        if not settings.xnnpack:
            kwargs["experimental_op_resolver_type"] = no_delegates
        try:
            self._interp = Interpreter(**kwargs)
            inp = self._interp.get_input_details()[0]
            if settings.batch != inp["shape"][0]:
                self._interp.resize_tensor_input(inp["index"], [settings.batch, *inp["shape"][1:]])
            self._interp.allocate_tensors()
        except Exception as e:  # the interpreter raises ValueError/RuntimeError on bad files
            raise LoadError(f"TFLite could not load {path.name}: {first_line(e)}") from e
        self._in = self._interp.get_input_details()[0]
        self._out = self._interp.get_output_details()[0]
        self.settings_used = {
            "runtime": "tflite",
            "interpreter": source,
            "num_threads": settings.threads or "default",
            "xnnpack": settings.xnnpack,
            "xnnpack_applied": _delegated(self._interp),
            "input_dtype": np.dtype(self._in["dtype"]).name,
            "input_quantization": list(self._in["quantization"]),
            "output_quantization": list(self._out["quantization"]),
        }

    def prepare(self, x: np.ndarray) -> np.ndarray:
        dtype = np.dtype(self._in["dtype"])
        if x.dtype == dtype:  # already the model's own input (quantised by the caller)
            return x
        if dtype.kind in "iu":
            scale, zero_point = self._in["quantization"]
            return quantise(x, scale, zero_point, dtype)
        return x.astype(dtype, copy=False)

    def run(self, native: np.ndarray) -> np.ndarray:
        self._interp.set_tensor(self._in["index"], native)
        self._interp.invoke()
        return self._interp.get_tensor(self._out["index"])

    def to_numpy(self, output: np.ndarray) -> np.ndarray:
        if np.dtype(self._out["dtype"]).kind in "iu":
            scale, zero_point = self._out["quantization"]
            return (output.astype(np.float32) - zero_point) * scale
        return output


def _delegated(interp) -> bool | None:
    """Whether XNNPACK took any part of the graph: asked for is not applied (tflite-runtime
    2.14 leaves integer models on its reference kernels). None where the interpreter
    cannot tell."""
    try:
        return any(op["op_name"] == "DELEGATE" for op in interp._get_ops_details())
    except Exception:  # a private API: its absence must not fail the load
        return None


def load(ref: ModelRef, settings: RuntimeSettings = RuntimeSettings()) -> Session:
    return Session(ref, settings)
