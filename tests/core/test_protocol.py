"""Training protocols: block order, catch and channel trials at their rates, readouts, spec errors."""

from __future__ import annotations

from typing import Any

import pytest
import torch
from scipy import stats

from motornet_core.envs.perturbations import LoadPlan
from motornet_core.errors import SpecError
from motornet_core.losses import Trajectory
from motornet_core.run_presets import run_preset
from motornet_core.specs import ProtocolSpec, RunSpec
from motornet_core.training import Trainer
from motornet_core.training.protocol import CATCH, CHANNEL, FIELD, apply_trial_kinds, protocol_readouts, trial_kinds
from motornet_core.training.sinks import NullSink

CURL = [{"kind": "curl_field", "gain": 20.0}]


def _spec(blocks: list[dict[str, Any]], **protocol: Any) -> dict[str, Any]:
    spec = run_preset("tiny_point_mass").model_dump(mode="json")
    spec["policy"]["hidden_size"] = 8
    spec["train"].update(
        n_iterations=sum(b["n_iterations"] for b in blocks),
        batch_size=8,
        eval_every=1000,
        protocol={"blocks": blocks, **protocol},
    )
    return spec


class Rows(NullSink):
    def __init__(self) -> None:
        self.rows: dict[int, dict[str, float]] = {}

    def on_metric(self, step: int, values: dict[str, float]) -> None:
        self.rows[step] = dict(values)


def test_the_field_is_on_exactly_in_the_curl_blocks_iterations() -> None:
    blocks = [
        {"name": "baseline", "n_iterations": 2, "perturbations": []},
        {"name": "curl", "n_iterations": 3, "perturbations": CURL},
        {"name": "washout", "n_iterations": 2, "perturbations": []},
    ]
    sink = Rows()
    Trainer(_spec(blocks)).train(sink)
    assert [sink.rows[k]["protocol/block"] for k in range(1, 8)] == [0, 0, 1, 1, 1, 2, 2]
    assert [sink.rows[k]["protocol/field_fraction"] for k in range(1, 8)] == [0, 0, 1, 1, 1, 0, 0]
    assert all("protocol/lateral_deviation" in sink.rows[k] for k in range(1, 8))


def test_catch_trials_come_at_the_requested_rate_from_the_seeded_generator() -> None:
    protocol = ProtocolSpec.parse({"blocks": [{"name": "curl", "n_iterations": 1}], "catch_prob": 0.2, "channel_prob": 0.1})
    like = torch.zeros(1)
    n = 20_000
    kinds = trial_kinds(n, protocol, torch.Generator().manual_seed(3), like)
    again = trial_kinds(n, protocol, torch.Generator().manual_seed(3), like)
    assert torch.equal(kinds, again)
    for kind, p in ((CATCH, 0.2), (CHANNEL, 0.1), (FIELD, 0.7)):
        k = int((kinds == kind).sum())
        assert stats.binomtest(k, n, p).pvalue > 1e-3


def test_catch_trials_of_a_curl_block_have_no_field_and_channel_trials_only_the_channel() -> None:
    blocks = [{"name": "curl", "n_iterations": 4, "perturbations": CURL}]
    sink = Rows()
    Trainer(_spec(blocks, catch_prob=0.25, channel_prob=0.25)).train(sink)
    for row in sink.rows.values():
        # field_fraction counts trials with a load: exactly the non-catch, non-channel ones
        assert row["protocol/field_fraction"] == pytest.approx(
            1 - row["protocol/catch_fraction"] - row["protocol/channel_fraction"]
        )
    # the same through the schedule itself
    trainer = Trainer(_spec(blocks, catch_prob=0.5, channel_prob=0.25))
    state = trainer.block_envs[0].initial(64, generator=torch.Generator().manual_seed(0))
    kinds = trial_kinds(64, trainer.spec.train.protocol, torch.Generator().manual_seed(1), state.effector.position)
    plan = apply_trial_kinds(state.episode.loads, kinds, trainer.spec.train.protocol)
    assert bool((plan.curl[kinds == FIELD] == 20.0).all()) and bool((plan.curl[kinds != FIELD] == 0).all())
    assert bool((plan.channel_k[kinds == CHANNEL] == 2000.0).all()) and bool((plan.channel_k[kinds != CHANNEL] == 0).all())


