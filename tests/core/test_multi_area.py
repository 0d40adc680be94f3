"""Multi-area policies (masks, delays, time constants, Dale's law) and interventions on units, areas and muscles."""

from __future__ import annotations

import pytest
import torch

from motornet_core.errors import SpecError
from motornet_core.policies import policy_for_run
from motornet_core.policies.multi_area import MultiAreaPolicy
from motornet_core.run_presets import run_preset
from motornet_core.specs import RunSpec
from motornet_core.specs.run import observation_groups
from motornet_core.training import EnsembleTrainer, Trainer
from motornet_core.training.interventions import InterventionSchedule
from motornet_core.training.rollout import ClosedLoop, rollout


@pytest.fixture(autouse=True)
def _one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _spec(**updates) -> RunSpec:
    return run_preset("tiny_two_area").with_updates({"train.batch_size": 4, **updates})


def _errors(data: dict) -> list[tuple[str, str]]:
    with pytest.raises(SpecError) as info:
        RunSpec.parse(data)
    return [(e["loc"], e["msg"]) for e in info.value.errors]


def _policy_dict(**changes) -> dict:
    spec = _spec().model_dump(mode="json")
    spec["policy"].update(changes)
    return spec


# -- specs -------------------------------------------------------------------------------------------------------------
def test_specs_name_the_path_of_what_is_wrong() -> None:
    base = _spec().model_dump(mode="json")

    def bad(mutate) -> list[str]:
        data = _spec().model_dump(mode="json")
        mutate(data)
        return [loc for loc, _ in _errors(data)]

    assert bad(lambda d: d["policy"]["areas"][1].update(size=0)) == ["policy.areas.1.size"]
    assert bad(lambda d: d["policy"]["areas"][1].update(name="premotor")) == ["policy.areas.1.name"]
    assert bad(lambda d: d["policy"]["areas"][1].update(name="1bad")) == ["policy.areas.1.name"]
    assert bad(lambda d: d["policy"]["connections"][0].update(target="spinal")) == ["policy.connections.0.target"]
    assert bad(lambda d: d["policy"]["connections"][0].update(target="premotor")) == ["policy.connections.0.target"]
    assert bad(lambda d: d["policy"]["connections"].append(dict(d["policy"]["connections"][0]))) == ["policy.connections.2"]
    assert bad(lambda d: d["policy"]["areas"][1].update(to_muscles=False)) == ["policy.areas"]
    assert bad(lambda d: d["policy"]["areas"][0].update(tau=0.001)) == ["policy.areas.0.tau"]  # dt = 0.01 s
    assert bad(lambda d: d["policy"]["connections"][0].update(delay=0.015)) == ["policy.connections.0.delay"]
    assert bad(lambda d: d["policy"]["areas"][0].update(inputs=["vision", "vision"])) == ["policy.areas.0.inputs"]
    assert bad(lambda d: d["policy"].update(kind="gru")) == ["policy.areas"]
    assert bad(lambda d: d.update(interventions=[{"target": "area", "area": "spinal"}])) == ["interventions.0.area"]
    assert bad(lambda d: d.update(interventions=[{"target": "units", "area": "motor", "units": [0, 4]}])) == [
        "interventions.0.units.1"
    ]
    assert bad(lambda d: d.update(interventions=[{"target": "muscles", "muscles": [6]}])) == ["interventions.0.muscles.0"]
    assert bad(lambda d: d.update(interventions=[{"area": "motor", "start": 0.05, "end": 0.02}])) == ["interventions.0.end"]
    assert bad(lambda d: d.update(interventions=[{"area": "motor", "start": 0.5}])) == ["interventions.0.start"]
    assert RunSpec.parse(base).policy.n_units == 10


# -- masks, delays, time constants --------------------------------------------------------------------------------------
def _trained(spec: RunSpec, iterations: int = 3) -> Trainer:
    trainer = Trainer(spec.with_updates({"train.n_iterations": iterations, "train.lr": 0.05, "train.eval_every": 100}))
    trainer.train()
    return trainer


