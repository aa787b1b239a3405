"""``edgebench compare A B``: two models side by side, and the published claims users start
from, each with the value measured here, its conditions and a verdict.

The claims are data (``claims.toml`` in the package). Figures come from the zoo (parameters,
multiply-adds, published top-1) and from the results store (sizes, latency, memory, accuracy);
a claim the store cannot answer says what would measure it, never a guess.
"""

from __future__ import annotations

import tomllib
from dataclasses import asdict, dataclass
from importlib import resources

from . import zoo
from .results import AccuracyCell, LatencyCell, TrainResult

SPEED_MARGIN = 1.1  # "faster" needs at least 10% (the report's noise floor)
SIZE_TOLERANCE = 0.25
FLOPS_TOLERANCE = 0.15
PARAMS_TOLERANCE = 0.10
ACCURACY_POINTS = 1.0


@dataclass(frozen=True)
class Verdict:
    id: int
    claim: str
    measured: str
    conditions: str
    verdict: str  # holds | does not hold | holds only at INT8 | mixed: ... | not measurable here: why

    def to_dict(self) -> dict:
        return asdict(self)


def claims() -> tuple[str, list[dict]]:
    """(source, claims) from the package's claims.toml."""
    data = tomllib.loads(resources.files(__package__).joinpath("claims.toml").read_text())
    return data["source"], data["claim"]


def _latency_cells(records, model: str) -> list[LatencyCell]:
    return [r for r in records if isinstance(r, LatencyCell) and r.model == model
            and r.status.value == "ok" and r.latency is not None
            and not (r.fingerprint or {}).get("emulated")]


def _condition(c: LatencyCell) -> tuple:
    return (c.target, c.format, c.precision, c.runtime, c.settings.batch, c.settings.device, c.converter)


def _describe(cond: tuple) -> str:
    target, fmt, precision, runtime, batch, device, converter = cond
    made_as = f"{fmt} ({converter})" if converter else fmt
    return f"{target} {device}, {runtime} {made_as} {precision}, batch {batch}"


def _is_edge_or_gpu(c: LatencyCell) -> bool:
    arch = (c.fingerprint or {}).get("arch") or ""
    return c.settings.device != "cpu" or arch.startswith(("aarch64", "arm"))


def _pairwise(records, a: str, b: str, metric, only=None) -> list[tuple[tuple, float, float]]:
    """(condition, a's value, b's value) wherever both were measured alike."""
    mine = {_condition(c): c for c in _latency_cells(records, a) if not only or only(c)}
    theirs = {_condition(c): c for c in _latency_cells(records, b) if not only or only(c)}
    return [(k, metric(mine[k]), metric(theirs[k])) for k in sorted(mine.keys() & theirs.keys())
            if metric(mine[k]) and metric(theirs[k])]


def _train_condition(r: TrainResult) -> tuple:
    return (r.dataset, r.train_images, r.resolution, r.batch, r.freeze_backbone,
            r.started_from, (r.fingerprint or {}).get("cpu_model"))


def _describe_training(cond: tuple) -> str:
    dataset, images, resolution, batch, frozen, start, cpu = cond
    return (f"{cpu or 'unknown CPU'}, {dataset} {images} images at {resolution} px, batch {batch}, "
            f"{'head only' if frozen else 'whole network'} from {start} weights, fp32")


def _training_pairs(records, a: str, b: str) -> list[tuple[tuple, float, float]]:
    """(condition, a's seconds per epoch, b's) wherever both were trained alike."""
    def runs(model):
        return {_train_condition(r): r.seconds_per_epoch for r in records
                if isinstance(r, TrainResult) and r.model == model and r.status.value == "ok"}
    mine, theirs = runs(a), runs(b)
    return [(k, mine[k], theirs[k]) for k in sorted(mine.keys() & theirs.keys(), key=str)
            if mine[k] > 0 and theirs[k] > 0]