def test_readouts_on_a_hand_made_batch() -> None:
    # three trials moving along +x from the origin; the channel's normal is +y
    t = torch.linspace(0, 1, 11)
    tip = torch.zeros(3, 11, 4)
    tip[..., 0] = 0.1 * t
    tip[0, :, 1] = -0.02 * torch.sin(torch.pi * t)  # field trial: pushed right, peak -0.02 m
    tip[1, :, 1] = 0.01 * torch.sin(torch.pi * t)  # catch trial: +0.01 m
    tip[2, :, 1] = 0.001  # channel trial: held 1 mm left, no lateral speed
    traj = Trajectory(fingertip=tip, target=tip[..., :2], activation=torch.zeros(3, 11, 1),
                      action=torch.zeros(3, 10, 1), hidden=torch.zeros(3, 10, 1), dt=0.1)  # fmt: skip
    kinds = torch.tensor([FIELD, CATCH, CHANNEL])
    base = LoadPlan(
        endpoint=torch.zeros(3, 10, 2), joint=torch.zeros(3, 10, 2), curl=torch.full((3, 10), 5.0),
        channel_k=torch.zeros(3, 10), channel_b=torch.zeros(3, 10),
        channel_origin=torch.zeros(3, 2), channel_normal=torch.tensor([[0.0, 1.0]] * 3),
    )  # fmt: skip
    protocol = ProtocolSpec.parse(
        {"blocks": [{"name": "c", "n_iterations": 1}], "channel_stiffness": 3000.0, "channel_damping": 0.0}
    )
    out = protocol_readouts(traj, apply_trial_kinds(base, kinds, protocol), kinds, block=2)
    assert out["protocol/block"] == 2
    assert out["protocol/lateral_deviation"] == pytest.approx(-0.02, abs=1e-6)
    assert out["protocol/catch_deviation"] == pytest.approx(0.01, abs=1e-6)
    assert out["protocol/channel_force"] == pytest.approx(3000.0 * 0.001, rel=1e-5)
    assert out["protocol/field_fraction"] == pytest.approx(1 / 3)


def test_no_protocol_keeps_the_metrics_unchanged() -> None:
    spec = run_preset("tiny_point_mass").model_dump(mode="json")
    spec["train"].update(n_iterations=1, batch_size=4)
    sink = Rows()
    Trainer(spec).train(sink)
    assert not any(k.startswith("protocol/") for k in sink.rows[1])


@pytest.mark.parametrize(
    ("change", "loc"),
    [
        (lambda s: s["train"].update(n_iterations=99), "train.n_iterations"),
        (lambda s: s["train"]["protocol"].update(catch_prob=0.7, channel_prob=0.5), "train.protocol.channel_prob"),
        (lambda s: s["train"]["protocol"]["blocks"][1].update(name="a"), "train.protocol.blocks.1.name"),
        (lambda s: s["train"]["protocol"]["blocks"][1].update(n_iterations=0), "train.protocol.blocks.1.n_iterations"),
        (
            lambda s: s["train"]["protocol"]["blocks"][1].update(perturbations=[{"kind": "curl_field", "gain": -1}]),
            "train.protocol.blocks.1.perturbations.0.gain",
        ),
        (
            lambda s: s["train"]["protocol"]["blocks"][1].update(perturbations=[{"kind": "joint_load", "torque": [1, 2, 3]}]),
            "train.protocol.blocks.1.perturbations.0.torque",
        ),
    ],
)
def test_invalid_protocols_name_the_path(change: Any, loc: str) -> None:
    spec = _spec([{"name": "a", "n_iterations": 1}, {"name": "b", "n_iterations": 1, "perturbations": CURL}])
    RunSpec.parse(spec)
    change(spec)
    with pytest.raises(SpecError) as info:
        RunSpec.parse(spec)
    assert loc in [e["loc"] for e in info.value.errors]


def test_an_ensemble_with_a_protocol_is_refused_naming_train_replicates() -> None:
    spec = _spec([{"name": "a", "n_iterations": 1}])
    spec["train"]["replicates"] = 2
    with pytest.raises(SpecError) as info:
        RunSpec.parse(spec)
    assert [e["loc"] for e in info.value.errors] == ["train.replicates"]
    assert "protocol" in info.value.errors[0]["msg"]


def test_evaluation_snapshots_show_the_current_blocks_field() -> None:
    blocks = [
        {"name": "baseline", "n_iterations": 1, "perturbations": []},
        {"name": "curl", "n_iterations": 1, "perturbations": CURL},
    ]
    trainer = Trainer(_spec(blocks))
    assert trainer.current_block() == 0
    base = trainer.evaluate()
    trainer.train_step()
    assert trainer.current_block() == 0
    same = trainer.evaluate()
    trainer.train_step()
    assert trainer.current_block() == 1
    curl = trainer.evaluate()
    # the network changed between the first two only by one step; the field moves the hand far more than that
    assert base.hand != curl.hand and same.hand != curl.hand