def test_masks_are_respected_exactly_after_training() -> None:
    spec = _spec(**{"policy.areas.0.density": 0.5, "policy.connections.0.density": 0.5})
    trainer = _trained(spec)
    policy = trainer.policy
    assert isinstance(policy, MultiAreaPolicy)
    before = Trainer(spec).policy  # the same seed: the initial weights
    moved = [not torch.equal(p, q) for p, q in zip(policy.parameters(), before.parameters(), strict=True)]
    assert all(moved)  # training changed every weight matrix (so the zeros below are not the initial ones)
    groups = observation_groups(spec)
    w_in, _ = policy.effective("motor")
    lo, hi = groups["proprioception"]
    assert torch.count_nonzero(w_in[:, :lo]) == 0 and torch.count_nonzero(w_in[:, hi:]) == 0
    assert torch.count_nonzero(w_in[:, lo:hi]) == w_in[:, lo:hi].numel()
    readout = policy.effective_readout()
    assert torch.count_nonzero(readout[:, policy.area_slices["premotor"]]) == 0  # only the motor area drives muscles
    # sparse recurrence and projection: exactly the masked entries are zero, after training as before
    for name in ("premotor", "motor"):
        _, w = policy.effective(name)
        mask = policy.areas[name].rec_mask
        assert torch.equal(w == 0, mask == 0)
        assert torch.equal(mask, before.areas[name].rec_mask)
    assert 0 < float(policy.areas["premotor"].rec_mask.mean()) < 1


def test_the_motor_area_sees_only_proprioception() -> None:
    """Changing the task inputs and vision changes the premotor area's next activity, not the motor area's."""
    spec = _spec()
    policy = policy_for_run(spec).double()
    groups = observation_groups(spec)
    obs = torch.randn(3, policy.n_inputs, dtype=torch.float64)
    other = obs.clone()
    other[:, : groups["vision"][1]] += 1.0  # task inputs and vision
    h = torch.randn(3, 1, policy.state_size, dtype=torch.float64)
    _, a = policy(obs, h, noise=False)
    _, b = policy(other, h, noise=False)
    motor, premotor = policy.area_slices["motor"], policy.area_slices["premotor"]
    assert torch.equal(a[:, 0, motor], b[:, 0, motor])
    assert not torch.allclose(a[:, 0, premotor], b[:, 0, premotor])


def test_a_delayed_projection_arrives_its_delay_later() -> None:
    """premotor -> motor with 2 extra steps: a premotor change reaches the motor area 3 steps on, not before."""
    spec = _spec(**{"policy.connections": [{"source": "premotor", "target": "motor", "delay": 0.02}]})
    policy = policy_for_run(spec).double()
    assert policy.max_delay == 2 and policy.state_size == 3 * 10
    obs = torch.zeros(1, policy.n_inputs, dtype=torch.float64)
    kick = obs.clone()
    kick[0, 0] = 1.0  # a task input: reaches premotor only

    def motor_trace(first: torch.Tensor) -> list[torch.Tensor]:
        h = policy.initial_state(1).double()
        out = []
        for k in range(5):
            _, h = policy(first if k == 0 else obs, h, noise=False)
            out.append(policy.activity(h)[0, policy.area_slices["motor"]].clone())
        return out

    quiet, kicked = motor_trace(obs), motor_trace(kick)
    same = [torch.equal(a, b) for a, b in zip(quiet, kicked, strict=True)]
    assert same == [True, True, True, False, False]  # step 0 premotor, steps 1-2 in transit, step 3 motor


def test_a_time_constant_is_a_leak_of_dt_over_tau() -> None:
    spec = _spec(**{"policy.areas.1.tau": 0.04, "policy.areas.1.kind": "rnn", "policy.connections": []})
    policy = policy_for_run(spec).double()
    obs = torch.randn(2, policy.n_inputs, dtype=torch.float64)
    h = torch.randn(2, 1, policy.state_size, dtype=torch.float64)
    _, new = policy(obs, h, noise=False)
    sl = policy.area_slices["motor"]
    w_in, w_rec = policy.effective("motor")
    area = policy.areas["motor"]
    cell = torch.tanh(obs @ w_in.T + area.b_in + h[:, 0, sl] @ w_rec.T + area.b_rec)
    expected = h[:, 0, sl] + 0.25 * (cell - h[:, 0, sl])  # dt / tau = 0.01 / 0.04
    torch.testing.assert_close(new[:, 0, sl], expected, rtol=1e-12, atol=1e-12)


def test_dale_signs_are_kept_after_training() -> None:
    spec = _spec(
        **{
            "policy.dale": True,
            "policy.areas.0.kind": "rnn",
            "policy.areas.0.activation": "relu",
            "policy.areas.1.kind": "rnn",
            "policy.areas.1.activation": "relu",
            "policy.areas.0.excitatory": 0.5,
            "policy.areas.1.excitatory": 0.75,
        }
    )
    trainer = _trained(spec, iterations=4)
    policy = trainer.policy
    n_exc = policy.excitatory
    assert n_exc == {"premotor": 3, "motor": 3}
    flipped = 0
    for name in ("premotor", "motor"):
        _, w = policy.effective(name)
        raw = policy.areas[name].w_rec
        for src, _, cols in policy.presynaptic(name):
            block, raw_block = w[:, cols], raw[:, cols]
            exc, inh = block[:, : n_exc[src]], block[:, n_exc[src] :]
            assert bool((exc >= 0).all()) and bool((inh <= 0).all())
            if src != name:
                assert torch.count_nonzero(inh) == 0  # long-range projections leave excitatory units only
            flipped += int((raw_block[:, : n_exc[src]] < 0).sum())
    readout = policy.effective_readout()
    assert bool((readout >= 0).all())
    motor = policy.area_slices["motor"]
    assert torch.count_nonzero(readout[:, motor.start + n_exc["motor"] : motor.stop]) == 0
    assert torch.count_nonzero(readout[:, motor.start : motor.start + n_exc["motor"]]) > 0
    # the raw parameters did cross zero: without the constraint, these weights would have changed sign
    assert flipped + int((policy.readout.weight < 0).sum()) > 0


