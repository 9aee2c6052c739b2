import copy

import pytest
import torch

from hepflows.core import flows, models

SMALL = {"transforms": 2, "hidden": [16, 16]}


@pytest.fixture(autouse=True, scope="module")
def _single_thread():
    """Tiny nets: a second intra-op thread only adds sync overhead on a shared 2-core box."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def _spec(type_: str, features: int, context: int, coupling: bool = False, **extra) -> dict:
    return {
        "kind": "flow",
        "type": type_,
        "features": features,
        "context": context,
        "coupling": coupling,
        **SMALL,
        **extra,
    }


def _adam_fit(params, loss_fn, steps: int, lr: float = 1e-2) -> None:
    opt = torch.optim.Adam(params, lr=lr)
    for _ in range(steps):
        opt.zero_grad()
        loss = loss_fn()
        loss.backward()
        opt.step()


# --------------------------------------------------------------------------- building


@pytest.mark.parametrize("type_", ["maf", "nsf"])
@pytest.mark.parametrize("coupling", [False, True])
@pytest.mark.parametrize("context", [0, 3])
def test_build_flow_variants(type_, coupling, context):
    torch.manual_seed(0)
    flow = flows.build_flow(_spec(type_, 4, context, coupling, randperm=coupling))
    x = torch.randn(50, 4)
    c = torch.randn(50, context) if context else None
    lp = flows.log_prob(flow, x, c)
    assert lp.shape == (50,)
    assert torch.isfinite(lp).all()
    # Random init is not the identity, so every feature must be moved by some layer; a
    # coupling mask scheme that leaves a feature on the conditioning side everywhere fails.
    z = flow.transform(c)(x)
    assert ((z - x).abs() > 1e-6).all(dim=0).all()
    x_back = flow.transform(c).inv(z)
    assert torch.allclose(x_back, x, atol=1e-4)


@pytest.mark.parametrize("type_", ["maf", "nsf"])
@pytest.mark.parametrize("context", [0, 2])
def test_single_feature_autoregressive(type_, context):
    flow = flows.build_flow(_spec(type_, 1, context))
    c = torch.randn(30, context) if context else None
    lp = flows.log_prob(flow, torch.randn(30, 1), c)
    assert lp.shape == (30,)
    assert torch.isfinite(lp).all()
    if context:
        assert flows.sample(flow, c).shape == (30, 1)
    else:
        assert flows.sample(flow, None, 30).shape == (30, 1)


def test_single_feature_coupling_is_rejected():
    with pytest.raises(ValueError, match="coupling"):
        flows.build_flow(_spec("maf", 1, 2, coupling=True))


@pytest.mark.parametrize(
    ("change", "needle"),
    [
        ({"hiden": [8]}, "hiden"),
        ({"type": "realnvp"}, "type"),
        ({"features": 0}, "features"),
        ({"bins": 8}, "bins"),  # bins with type maf
        ({"coupling": "yes"}, "coupling"),
        ({"kind": "classifier"}, "kind"),
    ],
)
def test_bad_spec_raises_naming_key(change, needle):
    spec = {**_spec("maf", 3, 1), **change}
    with pytest.raises(ValueError, match=needle):
        flows.build_flow(spec)


def test_defaults_match_documented_spec():
    flow = flows.build_flow({"type": "nsf", "features": 2})
    assert len(flow.transform.transforms) == 4
    first = flow.transform.transforms[0]
    assert first.hyper[0].out_features == 128
    assert first.shapes[0] == (8,)


# --------------------------------------------------------------------------- losses


def test_nll_loss_weights_act_like_duplicated_events():
    torch.manual_seed(1)
    flow = flows.build_flow(_spec("maf", 2, 1))
    x, c = torch.randn(10, 2), torch.randn(10, 1)
    w = torch.ones(10)
    w[0] = 3.0
    dup_x = torch.cat([x, x[:1], x[:1]])
    dup_c = torch.cat([c, c[:1], c[:1]])
    weighted = flows.nll_loss(flow, (x, c, w))
    duplicated = flows.nll_loss(flow, (dup_x, dup_c))
    assert torch.allclose(weighted, duplicated, atol=1e-5)
    assert not torch.allclose(weighted, flows.nll_loss(flow, (x, c)), atol=1e-5)


def test_nll_loss_unconditional_batch():
    flow = flows.build_flow(_spec("nsf", 2, 0))
    x = torch.randn(20, 2)
    loss = flows.nll_loss(flow, (x,))
    assert torch.allclose(loss, -flows.log_prob(flow, x, None).mean())
    # a zero-width context column block means 'unconditional'
    assert torch.allclose(flows.nll_loss(flow, (x, torch.empty(20, 0))), loss)


# --------------------------------------------------------------------------- trained flow


@pytest.fixture(scope="module")
def shift_flow():
    """MAF for x | c ~ N(c, 0.5) in two features, c ~ U(-3, 3)."""
    torch.manual_seed(2)
    flow = flows.build_flow(_spec("maf", 2, 1, hidden=[32, 32]))

    def loss():
        c = torch.rand(512, 1) * 6 - 3
        x = c + 0.5 * torch.randn(512, 2)
        return flows.nll_loss(flow, (x, c))

    _adam_fit(flow.parameters(), loss, steps=250)
    return flow


def test_conditional_flow_learns_mean_shift(shift_flow):
    # alternating rows + small batch size check that sample row i belongs to context row i
    c = torch.tensor([[2.0], [-2.0]]).repeat(500, 1)
    s = flows.sample(shift_flow, c, batch_size=97, generator_seed=3)
    assert s.shape == (1000, 2)
    diff = s[0::2].mean(0) - s[1::2].mean(0)
    assert (diff > 2).all()
    assert (diff - 4).abs().max() < 0.5


def test_sample_reproducible_and_leaves_global_rng_alone(shift_flow):
    c = torch.randn(200, 1)
    state = torch.get_rng_state()
    a = flows.sample(shift_flow, c, generator_seed=11)
    assert torch.equal(torch.get_rng_state(), state)
    b = flows.sample(shift_flow, c, generator_seed=11)
    other = flows.sample(shift_flow, c, generator_seed=12)
    assert torch.equal(a, b)
    assert not torch.allclose(a, other)
    assert not a.requires_grad
    with pytest.raises(ValueError, match="one sample per row"):
        flows.sample(shift_flow, c, n=5)


def test_unconditional_sample_count_and_batching():
    flow = flows.build_flow(_spec("maf", 3, 0))
    s = flows.sample(flow, None, 250, batch_size=64, generator_seed=0)
    assert s.shape == (250, 3)
    assert torch.isfinite(s).all()
    assert len(torch.unique(s[:, 0])) == 250  # batches are not copies of each other
    assert flows.sample(flow, None, 0).shape == (0, 3)
    with pytest.raises(ValueError, match="needs n"):
        flows.sample(flow, None)


def test_transport_identity_when_conditions_equal():
    torch.manual_seed(4)
    flow = flows.build_flow(_spec("nsf", 3, 2))
    x, c = torch.randn(300, 3), torch.randn(300, 2)
    assert torch.allclose(flows.transport(flow, x, c, c, batch_size=64), x, atol=1e-4)


def test_transport_moves_between_conditions(shift_flow):
    torch.manual_seed(5)
    x = -2 + 0.5 * torch.randn(2000, 2)
    c_from, c_to = torch.full((2000, 1), -2.0), torch.full((2000, 1), 2.0)
    moved = flows.transport(shift_flow, x, c_from, c_to, batch_size=512)
    shift = moved - x
    assert ((shift.mean(0) - 4).abs() < 0.4).all()
    # the per-event map is close to a pure shift here, so it preserves each event's offset
    assert (shift.std(0) < 0.3).all()


# --------------------------------------------------------------------------- FETA top flow

TOP_SPEC = {"kind": "flow", "type": "maf", "features": 2, "context": 1, "transforms": 1,
            "hidden": [16, 16]}  # fmt: skip
BASE_SPEC = _spec("maf", 2, 1, hidden=[32, 32])


@pytest.mark.parametrize("type_", ["maf", "nsf"])
@pytest.mark.parametrize("coupling", [False, True])
def test_top_model_starts_at_identity(type_, coupling):
    torch.manual_seed(6)
    top = {**TOP_SPEC, "type": type_, "coupling": coupling, "transforms": 2}
    model = flows.build_top_model(BASE_SPEC, top)
    x, c = torch.randn(40, 2), torch.randn(40, 1)
    base_lp = flows.log_prob(model.base, x, c)
    assert torch.allclose(model.log_prob(x, c), base_lp, atol=1e-5)
    assert torch.allclose(model.morph(x, c), x, atol=1e-5)


def test_top_model_learns_shift_and_keeps_base_frozen(shift_flow):
    torch.manual_seed(7)
    model = flows.build_top_model(BASE_SPEC, TOP_SPEC)
    model.base.load_state_dict(shift_flow.state_dict())
    before = copy.deepcopy(model.base.state_dict())

    base_ids = {id(p) for p in model.base.parameters()}
    trainable = model.trainable_parameters()
    assert trainable and not base_ids & {id(p) for p in trainable}
    assert not any(p.requires_grad for p in model.base.parameters())

    def loss():
        c = torch.rand(512, 1) * 4 - 2
        x_data = c + 1.0 + 0.5 * torch.randn(512, 2)
        return flows.top_flow_nll(model, (x_data, c, torch.ones(512)))

    # model.parameters() on purpose: freezing must hold even if the trainer ignores
    # trainable_parameters()
    _adam_fit(model.parameters(), loss, steps=300)

    for key, value in model.base.state_dict().items():
        assert torch.equal(value, before[key]), key

    c = torch.rand(4000, 1) * 4 - 2
    x_mc = c + 0.5 * torch.randn(4000, 2)
    morphed = model.morph(x_mc, c, batch_size=1000)
    assert not morphed.requires_grad
    shift = (morphed - x_mc).mean(0)
    assert ((shift - 1).abs() < 0.3).all()


def test_top_model_rejects_mismatched_specs():
    with pytest.raises(ValueError, match="features"):
        flows.build_top_model(BASE_SPEC, {**TOP_SPEC, "features": 3})
    with pytest.raises(ValueError, match="context"):
        flows.build_top_model(BASE_SPEC, {**TOP_SPEC, "context": 2})


def test_unconditional_top_on_conditional_base():
    model = flows.build_top_model(BASE_SPEC, {**TOP_SPEC, "context": 0})
    x, c = torch.randn(10, 2), torch.randn(10, 1)
    assert model.log_prob(x, c).shape == (10,)
    assert model.morph(x, c).shape == (10, 2)


def test_top_model_save_load_roundtrip(tmp_path):
    torch.manual_seed(8)
    spec = {"kind": "top_flow", "base": BASE_SPEC, "top": {**TOP_SPEC, "type": "nsf"}}
    model = flows.build_top_model(spec["base"], spec["top"])
    # perturb the identity-initialised top so the round trip is not trivially exact
    with torch.no_grad():
        for p in model.trainable_parameters():
            p.add_(0.1 * torch.randn_like(p))
    stem = tmp_path / "top"
    models.save_model(stem, model, spec)
    loaded, loaded_spec = models.load_model(stem)
    assert {k: v for k, v in loaded_spec.items() if k != "hepflows_version"} == spec
    assert isinstance(loaded, flows.TopFlowModel)
    x, c = torch.randn(64, 2), torch.randn(64, 1)
    with torch.no_grad():
        assert torch.equal(loaded.log_prob(x, c), model.log_prob(x, c))
    assert not any(p.requires_grad for p in loaded.base.parameters())


def test_flow_save_load_roundtrip_keeps_random_masks(tmp_path):
    spec = _spec("nsf", 5, 2, coupling=True, randperm=True)
    flow = flows.build_flow(spec)
    stem = tmp_path / "flow"
    models.save_model(stem, flow, spec)
    torch.manual_seed(123)  # a different RNG state draws different masks on rebuild
    loaded, _ = models.load_model(stem)
    x, c = torch.randn(32, 5), torch.randn(32, 2)
    with torch.no_grad():
        assert torch.equal(flows.log_prob(loaded, x, c), flows.log_prob(flow, x, c))
