import numpy as np
import pytest

from edgebench.runtimes import quantise


@pytest.mark.parametrize("dtype,zero_point", [(np.int8, -3), (np.uint8, 128)])
def test_quantise_uses_the_tensors_scale_and_zero_point(dtype, zero_point):
    scale = 0.05
    x = np.array([-100.0, -1.0, 0.0, 0.024, 0.026, 1.0, 100.0], np.float32)
    q = quantise(x, scale, zero_point, dtype)
    info = np.iinfo(dtype)
    assert q.dtype == dtype
    assert q[0] == info.min and q[-1] == info.max  # saturates instead of wrapping
    assert q[2] == zero_point and q[5] == zero_point + 20
    back = (q[1:-1].astype(np.float32) - zero_point) * scale
    assert np.abs(back - x[1:-1]).max() <= scale / 2 + 1e-6
