import pytest

from edgebench import formats
from edgebench.errors import UnsupportedError


@pytest.mark.parametrize("fmt", formats.FORMATS)
def test_each_formats_ladder_climbs_its_own_rungs_then_fp16(fmt):
    ladder = formats.rescue_rungs(fmt)
    assert [c.rung for c in ladder] == sorted(c.rung for c in ladder)
    assert all(c.format == fmt and c.calibrated for c in ladder[:-1])
    assert (ladder[-1].precision, ladder[-1].rung) == ("fp16", 4)
    for cap in ladder[:-1]:
        assert formats.rung(fmt, cap.variant) is cap
        assert cap.key == f"{fmt}-int8-{cap.variant}"


def test_an_unknown_rung_lists_the_formats_own():
    with pytest.raises(UnsupportedError, match="no rescue rung 'a4' for openvino: quantile, "
                                               "keep-sensitive"):
        formats.rung("openvino", "a4")