def _lower_verdict(pairs, what: str, describe=_describe) -> tuple[str, str, str]:
    """(measured, conditions, verdict) for 'first is lower than second by the margin'."""
    lines = [f"{describe(k)}: {x:.3g} vs {y:.3g} ({y / x:.2f}x)" for k, x, y in pairs]
    holds = [y / x >= SPEED_MARGIN for _, x, y in pairs]
    conditions = "; ".join(lines)
    if all(holds):
        return what, conditions, "holds"
    if not any(holds):
        return what, conditions, "does not hold"
    int8 = [h for (k, _, _), h in zip(pairs, holds) if k[2] == "int8"]
    rest = [h for (k, _, _), h in zip(pairs, holds) if k[2] != "int8"]
    if int8 and all(int8) and not any(rest):
        return what, conditions, "holds only at INT8"
    return what, conditions, f"mixed: holds in {sum(holds)} of {len(holds)} conditions"


def _check(claim: dict, records) -> tuple[str, str, str]:
    rule = claim["rule"]
    if rule == "published_accuracy":
        parts, ok = [], []
        for model, value in claim["values"].items():
            ref = zoo.get(model).ref_top1
            measured = [r.top1 for r in records if isinstance(r, AccuracyCell) and r.model == model
                        and r.dataset.startswith("imagenet-val") and r.top1 is not None]
            got = measured[-1] if measured else ref
            parts.append(f"{model} {got:.1f}% (claimed {value}%)")
            ok.append(abs(got - value) <= ACCURACY_POINTS)
        source = ("measured on imagenet-val" if any(
            isinstance(r, AccuracyCell) and r.dataset.startswith("imagenet-val") for r in records)
            else "torchvision's published weights' metadata, not measured here (no imagenet-val)")
        return "; ".join(parts), source, "holds" if all(ok) else (
            "does not hold" if not any(ok) else "mixed: " + ", ".join(
                m for m, good in zip(claim["values"], ok) if not good) + " differ")
    if rule in ("faster", "less_memory"):
        a, b = (claim["faster"], claim["slower"]) if rule == "faster" else (claim["lower"], claim["higher"])
        metric = (lambda c: c.latency.p50_ms) if rule == "faster" else (lambda c: c.peak_rss_mb)
        only = _is_edge_or_gpu if claim.get("devices") == "gpu-or-edge" else None
        pairs = _pairwise(records, a, b, metric, only)
        if not pairs:
            where = " on a GPU or an edge board" if only else ""
            return "-", "-", (f"not measurable here: no {a} and {b} measured alike{where} in the "
                              "store (edgebench sweep with both models)")
        unit = "p50 ms" if rule == "faster" else "peak RSS MB"
        return _lower_verdict(pairs, f"{a} vs {b}, {unit}")
    if rule == "size_about":
        model, value = claim["model"], claim["value"]
        sizes = {(r.format, r.precision): r.size_bytes / 1e6 for r in records
                 if isinstance(r, LatencyCell) and r.model == model and r.size_bytes}
        if not sizes:
            return "-", "-", f"not measurable here: no artifacts of {model} in the store"
        near = {k for k, mb in sizes.items() if abs(mb - value) <= SIZE_TOLERANCE * value}
        measured = "; ".join(f"{f} {p} {mb:.1f} MB" for (f, p), mb in sorted(sizes.items()))
        if any(p == "fp32" for _, p in near):
            verdict = "holds"
        elif near and all(p == "int8" for _, p in near):
            verdict = "holds only at INT8"
        else:
            verdict = "does not hold"
        return measured, f"within {SIZE_TOLERANCE:.0%} of {value} MB", verdict
    if rule == "flops_about":
        parts, ok = [], []
        for model, value in claim["values"].items():
            gmacs = zoo.counts(model).gmacs
            parts.append(f"{model} {gmacs:.2f} G multiply-adds (claimed ~{value}B)")
            ok.append(abs(gmacs - value) <= FLOPS_TOLERANCE * value)
        return ("; ".join(parts), "counted from the models at their native resolution: the "
                "claimed figures are multiply-adds, not FLOPs", "holds" if all(ok) else "does not hold")
    if rule == "params_about":
        parts, ok = [], []
        for model, value in claim["values"].items():
            params = _params_with_head(model, claim["classes"])
            if params is None:
                return "-", "-", "not measurable here: counting a new head needs torch"
            parts.append(f"{model} {params / 1e6:.2f} M (claimed ~{value} M; "
                         f"{zoo.counts(model).params_m:.2f} M with ImageNet's 1000-class head)")
            ok.append(abs(params / 1e6 - value) <= PARAMS_TOLERANCE * value)
        return "; ".join(parts), f"with a {claim['classes']}-class head", \
            "holds" if all(ok) else "does not hold"
    if rule == "fewer_flops":
        a, b = zoo.counts(claim["fewer"]), zoo.counts(claim["more"])
        ea, eb = zoo.get(claim["fewer"]), zoo.get(claim["more"])
        measured = (f"{claim['fewer']} {a.gmacs:.1f} vs {claim['more']} {b.gmacs:.1f} G "
                    f"multiply-adds; published top-1 {ea.ref_top1:.1f} vs {eb.ref_top1:.1f}%")
        return measured, "multiply-adds at native resolution", \
            "holds" if a.macs < b.macs else f"does not hold ({a.macs / b.macs:.1f}x the cost)"
    if rule == "trains_faster":
        a, b = claim["faster"], claim["slower"]
        pairs = _training_pairs(records, a, b)
        if not pairs:
            return "-", "-", (f"not measurable here: no {a} and {b} trained alike in the store "
                              f"(edgebench train MODEL --dataset D --store FILE, for both)")
        return _lower_verdict(pairs, f"{a} vs {b}, seconds per epoch", _describe_training)
    raise ValueError(f"claims.toml: unknown rule {rule!r}")


