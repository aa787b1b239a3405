"""The capability table and what is read from it, as one namespace (``formats.lookup``).

- ``table``: precisions, formats, runtimes (with their knobs, board packages, fingerprinted
  distributions and loggers), converter tools and the (format, precision, converter) rows;
- ``rescue``: the INT8 rescue ladder's rungs;
- ``versions``: distributions, numpy 2 and the measured version facts;
- ``names``: runtimes as users name them (``openvino``, ``onnxruntime==1.16.3``).
"""

from .names import RuntimeChoice, known_limit, parse_runtime, parse_runtimes, row_of
from .rescue import MORE_CALIBRATION, RESCUE_RUNGS, rescue_rungs, rung
from .table import (
    CAPABILITIES, DEFAULT_CONVERTER, FORMATS, ONNX2TF_VERSION, OWN_ENVIRONMENT_PINS, PRECISIONS,
    RUNTIMES, TOOLS, Capability, FormatSpec, Knob, PrecisionSpec, RuntimeSpec, Tolerance, Tool,
    check_format, converter_name, converters, fingerprinted, format_of, knobs, lookup, made_by,
    quiet_loggers, reference_runtime, runtimes_for, settings_for,
)
from .versions import (
    KNOWN_TO_LOAD, VERSION_LIMITS, Distribution, LoadsIn, VersionLimit, known_to_load,
    version_tuple,
)

__all__ = [
    "CAPABILITIES", "DEFAULT_CONVERTER", "FORMATS", "KNOWN_TO_LOAD", "MORE_CALIBRATION",
    "ONNX2TF_VERSION", "OWN_ENVIRONMENT_PINS", "PRECISIONS", "RESCUE_RUNGS", "RUNTIMES", "TOOLS",
    "VERSION_LIMITS", "Capability", "Distribution", "FormatSpec", "Knob", "LoadsIn",
    "PrecisionSpec", "RuntimeChoice", "RuntimeSpec", "Tolerance", "Tool", "VersionLimit",
    "check_format", "converter_name", "converters", "fingerprinted", "format_of", "known_limit",
    "known_to_load", "knobs", "lookup", "made_by", "parse_runtime", "parse_runtimes",
    "quiet_loggers", "reference_runtime", "rescue_rungs", "row_of", "rung", "runtimes_for",
    "settings_for", "version_tuple",
]
