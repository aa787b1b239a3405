"""The host-vs-target check: same artifact, runtime and inputs on both, and each side against
FP32 PyTorch on this host under the precision's tolerance."""

from edgebench.compat import against_host
from edgebench.evaluate import EvalRequest
from edgebench.results import Status
from edgebench.targets.local import LocalTarget


def test_both_sides_are_judged_against_the_pytorch_reference(small_artifacts):
    with LocalTarget() as target:
        (row,) = against_host(EvalRequest(artifacts=(str(small_artifacts["onnx"]),),
                                          dataset="fashion-mnist:test:16", batch=8), target)
    assert row.status == Status.OK and row.samples == 16 and row.max_abs_diff == 0.0
    for side in (row.host_vs_reference, row.target_vs_reference):
        assert side["outcome"] == "ok" and side["max_rel_diff"] < 1e-3, side
        assert side["top1_agreement"] == 1.0
