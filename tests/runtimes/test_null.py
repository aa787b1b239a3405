"""The null runtime: what the harness's own overhead is measured against does nothing."""

import numpy as np

from edgebench import formats
from edgebench.runtimes import ModelRef, RuntimeSettings, infer, null


def test_it_returns_its_input_unchanged():
    session = null.load(ModelRef(path=None, format="none", input_shape=(1, 8)), RuntimeSettings())
    x = np.arange(8, dtype=np.float32).reshape(1, 8)
    assert infer(session, x) is x
    assert session.settings_used == {"runtime": "null"}


def test_the_capability_table_lets_it_take_any_format():
    spec = formats.RUNTIMES["null"]
    assert spec.load_backend() is null
    assert all(spec.loads(fmt) for fmt in formats.FORMATS)
