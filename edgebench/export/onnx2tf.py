"""TFLite through onnx2tf, the second TFLite converter (``--converter onnx2tf``).

onnx2tf pins its own numpy, onnx, onnxruntime and tensorflow, so it cannot share
edgebench's environment: it runs in one of its own, made in edgebench's cache on first use
and reused after. Only files cross over: the model's static-shape ONNX export (made here,
as ``edgebench export`` makes its ONNX artifact) and the calibration samples as ``.npy``.
The input keeps the ONNX file's shape (``-kat``), so an onnx2tf artifact takes the same
NCHW (or NHWC) input as every other artifact of the export; INT8 is full integer with
per-channel weights and int8 input and output tensors, like the default converter's.
onnx2tf runs through ``onnx2tf_main.py``, which sends its float files through the concrete
function, as its quantised ones go (seconds instead of minutes: that file says why).
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from dataclasses import replace
from pathlib import Path

import numpy as np

from ..errors import EnvironmentSetupError, ExportError
from ..files import cache_dir
from ..formats import ONNX2TF_VERSION
from ..manifest import Conversion, Quantization
from .onnx import INPUT_NAME, export_fp32 as onnx_fp32
from .options import ExportContext, ExportInfo

REQUIREMENTS = [f"onnx2tf=={ONNX2TF_VERSION}"]  # it pins tensorflow, onnx, numpy... itself
CONVERT_TIMEOUT_S = 3600.0
# onnx2tf checks its conversion on this sample file and downloads it when it is missing
# from its working directory (and, offline, exits 0 without writing any .tflite)
SAMPLE_FILE = "calibration_image_sample_data_20x128x128x3_float32.npy"
OUTPUTS = {"fp32": "model_float32.tflite", "int8": "model_full_integer_quant.tflite"}


def environment(say=lambda s: None) -> Path:
    """onnx2tf's own environment (made once, from the package registry)."""
    from ..artifacts import locked
    from ..envs import make

    folder = cache_dir("converters", f"onnx2tf-{ONNX2TF_VERSION}")
    folder.parent.mkdir(parents=True, exist_ok=True)
    try:
        with locked(folder.parent, lambda: say("waiting for another export setting up onnx2tf")):
            return make(folder, REQUIREMENTS, REQUIREMENTS[0], say)
    except EnvironmentSetupError as e:
        raise ExportError(f"cannot set up onnx2tf's own environment in {folder}: {e} (it is "
                          "installed once, from the package registry)") from e


def export_fp32(ctx: ExportContext, path: Path) -> ExportInfo:
    """onnx2tf's float32 TFLite of the model's ONNX export."""
    return _convert(ctx, path, "fp32")


def export_int8(ctx: ExportContext, path: Path) -> ExportInfo:
    """onnx2tf's full-integer INT8 (per-channel), calibrated on the shared samples."""
    return _convert(ctx, path, "int8")


def _convert(ctx: ExportContext, path: Path, precision: str) -> ExportInfo:
    from .tflite import describe

    python = environment() / "bin" / "python"
    with tempfile.TemporaryDirectory(dir=path.parent) as tmp:
        work = Path(tmp).resolve()  # onnx2tf runs in it: a relative --out would not resolve
        onnx_file = work / "model.onnx"
        # onnx2tf needs a static shape (a dynamic batch broke its NCHW-to-NHWC transposition)
        onnx_fp32(replace(ctx, options=replace(ctx.options, dynamic_batch=False)), onnx_file)
        np.save(work / SAMPLE_FILE, np.zeros((20, 128, 128, 3), np.float32))
        argv = [str(python), str(Path(__file__).with_name("onnx2tf_main.py")), "-i",
                str(onnx_file), "-o", str(work / "out"),
                "-kat", INPUT_NAME, "-n"]
        if precision == "int8":
            np.save(work / "calibration.npy", np.ascontiguousarray(ctx.calibration, np.float32))
            # the samples are preprocessed already: mean 0, std 1
            argv += ["-oiqt", "-qt", "per-channel", "-iqd", "int8", "-oqd", "int8",
                     "-cind", INPUT_NAME, str(work / "calibration.npy"), "[0.0]", "[1.0]"]
        try:
            done = subprocess.run(argv, cwd=work, capture_output=True, text=True,
                                  timeout=CONVERT_TIMEOUT_S)
        except subprocess.TimeoutExpired as e:
            raise ExportError(f"onnx2tf took more than {CONVERT_TIMEOUT_S:.0f} s") from e
        made = work / "out" / OUTPUTS[precision]
        if done.returncode != 0 or not made.is_file():
            raise ExportError(f"onnx2tf wrote no {made.name} (exit {done.returncode}): "
                              f"{_why(done)}")
        shutil.copyfile(made, path)
    quantization = Quantization(tool="onnx2tf", recipe="full integer, per-channel",
                                samples=len(ctx.calibration)) if precision == "int8" else None
    return describe(path, ctx, quantization,
                    Conversion(converter_environment={"onnx2tf": ONNX2TF_VERSION}))


def _why(done) -> str:
    lines = [line.strip() for line in (done.stdout + "\n" + done.stderr).splitlines() if line.strip()]
    errors = [line for line in lines if "ERROR" in line or "Error" in line]
    return ((errors or lines or ["no output"])[-1])[:300]
