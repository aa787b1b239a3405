"""edgebench: export image classifiers to edge formats, validate them, benchmark them.

The Python API (``api.py``) is reachable from here: ``edgebench.export(...)``, ``bench``,
``evaluate``, ``train``, ``sweep``, ``report``, ``compare``, ``validate``, ``diff``,
``diff_runs``, ``models``, ``model_info``, ``capabilities`` and ``edgebench.Store(path)``.
Nothing is imported until it is first used, so ``edgebench --help`` stays light.
"""

import importlib
import sys
import types

__version__ = "0.1.0"

# These API functions share their names with the modules that do the work: edgebench.export is
# the exporters' package and what a notebook calls. Python's import binds a submodule as an
# attribute of its package, which would hide the function, so the module itself is made
# callable: edgebench.export(...) runs api.export, and edgebench.export.ExportRequest (and every
# import of the package's modules) is unchanged.
CALLABLE_MODULES = ("export", "bench", "evaluate", "train", "sweep", "report", "compare")
API = ("validate", "diff", "diff_runs", "models", "model_info", "capabilities", "export_request",
       "bench_request", "eval_request", "ExportResult", "Report", "Comparison")


class CallableModule(types.ModuleType):
    """A module of the package that is also the API function of the same name."""

    def __call__(self, *args, **kwargs):
        from . import api

        return getattr(api, self.__name__.rpartition(".")[2])(*args, **kwargs)


class _Package(types.ModuleType):
    def __setattr__(self, name, value):
        if name in CALLABLE_MODULES and isinstance(value, types.ModuleType):
            value.__class__ = CallableModule
        super().__setattr__(name, value)


def __getattr__(name):
    if name in CALLABLE_MODULES:
        return importlib.import_module(f"{__name__}.{name}")  # binds it here, callable
    if name in API:
        return getattr(importlib.import_module(f"{__name__}.api"), name)
    if name == "Store":
        return importlib.import_module(f"{__name__}.store").Store
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted({*globals(), *CALLABLE_MODULES, *API, "Store"})


sys.modules[__name__].__class__ = _Package