# -- interventions --------------------------------------------------------------------------------------------------------
def _known_policy(spec: RunSpec) -> MultiAreaPolicy:
    """The tiny two-area policy with every weight 0.1 and read-out bias -1: easy to predict."""
    policy = policy_for_run(spec)
    with torch.no_grad():
        for p in policy.parameters():
            p.fill_(0.1)
        policy.readout.bias.fill_(-1.0)
    assert isinstance(policy, MultiAreaPolicy)
    return policy


def _steps(spec: RunSpec, policy, interventions) -> tuple[torch.Tensor, torch.Tensor]:
    """(B, T, H) activity and (B, T, M) excitations of a deterministic evaluation."""
    from motornet_core.effector import Effector
    from motornet_core.envs import FunctionalEnv

    env = FunctionalEnv(Effector(spec.effector), spec.task, deterministic=True)
    loop = ClosedLoop(env, policy, interventions=interventions)
    with torch.no_grad():
        run = rollout(env, policy, 2, generator=torch.Generator().manual_seed(0), evaluation=True, loop=loop)
    return run.trajectory.hidden, run.trajectory.action


def test_silencing_an_area_gives_exactly_zero_activity_and_the_read_out_bias() -> None:
    spec = _spec()
    policy = _known_policy(spec)
    window = [{"kind": "silence", "target": "area", "area": "motor", "start": 0.03, "end": 0.07}]
    h0, u0 = _steps(spec, policy, [])
    h1, u1 = _steps(spec, policy, [RunSpec.parse({**spec.model_dump(mode="json"), "interventions": window}).interventions[0]])
    motor, premotor = policy.area_slices["motor"], policy.area_slices["premotor"]
    steps = range(h0.shape[1])
    on = [k for k in steps if 3 <= k < 7]
    assert torch.count_nonzero(h1[:, on][..., motor]) == 0 and torch.count_nonzero(h0[:, on][..., motor]) > 0
    # only the motor area drives the muscles: silenced, the excitation is sigmoid(bias) exactly
    torch.testing.assert_close(u1[:, on], torch.full_like(u1[:, on], float(torch.sigmoid(torch.tensor(-1.0)))), rtol=0, atol=0)
    assert torch.equal(h1[:, :3], h0[:, :3]) and torch.equal(u1[:, :3], u0[:, :3])  # before the window: untouched
    assert not torch.equal(h1[:, 7:][..., motor], h0[:, 7:][..., motor])  # after it: the network recovers from 0
    assert torch.count_nonzero(h1[:, 7][..., motor]) > 0
    assert not torch.equal(h1[:, on][..., premotor], h0[:, on][..., premotor])  # premotor felt the missing feedback


def test_clamp_scale_drive_and_muscles_act_as_documented() -> None:
    spec = _spec()
    policy = _known_policy(spec)
    ivs = RunSpec.parse(
        {
            **spec.model_dump(mode="json"),
            "interventions": [
                {"kind": "clamp", "target": "units", "area": "premotor", "units": [1], "value": 0.3},
                {"kind": "scale", "target": "units", "units": [7], "value": 0.0},
                {"kind": "drive", "target": "units", "area": "motor", "units": [2], "value": 0.5, "start": 0.05},
                {"kind": "clamp", "target": "muscles", "muscles": [0], "value": 1.0},
                {"kind": "silence", "target": "muscles", "muscles": [5], "end": 0.05},
            ],
        }
    ).interventions
    h0, _ = _steps(spec, policy, [])
    h, u = _steps(spec, policy, ivs)
    assert torch.equal(h[..., 1], torch.full_like(h[..., 1], 0.3))
    assert torch.count_nonzero(h[..., 7]) == 0  # premotor 6 + motor 1: scaled by 0
    assert torch.equal(u[..., 0], torch.ones_like(u[..., 0]))
    assert torch.count_nonzero(u[:, :5, 5]) == 0 and torch.count_nonzero(u[:, 5:, 5]) == u[:, 5:, 5].numel()
    # drive: +0.5 on motor unit 2 (unit 8) from step 5, on top of what that unit would do in the perturbed network
    assert torch.equal(h[:, :5, 8], _steps(spec, policy, ivs[:2] + ivs[3:])[0][:, :5, 8])
    assert float((h[:, 5:, 8] - h0[:, 5:, 8]).mean()) > 0.3


