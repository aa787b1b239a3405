"""What every backend shares: the model reference the agent loads, the settings a cell is
keyed by, and the float <-> integer input conversion."""

import numpy as np
import pytest

from edgebench.runtimes import TORCH_MODES, ModelRef, RuntimeSettings, infer, quantise
from edgebench.runtimes.null import Session as NullSession


def test_a_model_reference_round_trips_through_json_types():
    ref = ModelRef(path="/m.xml", format="openvino", precision="int8", input_name="x",
                   input_shape=("batch", 3, 64, 64), sidecar="/m.bin", builder="a:b",
                   builder_args=(10, 64), resolution=64)
    # the agent receives lists, not tuples: from_dict must give back an equal, hashable record
    back = ModelRef.from_dict({**ref.to_dict(), "input_shape": ["batch", 3, 64, 64],
                               "builder_args": [10, 64]})
    assert back == ref and hash(back) == hash(ref)


@pytest.mark.parametrize("shape, resolution, batch, expected", [
    (("batch", 3, 64, 64), None, 8, (8, 3, 64, 64)),
    ((1, 224, 224, 3), None, 4, (4, 224, 224, 3)),
    ((), 96, 2, (2, 3, 96, 96)),  # a torch reference: its resolution
    ((), None, 1, (1, 3, 224, 224)),
])
def test_the_input_shape_at_a_batch(shape, resolution, batch, expected):
    assert ModelRef(None, "onnx", input_shape=shape, resolution=resolution).shape(batch) == expected


def test_an_unknown_dimension_is_refused_with_the_fix():
    with pytest.raises(ValueError, match="export with a static shape"):
        ModelRef(None, "onnx", input_shape=("batch", 3, "height", 64)).shape(1)


def test_settings_added_later_leave_older_keys_unchanged():
    # compile came after results were stored: at its default it is not part of the key
    assert "compile" not in RuntimeSettings().key_dict()
    assert RuntimeSettings(compile=True).key_dict()["compile"] is True
    assert RuntimeSettings().key_dict() != RuntimeSettings(threads=2).key_dict()


@pytest.mark.parametrize("mode", TORCH_MODES)
def test_each_torch_mode_is_one_pair_of_settings(mode):
    settings = RuntimeSettings().with_torch_mode(mode)
    assert (settings.compile, settings.cuda_graphs) == TORCH_MODES[mode]


def test_infer_is_prepare_run_to_numpy():
    x = np.arange(6, dtype=np.float32).reshape(2, 3)
    np.testing.assert_array_equal(infer(NullSession(), x), x)


@pytest.mark.parametrize("dtype", [np.int8, np.uint8])
def test_quantise_rounds_and_clips_to_the_type(dtype):
    x = np.array([-1000.0, -0.26, 0.0, 0.24, 0.26, 1000.0], dtype=np.float32)
    q = quantise(x, scale=0.5, zero_point=3, dtype=dtype)
    info = np.iinfo(dtype)
    assert q.dtype == dtype and q[0] == info.min and q[-1] == info.max
    assert list(q[2:5]) == [3, 3, 4]  # 0.24/0.5 rounds to 0, 0.26/0.5 to 1
