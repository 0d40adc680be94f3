"""FunctionalEnv.with_perturbations: an episode's loads replaced by given perturbation specs."""

from __future__ import annotations

import pytest
import torch

from motornet_core import SpecError, presets
from motornet_core.envs import FunctionalEnv
from motornet_core.specs import CurlFieldSpec, EndpointLoadSpec, JointLoadSpec


def _env() -> FunctionalEnv:
    return FunctionalEnv(presets.point_mass_24(), {"kind": "centre_out", "n_targets": 4, "duration": 0.2}, deterministic=True)


def test_loads_replace_the_episode_schedule_and_act_in_the_transition():
    env = _env()
    state = env.initial(2, generator=torch.Generator().manual_seed(0), targets=torch.zeros(2, 2))
    held = env.hold_goal(state, torch.zeros(2, 2))
    loaded = env.with_perturbations(held, [EndpointLoadSpec(magnitude=4.0, angle=90.0), CurlFieldSpec(gain=7.0)])
    plan = loaded.episode.loads
    assert plan.endpoint.shape == (2, env.n_steps, 2)
    assert torch.allclose(plan.endpoint[:, :, 1], torch.full((2, env.n_steps), 4.0))
    assert torch.allclose(plan.curl, torch.full((2, env.n_steps), 7.0))
    zero = torch.zeros(2, env.effector.n_muscles)
    free, pushed = held, loaded
    for _ in range(5):
        free = env.transition(free, zero, env.draw(free))
        pushed = env.transition(pushed, zero, env.draw(pushed))
    dy = pushed.effector.fingertip[:, 1] - free.effector.fingertip[:, 1]
    assert bool((dy > 1e-3).all())  # 4 N up on 1 kg for 50 ms
    assert loaded.effector is held.effector and loaded.goal is held.goal  # nothing else changed
    cleared = env.with_perturbations(loaded, [])
    assert not cleared.episode.loads.active


def test_joint_load_needs_one_value_per_joint():
    env = _env()
    state = env.initial(1, targets=torch.zeros(1, 2))
    with pytest.raises(SpecError) as err:
        env.with_perturbations(state, [JointLoadSpec(torque=[1.0, 2.0, 3.0])])
    assert err.value.errors[0]["loc"] == "perturbations.0.torque"
