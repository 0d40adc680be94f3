"""Replicate ensembles: N networks in one batched computation, each an ordinary run."""

from __future__ import annotations

import pytest
import torch

from motornet_core.errors import SpecError
from motornet_core.policies import build_policy
from motornet_core.run_presets import run_preset
from motornet_core.specs import RunSpec
from motornet_core.training import EnsembleTrainer, ListSink, Trainer, replicate_specs
from motornet_core.training.ensemble import EnsemblePolicy, cat_rows, take_rows

NOISY = {
    "policy.hidden_noise": 0.02,
    "task.obs_noise": 0.01,
    "task.action_noise": 0.01,
    "task.vision_noise": 0.001,
    "task.action_frame_stacking": 2,
    "task.perturbations": [{"kind": "curl_field", "gain": 5.0, "probability": 0.5}],
}


@pytest.fixture(autouse=True)
def _one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _spec(preset: str = "tiny_arm26", **train) -> RunSpec:
    updates = {
        **NOISY,
        "task.duration": 0.15,
        "train.batch_size": 4,
        "train.n_iterations": 4,
        "train.seed": 3,
        "train.replicates": 3,
    }
    updates.update({f"train.{k}": v for k, v in train.items()})
    return run_preset(preset).with_updates(updates)


def _single(spec: RunSpec, i: int, **train) -> Trainer:
    return Trainer(
        spec.with_updates(
            {"train.seed": spec.train.seed + i, "train.replicates": 1, **{f"train.{k}": v for k, v in train.items()}}
        )
    )


def _close(a: list[float], b: list[float], rtol: float) -> None:
    assert len(a) == len(b)
    for x, y in zip(a, b, strict=True):
        assert abs(x - y) <= rtol * abs(y), (a, b)


@pytest.mark.parametrize("preset", ["tiny_arm26", "tiny_point_mass"])
def test_replicate_i_trains_like_a_single_run_with_seed_i(preset: str) -> None:
    """Every noise source, delays, stacked actions and a curl field: replicate i's losses, final
    weights and evaluation equal those of a single run with seed + i (to rounding)."""
    spec = _spec(preset)
    ens = EnsembleTrainer(spec)
    sinks = [ListSink() for _ in range(3)]
    results = ens.train(sinks)
    assert [r.step for r in results] == [4, 4, 4]
    for i, rep in enumerate(ens.replicates):
        single = _single(spec, i)
        single.train()
        _close(rep.history, single.history, 1e-5)
        for p, q in zip(rep.policy.parameters(), single.policy.parameters(), strict=True):
            torch.testing.assert_close(p, q, rtol=1e-4, atol=1e-6)
        assert [s for s, _ in sinks[i].metrics] == [1, 2, 3, 4]
        assert sinks[i].snapshots[-1][1]["mean_endpoint_error"] == pytest.approx(
            single.evaluate()["mean_endpoint_error"], rel=1e-4
        )
    assert ens.replicates[0].history != ens.replicates[1].history  # independent networks and data


@pytest.mark.slow
def test_compiled_replicates_follow_single_runs() -> None:
    torch._dynamo.reset()
    spec = _spec(compile=True, n_iterations=2)
    ens = EnsembleTrainer(spec)
    with torch._dynamo.config.patch(error_on_recompile=True):  # one compiled variant, first chunk included
        ens.train()
    assert ens.loop.compiled_steps > 0
    for i, rep in enumerate(ens.replicates):
        single = _single(spec, i, compile=False)
        single.train()
        _close(rep.history, single.history, 1e-4)


def test_a_replicate_is_an_ordinary_run_and_the_ensemble_resumes_exactly(tmp_path) -> None:
    spec = _spec(n_iterations=4, checkpoint_every=2)
    full = EnsembleTrainer(spec)
    full.train()
    paths = [tmp_path / f"r{i}.pt" for i in range(3)]
    first = EnsembleTrainer(spec)
    calls = iter(range(100))
    first.train(should_stop=lambda: next(calls) >= 2, checkpoint_paths=paths)
    assert first.step == 2
    # replicate 1's checkpoint is a single run's: it resumes on its own, like the single run would
    alone = Trainer.from_checkpoint(paths[1])
    assert alone.spec.train.seed == 4 and alone.spec.train.replicates == 1
    alone.train()
    _close(alone.history, full.replicates[1].history, 1e-5)
    # and the ensemble resumes from its replicates' checkpoints
    resumed = EnsembleTrainer.from_checkpoints(spec, paths)
    resumed.train()
    for a, b in zip(resumed.replicates, full.replicates, strict=True):
        assert a.history == b.history