def test_schedules_compose_in_order_and_refuse_what_the_policy_lacks() -> None:
    spec = _spec()
    ivs = RunSpec.parse(
        {
            **spec.model_dump(mode="json"),
            "interventions": [
                {"kind": "scale", "target": "units", "units": [0], "value": 2.0},
                {"kind": "drive", "target": "units", "units": [0], "value": 1.0},
            ],
        }
    ).interventions
    sched = InterventionSchedule(ivs, {}, 10, 6, 0.01, 10)
    step = sched.at(3)
    assert float(step.unit_gain[0]) == 2.0 and float(step.unit_offset[0]) == 1.0  # 2 h + 1
    assert float(step.unit_gain[1]) == 1.0 and float(step.unit_offset[1]) == 0.0
    area = RunSpec.parse({**spec.model_dump(mode="json"), "interventions": [{"area": "motor"}]}).interventions
    with pytest.raises(ValueError, match="no area 'motor'"):
        InterventionSchedule(area, {}, 10, 6, 0.01, 10)


def test_single_network_units_can_be_silenced() -> None:
    spec = run_preset("tiny_arm26").with_updates({"interventions": [{"target": "units", "units": [0, 2, 5]}]})
    trainer = Trainer(spec)
    snap = trainer.evaluate()
    hidden = torch.tensor(snap.hidden)  # (B, points, H), t = 0 first
    assert torch.count_nonzero(hidden[..., [0, 2, 5]]) == 0 and torch.count_nonzero(hidden[:, 1:, 1]) > 0
    with pytest.raises(SpecError) as info:
        spec.with_updates({"interventions": [{"target": "area", "area": "motor"}]})
    assert info.value.errors[0]["loc"] == "interventions.0.area"


def test_interventions_during_training_reach_the_loss_gradient() -> None:
    """A muscle clamped during training: its excitation never changes the loss, so the read-out row gets no gradient."""
    spec = _spec(interventions=[{"kind": "clamp", "target": "muscles", "muscles": [2], "value": 0.2}])
    trainer = Trainer(spec.with_updates({"train.n_iterations": 1}))
    before = trainer.policy.readout.weight.detach().clone()
    trainer.train()
    after = trainer.policy.readout.weight.detach()
    assert torch.equal(after[2], before[2]) and not torch.equal(after[0], before[0])


def test_ensemble_replicates_of_a_multi_area_policy_train_like_single_runs() -> None:
    spec = _spec(
        **{
            "train.replicates": 2,
            "train.n_iterations": 2,
            "policy.dale": True,
            "policy.areas.0.density": 0.5,
            "policy.connections.0.delay": 0.01,
            "policy.hidden_noise": 0.01,
            "interventions": [{"kind": "scale", "target": "area", "area": "premotor", "value": 0.5, "start": 0.02}],
        }
    )
    ens = EnsembleTrainer(spec)
    ens.train()
    assert not torch.equal(
        ens.replicates[0].policy.areas["premotor"].rec_mask, ens.replicates[1].policy.areas["premotor"].rec_mask
    )
    for i, rep in enumerate(ens.replicates):
        single = Trainer(spec.with_updates({"train.seed": spec.train.seed + i, "train.replicates": 1}))
        single.train()
        for a, b in zip(rep.history, single.history, strict=True):
            assert a == pytest.approx(b, rel=1e-5)
        for p, q in zip(rep.policy.parameters(), single.policy.parameters(), strict=True):
            torch.testing.assert_close(p, q, rtol=1e-4, atol=1e-6)


@pytest.mark.slow
def test_compiled_chunks_of_a_multi_area_policy_with_an_intervention_follow_eager_training() -> None:
    """The intervention's maps travel with each step's draws: one compiled variant, eager results to rounding."""
    torch._dynamo.reset()
    ivs = [{"kind": "silence", "target": "area", "area": "premotor", "start": 0.03, "end": 0.06}]
    spec = _spec(**{"train.n_iterations": 2, "train.compile": True, "policy.connections.0.delay": 0.01, "interventions": ivs})
    compiled = Trainer(spec)
    with torch._dynamo.config.patch(error_on_recompile=True):
        compiled.train()
    assert compiled.loop.compiled_steps > 0
    eager = Trainer(spec.with_updates({"train.compile": False}))
    eager.train()
    for a, b in zip(compiled.history, eager.history, strict=True):
        assert a == pytest.approx(b, rel=1e-4)
