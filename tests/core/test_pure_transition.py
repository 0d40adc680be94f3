"""The functional environment: pure transition, one draw point, and the same numbers as the loop it replaced."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from motornet_core import presets
from motornet_core.envs import EnvState, FunctionalEnv, MotorEnv
from motornet_core.run_presets import run_preset
from motornet_core.training import Trainer

# loss histories of eager training written by the stateful environment of commit 88941a2 (before the
# functional rewrite): the rewrite must reproduce them bit for bit. Float32 results are exact only within
# one machine type (PyTorch's vectorised CPU kernels and BLAS round differently on other CPUs), so the
# fixture holds one set per machine type, each written by the old loop itself
# (scripts/record_eager_losses.py), and today's loop must match one of them exactly.
REFERENCE = Path(__file__).parent / "fixtures" / "eager_losses_88941a2.json"
FIXTURE = json.loads(REFERENCE.read_text())


@pytest.fixture(autouse=True)
def _one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.mark.parametrize("case", sorted(FIXTURE["cases"]))
def test_eager_training_reproduces_the_previous_loop_bit_for_bit(case: str) -> None:
    spec = run_preset(FIXTURE["cases"][case]["preset"]).with_updates(FIXTURE["cases"][case]["updates"])
    trainer = Trainer(spec)
    trainer.train()
    snap = trainer.evaluate()
    ours = {"history": trainer.history, "mean_endpoint_error": snap["mean_endpoint_error"], "hand": snap["hand"][0][-1]}
    recorded = [r["results"][case] for r in FIXTURE["recorded"]]
    # exact floats; a machine type with no recorded set fails here: record one with the script above
    assert ours in recorded, (
        f"{ours} matches none of the {len(recorded)} recorded sets (machines: "
        f"{[r['machine'] for r in FIXTURE['recorded']]}); on a new machine type run scripts/record_eager_losses.py"
    )


def test_the_recorded_sets_are_of_different_machines_and_close():
    # each machine type's set is the old loop's own: sets differ only in float32 rounding, never by more
    sets = FIXTURE["recorded"]
    for case in FIXTURE["cases"]:
        first = sets[0]["results"][case]["history"]
        for other in sets[1:]:
            assert other["results"][case]["history"] == pytest.approx(first, rel=1e-5)
    assert len({json.dumps(r["results"], sort_keys=True) for r in sets}) == len(sets)


NOISY_TASK = {
    "kind": "centre_out",
    "duration": 0.1,
    "go_cue": True,
    "vision_delay": 0.03,
    "proprioception_delay": 0.02,
    "action_noise": 0.01,
    "vision_noise": 0.001,
    "proprioception_noise": 0.002,
    "obs_noise": 0.01,
    "action_frame_stacking": 2,
    "perturbations": [{"kind": "curl_field", "gain": 5.0, "probability": 0.5}],
}


def _env() -> FunctionalEnv:
    return FunctionalEnv(presets.arm26(), NOISY_TASK)


def test_transition_is_pure() -> None:
    """Same (state, action, draws) -> the same next state, and the input state is untouched."""
    env = _env()
    state = env.initial(3, torch.Generator().manual_seed(0))
    before = [t.clone() for t in (state.effector.position, *state.vision, *state.proprio, *state.actions)]
    draws = env.draw(state, torch.Generator().manual_seed(1))
    action = torch.full((3, env.effector.n_muscles), 0.3)
    a, b = env.transition(state, action, draws), env.transition(state, action, draws)
    after = [t for t in (state.effector.position, *state.vision, *state.proprio, *state.actions)]
    assert all(torch.equal(x, y) for x, y in zip(before, after, strict=True))
    assert state.step == 0 and a.step == b.step == 1
    for x, y in zip(
        (a.effector.position, a.effector.muscle.force, *a.vision, *a.proprio, *a.actions, env.observation(a)),
        (b.effector.position, b.effector.muscle.force, *b.vision, *b.proprio, *b.actions, env.observation(b)),
        strict=True,
    ):
        assert torch.equal(x, y)


def test_draw_is_the_only_source_of_randomness() -> None:
    """Two generators in the same state give the same draws; transition and observation draw nothing."""
    env = _env()
    state = env.initial(2, torch.Generator().manual_seed(4))
    gen = torch.Generator().manual_seed(9)
    d1 = env.draw(state, gen)
    snapshot = gen.get_state()
    nxt = env.transition(state, torch.zeros(2, env.effector.n_muscles), d1)
    env.observation(nxt)
    assert torch.equal(gen.get_state(), snapshot)  # nothing else consumed the stream
    d2 = env.draw(state, torch.Generator().manual_seed(9))
    assert torch.equal(d1.noise.action, d2.noise.action) and torch.equal(d1.noise.obs, d2.noise.obs)


def test_delay_lines_and_stacked_actions_are_carried_in_the_state() -> None:
    env = FunctionalEnv(presets.point_mass_24(), {"kind": "random_reach", "duration": 0.1, "vision_delay": 0.03})
    assert env.vision_steps == 3
    state = env.initial(1, torch.Generator().manual_seed(0))
    seen = []
    for _ in range(5):
        state = env.transition(state, torch.full((1, 4), 0.5), env.draw(state))
        seen.append(state.effector.fingertip[:, :2])
    obs = env.observation(state)
    torch.testing.assert_close(obs[:, 2:4], seen[-4], rtol=0, atol=0)  # 3 steps late
    assert isinstance(state, EnvState) and len(state.vision) == 4


def test_draw_refuses_a_finished_episode() -> None:
    env = FunctionalEnv(presets.point_mass_24(), {"kind": "random_reach", "duration": 0.02})
    state = env.initial(1)
    for _ in range(env.n_steps):
        state = env.transition(state, torch.zeros(1, 4), env.draw(state))
    assert env.done(state)
    with pytest.raises(RuntimeError, match="over"):
        env.draw(state)


def test_hold_goal_moves_goal_and_target_and_removes_loads() -> None:
    env = _env()
    state = env.initial(1, torch.Generator().manual_seed(0))
    state = env.transition(state, torch.zeros(1, 6), env.draw(state))
    held = env.hold_goal(state, torch.tensor([[0.1, 0.4]]))
    assert held.step == state.step and not held.episode.loads.active
    torch.testing.assert_close(held.goal, torch.tensor([[0.1, 0.4]]))
    torch.testing.assert_close(held.target, torch.tensor([[0.1, 0.4]]))
    assert held.cue is not None and bool((held.episode.cue == 1).all())
    assert state.goal is not held.goal  # the original is untouched


def test_the_gymnasium_wrapper_is_a_thin_caller() -> None:
    """MotorEnv.step_batch == draw + transition + observation from the same state and generator."""
    wrapper = MotorEnv(presets.arm26(), NOISY_TASK)
    wrapper.reset_batch(2, generator=torch.Generator().manual_seed(3))
    assert wrapper.state is not None
    start = wrapper.state
    fn = wrapper.fn
    gen_copy = torch.Generator().manual_seed(0)
    gen_copy.set_state(wrapper.generator.get_state())  # type: ignore[union-attr]
    u = torch.full((2, 6), 0.2)
    obs, info = wrapper.step_batch(u)
    manual = fn.transition(start, u, fn.draw(start, gen_copy))
    assert torch.equal(obs, fn.observation(manual)) and info.step == 1
    assert torch.equal(info.state.position, manual.effector.position)
