"""Normalizing flows (zuko) built from config specs, plus sampling, transport and FETA morphing.

Specs are plain dicts so Snakemake configs can describe a flow and the models registry can
rebuild the exact architecture before loading a state_dict.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from functools import partial
from typing import Any

import torch
import zuko
from torch import Tensor, nn
from zuko.distributions import DiagNormal
from zuko.flows import Flow, GeneralCouplingTransform, UnconditionalDistribution
from zuko.transforms import MonotonicAffineTransform, MonotonicRQSTransform

from hepflows.core.model_specs import check_flow
from hepflows.core.models import register_builder

__all__ = [
    "FLOW_DEFAULTS",
    "TopFlowModel",
    "build_flow",
    "build_top_model",
    "log_prob",
    "nll_loss",
    "sample",
    "top_flow_nll",
    "transport",
]

FLOW_DEFAULTS: dict[str, Any] = {
    "kind": "flow",
    "context": 0,
    "transforms": 4,
    "hidden": [128, 128],
    "coupling": False,
    "bins": 8,
    "randperm": False,
}
_FLOW_REQUIRED = ("type", "features")
_FLOW_KEYS = frozenset(FLOW_DEFAULTS) | frozenset(_FLOW_REQUIRED)
_TOP_KEYS = frozenset({"kind", "base", "top"})


# --------------------------------------------------------------------------- spec handling


def _check_int(spec: dict, key: str, minimum: int) -> int:
    value = spec[key]
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"flow spec {key!r} must be an int >= {minimum}, got {value!r}")
    return value


def _normalize_spec(spec: dict) -> dict:
    """Fail on typos and bad values at build time, not deep inside zuko or mid-training."""
    unknown = sorted(set(spec) - _FLOW_KEYS)
    if unknown:
        raise ValueError(f"unknown flow spec key(s) {unknown}; allowed: {sorted(_FLOW_KEYS)}")
    missing = [key for key in _FLOW_REQUIRED if key not in spec]
    if missing:
        raise ValueError(f"flow spec is missing required key(s) {missing}")
    if spec.get("kind", "flow") != "flow":
        raise ValueError(f"flow spec 'kind' must be 'flow', got {spec['kind']!r}")
    if spec["type"] not in ("maf", "nsf"):
        raise ValueError(f"flow spec 'type' must be 'maf' or 'nsf', got {spec['type']!r}")
    check_flow(spec, features=spec["features"])

    out = {**FLOW_DEFAULTS, **spec}
    _check_int(out, "features", 1)
    _check_int(out, "context", 0)
    _check_int(out, "transforms", 1)
    _check_int(out, "bins", 2)
    for key in ("coupling", "randperm"):
        if not isinstance(out[key], bool):
            raise ValueError(f"flow spec {key!r} must be a bool, got {out[key]!r}")
    hidden = out["hidden"]
    if (
        not isinstance(hidden, Sequence)
        or isinstance(hidden, str)
        or not hidden
        or not all(isinstance(h, int) and not isinstance(h, bool) and h > 0 for h in hidden)
    ):
        raise ValueError(
            f"flow spec 'hidden' must be a non-empty list of positive ints, got {hidden!r}"
        )
    out["hidden"] = list(hidden)

    if out["coupling"]:
        if out["features"] < 2:
            raise ValueError(
                "coupling flows need features >= 2 (nothing to condition on with 1 feature); "
                "use coupling: false, which reduces to a context-conditioned element-wise flow"
            )
        if out["transforms"] < 2:
            raise ValueError("coupling flows need transforms >= 2 so every feature is transformed")
    return out


# --------------------------------------------------------------------------- building


def _univariate(spec: dict) -> tuple[Callable[..., Any], list[tuple[int, ...]]]:
    """Affine for 'maf', monotonic RQS for 'nsf' (shapes follow zuko.flows.NSF)."""
    if spec["type"] == "maf":
        return MonotonicAffineTransform, [(), ()]
    bins = spec["bins"]
    return partial(MonotonicRQSTransform, slope=1e-3), [(bins,), (bins,), (bins - 1,)]


def _coupling_masks(features: int, transforms: int, randperm: bool) -> list[Tensor]:
    """Masks come in complementary pairs so every feature is transformed at least once."""
    masks = []
    for i in range(transforms):
        if i % 2 == 0:
            order = torch.randperm(features) if randperm else torch.arange(features)
            mask = order % 2 == 1
        else:
            mask = ~masks[-1]
        masks.append(mask)
    return masks


def _build_coupling(spec: dict) -> Flow:
    univariate, shapes = _univariate(spec)
    layers = [
        GeneralCouplingTransform(
            features=spec["features"],
            context=spec["context"],
            mask=mask,
            univariate=univariate,
            shapes=shapes,
            hidden_features=spec["hidden"],
        )
        for mask in _coupling_masks(spec["features"], spec["transforms"], spec["randperm"])
    ]
    base = UnconditionalDistribution(
        DiagNormal,
        torch.zeros(spec["features"]),
        torch.ones(spec["features"]),
        buffer=True,
    )
    return Flow(layers, base)


def build_flow(spec: dict) -> Flow:
    """Build a zuko flow from a config spec (see FLOW_DEFAULTS for optional keys)."""
    spec = _normalize_spec(spec)
    if spec["coupling"]:
        return _build_coupling(spec)
    common = {
        "features": spec["features"],
        "context": spec["context"],
        "transforms": spec["transforms"],
        "randperm": spec["randperm"],
        "hidden_features": spec["hidden"],
    }
    if spec["type"] == "maf":
        return zuko.flows.MAF(**common)
    return zuko.flows.NSF(bins=spec["bins"], **common)


# --------------------------------------------------------------------------- evaluation


def _context(c: Tensor | None) -> Tensor | None:
    """Zero-width context arrays (unconditional datasets) mean 'no context' to zuko."""
    if c is not None and c.shape[-1] == 0:
        return None
    return c


def log_prob(flow: Flow, x: Tensor, c: Tensor | None) -> Tensor:
    """Per-event log density, shape (n,)."""
    return flow(_context(c)).log_prob(x)


def _unpack_batch(batch: Sequence[Tensor | None]) -> tuple[Tensor, Tensor | None, Tensor | None]:
    if len(batch) == 1:
        return batch[0], None, None
    if len(batch) == 2:
        return batch[0], batch[1], None
    if len(batch) == 3:
        return batch[0], batch[1], batch[2]
    raise ValueError(f"batch must be (x,), (x, c) or (x, c, w); got {len(batch)} tensors")


def _weighted_nll(logp: Tensor, w: Tensor | None) -> Tensor:
    if w is None:
        return -logp.mean()
    w = w.reshape(-1).to(logp.dtype)
    return -(w * logp).sum() / w.sum()


def nll_loss(flow: Flow, batch: Sequence[Tensor | None]) -> Tensor:
    """Weighted mean negative log-likelihood; the loss_fn(model, batch) for training a flow."""
    x, c, w = _unpack_batch(batch)
    return _weighted_nll(log_prob(flow, x, c), w)


# --------------------------------------------------------------------------- sampling/transport


def _device_of(module: nn.Module) -> torch.device:
    for tensor in module.parameters():
        return tensor.device
    for tensor in module.buffers():
        return tensor.device
    return torch.device("cpu")


@contextlib.contextmanager
def _seeded(seed: int | None, device: torch.device) -> Iterator[None]:
    """Seed a forked RNG so sampling is reproducible and the caller's RNG state is untouched.

    Only the generators that were forked are seeded: torch.manual_seed would also queue a
    seed for every CUDA device, which leaks into global state outside the fork.
    """
    if seed is None:
        yield
        return
    cuda = device.type == "cuda"
    devices = (
        [device.index if device.index is not None else torch.cuda.current_device()] if cuda else []
    )
    with torch.random.fork_rng(devices=devices):
        torch.default_generator.manual_seed(seed)
        if cuda:
            with torch.cuda.device(devices[0]):
                torch.cuda.manual_seed(seed)
        yield


def sample(
    flow: Flow,
    context: Tensor | None,
    n: int | None = None,
    *,
    batch_size: int = 65536,
    generator_seed: int | None = None,
) -> Tensor:
    """Draw one sample per context row (conditional) or ``n`` samples (unconditional).

    Batched so that huge context arrays do not blow up memory in the inverse pass.
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    if context is not None and context.ndim == 2 and context.shape[1] == 0:
        n, context = (len(context) if n is None else n), None
    device = _device_of(flow)
    with torch.no_grad(), _seeded(generator_seed, device):
        if context is None:
            if n is None:
                raise ValueError("unconditional sampling needs n")
            sizes = [batch_size] * (n // batch_size) + ([n % batch_size] if n % batch_size else [])
            chunks = [flow().sample((m,)) for m in sizes]
            if not chunks:
                return flow().sample((0,))
            return torch.cat(chunks)
        if context.ndim != 2:
            raise ValueError(f"context must have shape (n, context), got {tuple(context.shape)}")
        if n is not None and n != len(context):
            raise ValueError(
                f"conditional sampling draws one sample per row; n={n} != {len(context)}"
            )
        chunks = [flow(c).sample() for c in context.split(batch_size)]
        return torch.cat(chunks)


def transport(
    flow: Flow,
    x: Tensor,
    c_from: Tensor,
    c_to: Tensor,
    *,
    batch_size: int = 65536,
) -> Tensor:
    """Map events from condition ``c_from`` to ``c_to`` through the shared latent space.

    Keeps each event's latent quantile fixed, so it moves 'the same event' across
    conditions instead of resampling it.
    """
    if not (len(x) == len(c_from) == len(c_to)):
        raise ValueError("x, c_from and c_to must have the same number of rows")
    out = []
    with torch.no_grad():
        for xb, cf, ct in zip(
            x.split(batch_size), c_from.split(batch_size), c_to.split(batch_size), strict=True
        ):
            z = flow.transform(cf)(xb)
            out.append(flow.transform(ct).inv(z))
    return torch.cat(out) if out else x.clone()


# --------------------------------------------------------------------------- FETA top flow


class TopFlowModel(nn.Module):
    """FETA-style morphing: a frozen base flow p_MC(x|c) and a small trainable 'top' bijection
    g(.|c) such that p_data(x|c) = p_MC(g(x|c) | c) * |det dg/dx|. Trained by likelihood on
    data; MC events are pushed through g^{-1} to become data-like.

    Only the top flow's transform is used (its base distribution is irrelevant).
    ``condition_top=False`` lets an unconditional top morph a conditional base.
    """

    def __init__(self, base: Flow, top: Flow, *, condition_top: bool = True) -> None:
        super().__init__()
        self.base = base
        self.top = top
        self.condition_top = condition_top
        self.base.requires_grad_(False)
        self.top.base.requires_grad_(False)

    def trainable_parameters(self) -> list[nn.Parameter]:
        """What the optimizer should see: the top transform only, never the MC model."""
        return [p for p in self.top.transform.parameters() if p.requires_grad]

    def _top(self, c: Tensor | None) -> Any:
        return self.top.transform(c if self.condition_top else None)

    def log_prob(self, x: Tensor, c: Tensor | None) -> Tensor:
        """log p_data(x|c), shape (n,)."""
        c = _context(c)
        y, ladj = self._top(c).call_and_ladj(x)
        return self.base(c).log_prob(y) + ladj

    def morph(self, x_mc: Tensor, c: Tensor | None, *, batch_size: int = 65536) -> Tensor:
        """Push MC events through g^{-1} so they follow the data distribution."""
        c = _context(c)
        c_chunks = c.split(batch_size) if c is not None else [None] * len(x_mc.split(batch_size))
        with torch.no_grad():
            out = [
                self._top(cb).inv(xb)
                for xb, cb in zip(x_mc.split(batch_size), c_chunks, strict=True)
            ]
        return torch.cat(out) if out else x_mc.clone()

    def forward(self, x: Tensor, c: Tensor | None = None) -> Tensor:
        return self.log_prob(x, c)


def top_flow_nll(model: TopFlowModel, batch: Sequence[Tensor | None]) -> Tensor:
    """Weighted mean NLL of data under the morphed model; loss_fn(model, batch)."""
    x, c, w = _unpack_batch(batch)
    return _weighted_nll(model.log_prob(x, c), w)


def _zero_output_layers(flow: Flow) -> None:
    """Make the flow's transform the identity (zero shift/log-scale, uniform spline).

    FETA training then starts exactly at p_MC rather than at a random distortion of it.
    """
    for module in flow.transform.modules():
        hyper = getattr(module, "hyper", None)
        if isinstance(hyper, nn.Sequential):
            last = hyper[-1]
            nn.init.zeros_(last.weight)
            if last.bias is not None:
                nn.init.zeros_(last.bias)
        phi = getattr(module, "phi", None)
        if isinstance(phi, nn.ParameterList):
            with torch.no_grad():
                for p in phi:
                    p.zero_()


def build_top_model(base_spec: dict, top_spec: dict) -> TopFlowModel:
    """Build base + identity-initialised top; top context must be 0 or match the base."""
    base_n = _normalize_spec(base_spec)
    top_n = _normalize_spec(top_spec)
    if top_n["features"] != base_n["features"]:
        raise ValueError(
            f"top flow features ({top_n['features']}) must match base ({base_n['features']})"
        )
    if top_n["context"] not in (0, base_n["context"]):
        raise ValueError(
            f"top flow context ({top_n['context']}) must be 0 or match base ({base_n['context']})"
        )
    top = build_flow(top_spec)
    _zero_output_layers(top)
    return TopFlowModel(build_flow(base_spec), top, condition_top=top_n["context"] > 0)


def _build_flow_from_spec(spec: dict) -> Flow:
    """Registry entry point (models.load_model hands over the spec without its saved meta)."""
    return build_flow(spec)


def _build_top_from_spec(spec: dict) -> TopFlowModel:
    """Registry entry point for {"kind": "top_flow", "base": {...}, "top": {...}}."""
    unknown = sorted(set(spec) - _TOP_KEYS)
    if unknown:
        raise ValueError(f"unknown top_flow spec key(s) {unknown}; allowed: {sorted(_TOP_KEYS)}")
    if spec.get("kind", "top_flow") != "top_flow":
        raise ValueError(f"top_flow spec 'kind' must be 'top_flow', got {spec['kind']!r}")
    for key in ("base", "top"):
        if not isinstance(spec.get(key), dict):
            raise ValueError(f"top_flow spec needs a {key!r} flow spec dict")
    return build_top_model(spec["base"], spec["top"])


register_builder("flow", _build_flow_from_spec)
register_builder("top_flow", _build_top_from_spec)