def test_unfused_cells_equal_the_fused_ones() -> None:
    """The matrix-product cells that vmap batches give torch's fused cells' values."""
    spec = run_preset("tiny_point_mass")
    for kind in ("gru", "rnn", "lstm", "mlp"):
        policy = build_policy(spec.policy.model_copy(update={"kind": kind, "n_layers": 2}), 7, 4).double()
        obs = torch.randn(5, 7, dtype=torch.float64)
        h = torch.randn(5, 2, policy.state_size, dtype=torch.float64)
        a1, h1 = policy(obs, h, noise=False)
        a2, h2 = policy(obs, h, noise=False, fused=False)
        torch.testing.assert_close(a1, a2, rtol=1e-12, atol=1e-12)
        torch.testing.assert_close(h1, h2, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("n_layers", [1, 2])
def test_grouped_gru_steps_equal_the_vmap_ones(n_layers: int) -> None:
    """EnsemblePolicy's grouped matrix products (plain GRUs) give vmap(functional_call)'s actions, states
    and gradients, with hidden noise and a unit intervention on (float64)."""
    spec = run_preset("tiny_point_mass").policy.model_copy(update={"n_layers": n_layers, "hidden_noise": 0.1})
    policies = []
    for i in range(3):
        torch.manual_seed(i)
        policies.append(build_policy(spec, 7, 4).double())
    ens = EnsemblePolicy(policies)
    assert ens.grouped
    g = torch.Generator().manual_seed(0)
    obs = torch.randn(3 * 5, 7, dtype=torch.float64, generator=g)
    h = torch.randn(3 * 5, n_layers, ens.state_size, dtype=torch.float64, generator=g)
    eps = [torch.randn(3 * 5, ens.hidden_size, dtype=torch.float64, generator=g) for _ in range(n_layers)]
    units = (torch.rand(ens.hidden_size, dtype=torch.float64, generator=g), torch.randn(ens.hidden_size, dtype=torch.float64))
    out = {}
    for grouped in (True, False):
        ens.grouped = grouped
        ens.zero_grad(set_to_none=True)
        ens.bind()
        action, new = ens(obs, h, eps=eps, units=units)
        (action.square().sum() + new.sum()).backward()
        out[grouped] = (action, new, [p.grad.clone() for p in ens.parameters()])
    for x, y in zip(out[True][:2], out[False][:2], strict=True):
        torch.testing.assert_close(x, y, rtol=1e-12, atol=1e-12)
    for x, y in zip(out[True][2], out[False][2], strict=True):
        torch.testing.assert_close(x, y, rtol=1e-10, atol=1e-12)


def test_other_policies_go_through_vmap() -> None:
    spec = run_preset("tiny_point_mass").policy
    for kind in ("rnn", "lstm", "mlp"):
        assert not EnsemblePolicy([build_policy(spec.model_copy(update={"kind": kind}), 7, 4) for _ in range(2)]).grouped


def test_replicate_specs_and_refusals() -> None:
    spec = _spec()
    specs = replicate_specs(spec)
    assert [s.train.seed for s in specs] == [3, 4, 5] and all(s.train.replicates == 1 for s in specs)
    with pytest.raises(SpecError) as err:
        Trainer(spec)
    assert err.value.errors[0]["loc"] == "train.replicates"
    with pytest.raises(SpecError) as err:
        replicate_specs(spec.with_updates({"train.seed": 2**31 - 2}))
    assert err.value.errors[0]["loc"] == "train.seed"


def test_rows_concatenate_and_split_back() -> None:
    from motornet_core.envs import FunctionalEnv

    env = FunctionalEnv(run_preset("tiny_arm26").effector, run_preset("tiny_arm26").with_updates(NOISY).task)
    a, b = env.initial(2, torch.Generator().manual_seed(0)), env.initial(3, torch.Generator().manual_seed(1))
    both = cat_rows([a.episode, b.episode])
    assert both.start.shape[0] == 5
    back = take_rows(both, slice(2, 5))
    torch.testing.assert_close(back.goal, b.episode.goal)
    torch.testing.assert_close(back.loads.curl, b.episode.loads.curl)


def test_a_stopped_ensemble_checkpoints_its_last_iteration_before_reporting_it(tmp_path) -> None:
    """As Trainer.train: the iteration after which the stop is seen is kept before its metrics are sent."""

    class Events(ListSink):
        def __init__(self) -> None:
            super().__init__()
            self.events: list[tuple[str, int]] = []

        def on_metric(self, step: int, values: dict[str, float]) -> None:
            self.events.append(("metric", step))

        def on_checkpoint(self, step: int, path: str) -> None:
            self.events.append(("checkpoint", step))

    spec = _spec("tiny_point_mass", n_iterations=50, checkpoint_every=1000, eval_every=1000).with_updates({"train.replicates": 2})
    ens = EnsembleTrainer(spec)
    sinks = [Events(), Events()]
    ens.train(sinks, should_stop=lambda: ens.step >= 2, checkpoint_paths=[tmp_path / "a.pt", tmp_path / "b.pt"])
    for sink in sinks:
        assert sink.events.index(("checkpoint", 2)) < sink.events.index(("metric", 2)), sink.events
        assert sink.events.count(("checkpoint", 2)) == 1