def _params_with_head(model: str, classes: int) -> int | None:
    """Parameters with a ``classes``-way head, counted on the meta device (no weights)."""
    try:
        import torch
        import torchvision.models as tvm
    except ImportError:
        return None
    with torch.device("meta"):
        net = tvm.get_model(model)
    head = [m for m in net.modules() if isinstance(m, torch.nn.Linear)][-1]
    total = sum(p.numel() for p in net.parameters())
    return total - head.out_features * (head.in_features + 1) + classes * (head.in_features + 1)


def check_claims(records) -> tuple[str, list[Verdict]]:
    source, items = claims()
    return source, [Verdict(c["id"], c["text"], *_check(c, records)) for c in items]


def models_side_by_side(a: str, b: str, records, target: str | None = None) -> list[dict]:
    """One row per model: zoo figures, then what the store measured for it."""
    rows = []
    for name in (a, b):
        entry, counts = zoo.get(name), zoo.counts(name)
        cells = [r for r in _latency_cells(records, name) if target in (None, r.target)]
        sizes = {f"{r.format} {r.precision}": round(r.size_bytes / 1e6, 2) for r in records
                 if isinstance(r, LatencyCell) and r.model == name and r.size_bytes}
        latency = {_describe(_condition(c)): round(c.latency.p50_ms, 3) for c in cells}
        rss = [c.peak_rss_mb for c in cells if c.peak_rss_mb]
        top1 = {f"{r.dataset} {r.format} {r.precision}": r.top1 for r in records
                if isinstance(r, AccuracyCell) and r.model == name and r.top1 is not None}
        training = {_describe_training(_train_condition(r)): round(r.seconds_per_epoch, 1)
                    for r in records if isinstance(r, TrainResult) and r.model == name}
        rows.append({"model": name, "params_m": round(counts.params_m, 2),
                     "gmacs": round(counts.gmacs, 3), "published_top1": entry.ref_top1,
                     "sizes_mb": sizes, "p50_ms": latency, "peak_rss_mb": max(rss) if rss else None,
                     "measured_top1": top1, "train_s_per_epoch": training})
    return rows
