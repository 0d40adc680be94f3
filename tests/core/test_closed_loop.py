"""The closed loop (policy + environment per step) that training and evaluation roll out with."""

from __future__ import annotations

import pytest
import torch

from motornet_core.envs import MotorEnv
from motornet_core.run_presets import run_preset
from motornet_core.training import Trainer
from motornet_core.training.rollout import ClosedLoop, rollout

NOISY = {
    "policy.hidden_noise": 0.02,
    "task.obs_noise": 0.01,
    "task.action_frame_stacking": 2,
    "task.perturbations": [{"kind": "curl_field", "gain": 5.0, "probability": 0.5}],
}


def _manual_rollout(fn, policy, batch, generator):
    """The step-by-step loop of the public modules: policy(...) then the Gymnasium wrapper's step_batch(...)."""
    env = MotorEnv(fn.effector, fn.task)
    obs, state = env.reset_batch(batch, generator=generator)
    h = policy.initial_state(state.batch_size, like=obs)
    tips = [state.fingertip]
    for _ in range(env.n_steps):
        action, h = policy(obs, h, generator=generator, noise=True)
        obs, info = env.step_batch(action)
        tips.append(info.state.fingertip)
    return torch.stack(tips, 1), h


@pytest.mark.parametrize("preset", ["tiny_arm26", "tiny_point_mass"])
def test_closed_loop_draws_the_same_random_stream_as_the_modules(preset):
    """Delays, every noise source, stacked actions and a curl field: the pre-drawn noise of the
    closed loop gives bit-identical trajectories and hidden states to policy + step_batch."""
    trainer = Trainer(run_preset(preset).with_updates(NOISY))
    env, policy = trainer.env, trainer.policy
    a = torch.Generator().manual_seed(3)
    b = torch.Generator().manual_seed(3)
    with torch.no_grad():
        manual, h_manual = _manual_rollout(env, policy, 4, a)
        traj = rollout(env, policy, 4, generator=b, loop=ClosedLoop(env, policy)).trajectory
    assert torch.equal(traj.fingertip, manual)
    assert torch.equal(traj.hidden[:, -1], policy.activity(h_manual))
    assert torch.equal(a.get_state(), b.get_state())  # the same number of draws


def test_closed_loop_refuses_steps_past_the_episode():
    trainer = Trainer(run_preset("tiny_point_mass"))
    loop = ClosedLoop(trainer.env, trainer.policy)
    state = trainer.env.initial(2)
    h = trainer.policy.initial_state(2)
    for _ in range(trainer.env.n_steps):
        h, state = loop.step(h, state)
    assert trainer.env.done(state)
    with pytest.raises(RuntimeError, match="over"):
        loop.step(h, state)


@pytest.mark.slow
def test_compiled_chunks_follow_the_eager_loop():
    """Several steps per compiled call (delays, every noise source, stacked actions, a curl field):
    the same random stream, trajectories and gradients as the eager loop, to rounding."""
    torch._dynamo.reset()  # compiled code of earlier tests would count as a recompilation below
    trainer = Trainer(run_preset("tiny_arm26").with_updates({**NOISY, "task.duration": 0.3}))
    env, policy = trainer.env, trainer.policy
    results = []
    for loop in (ClosedLoop(env, policy), ClosedLoop(env, policy, compile=True, chunk=3)):
        gen = torch.Generator().manual_seed(5)
        policy.zero_grad()
        with torch._dynamo.config.patch(error_on_recompile=True):  # the first chunk included: one variant
            run = rollout(env, policy, 4, generator=gen, loop=loop)
        traj, joints = run.trajectory, run.joints
        (traj.fingertip[..., :2] - traj.target).abs().sum().backward()
        grads = [p.grad.clone() for p in policy.parameters()]
        results.append((traj, joints, grads, gen.get_state(), loop.compiled_steps))
    (te, je, ge, se, ne), (tc, jc, gc, sc, nc) = results
    assert ne == 0 and nc >= env.n_steps // 2 and nc % 3 == 0  # most steps ran compiled
    assert torch.equal(se, sc)  # the same number of random draws
    assert tc.fingertip.shape == te.fingertip.shape == (4, env.n_steps + 1, 4)
    for a, b in [(tc.fingertip, te.fingertip), (tc.hidden, te.hidden), (tc.action, te.action), (jc, je)]:
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)
    for a, b in zip(gc, ge, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-6)


def test_chunks_must_be_positive():
    trainer = Trainer(run_preset("tiny_point_mass"))
    with pytest.raises(ValueError, match="chunk"):
        ClosedLoop(trainer.env, trainer.policy, compile=True, chunk=0)
