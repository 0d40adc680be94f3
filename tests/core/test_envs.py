"""MotorEnv: the Gymnasium contract, exact sensory delays, i.i.d. noise, loads and gradients."""

from __future__ import annotations

import math
import warnings

import gymnasium
import numpy as np
import pytest
import torch
from gymnasium.utils.env_checker import check_env

from motornet_core import SpecError, build_effector, presets
from motornet_core.envs import GYM_IDS, MotorEnv, centre_out_targets, plan_loads, sample_episode
from motornet_core.run_presets import task_preset
from motornet_core.specs import CurlFieldSpec, RunSpec, delay_steps, parse_task

TASKS = [
    {"kind": "random_reach"},
    {"kind": "centre_out", "go_cue": True, "delay_min": 0.05, "delay_max": 0.1, "catch_probability": 0.3},
    {"kind": "posture", "onset_min": 0.05, "onset_max": 0.1, "load_duration": 0.05},
    {"kind": "tracking"},
]
PERTURBATIONS = [
    {"kind": "curl_field", "gain": 5.0},
    {"kind": "force_channel", "probability": 0.5, "angle": 30.0},
    {"kind": "endpoint_load", "start": 0.05, "end": 0.1},
    {"kind": "force_field", "force": [1.0, 0.0]},
]


def _pm_env(task: dict, deterministic: bool = False) -> MotorEnv:
    return MotorEnv(presets.point_mass_24(), dict({"duration": 0.2}, **task), deterministic=deterministic)


@pytest.mark.parametrize("task", TASKS, ids=lambda t: t["kind"])
@pytest.mark.parametrize("effector", ["point_mass_24", "arm26"])
def test_check_env_passes(task: dict, effector: str) -> None:
    spec = presets.effector_preset(effector)
    full = dict(task, duration=0.2, vision_delay=0.03, proprioception_delay=0.01, action_frame_stacking=2)
    full.update(action_noise=0.01, vision_noise=0.001, proprioception_noise=0.001, obs_noise=0.001, perturbations=PERTURBATIONS)
    env = MotorEnv(spec, full)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # gymnasium warns about the unbounded observation box
        check_env(env, skip_render_check=True)
    obs, _ = env.reset(seed=3)
    m = env.effector.n_muscles
    assert obs.shape == (2 + int(task.get("go_cue", False)) + 2 + 2 * m + 2 * m,)
    steps, truncated = 0, False
    while not truncated:
        obs, reward, terminated, truncated, _info = env.step(env.action_space.sample())
        steps += 1
        assert np.isfinite(reward) and reward <= 0 and not terminated  # no terminal state: a time limit
    assert steps == 20  # 0.2 s at dt = 0.01 with an integer step counter


def test_observation_layout_matches_physics_doc() -> None:
    env = MotorEnv(presets.point_mass_24(), {"kind": "random_reach"}, deterministic=True)
    assert env.obs_size == 12
    obs, state = env.reset_batch(3, generator=torch.Generator().manual_seed(0))
    ep = env.episode
    eff = env.effector
    torch.testing.assert_close(obs[:, :2], ep.goal[:, 0])
    torch.testing.assert_close(obs[:, 2:4], state.fingertip[:, :2])
    torch.testing.assert_close(obs[:, 4:8], state.muscle.length / eff.muscles.l0_ce)
    torch.testing.assert_close(obs[:, 8:12], state.muscle.velocity / eff.muscles.vmax)
    assert MotorEnv(presets.arm26(), {"kind": "random_reach"}).obs_size == 16


@pytest.mark.parametrize("delay", [0.0, 0.01, 0.03, 0.14])
def test_delays_lag_by_exactly_round_d_over_dt_steps(delay: float) -> None:
    env = _pm_env({"kind": "random_reach", "duration": 0.3, "vision_delay": delay, "proprioception_delay": delay}, True)
    lag = round(delay / 0.01)
    assert env.fn.vision_steps == env.fn.proprio_steps == lag
    obs, state = env.reset_batch(2, generator=torch.Generator().manual_seed(1))
    tips, lengths, seen_v, seen_p = [state.fingertip[:, :2]], [state.muscle.length], [obs[:, 2:4]], [obs[:, 4:8]]
    for k in range(env.n_steps):
        action = torch.full((2, 4), 0.05 * (k % 5))
        obs, info = env.step_batch(action)
        tips.append(info.state.fingertip[:, :2])
        lengths.append(info.state.muscle.length)
        seen_v.append(obs[:, 2:4])
        seen_p.append(obs[:, 4:8])
    for k in range(env.n_steps + 1):
        torch.testing.assert_close(seen_v[k], tips[max(k - lag, 0)], rtol=0, atol=0)
        torch.testing.assert_close(seen_p[k], lengths[max(k - lag, 0)], rtol=0, atol=0)  # relu: l0_ce = 1
    # the signal really moves, so a wrong lag could not pass
    assert not torch.equal(tips[5], tips[6])


def test_delay_validation_accepts_float_multiples_and_rejects_others() -> None:
    assert delay_steps(0.14, 0.01) == 14
    assert delay_steps(0.0, 0.01) == 0
    assert all(delay_steps(k * 0.01, 0.01) == k for k in range(101))
    assert delay_steps(0.07, 0.01) == 7
    with pytest.raises(ValueError, match="multiple of dt"):
        delay_steps(0.015, 0.01)
    spec = presets.point_mass_24().model_dump()
    with pytest.raises(SpecError) as err:
        RunSpec.parse({"effector": spec, "task": {"kind": "random_reach", "vision_delay": 0.015}})
    assert err.value.errors[0]["loc"] == "task.vision_delay"


def _paired_envs(task: dict) -> tuple[MotorEnv, MotorEnv]:
    eff = build_effector(presets.point_mass_24())
    return MotorEnv(eff, task), MotorEnv(eff, task, deterministic=True)


def test_sensory_noise_is_iid_per_element() -> None:
    std = 0.05
    noisy, clean = _paired_envs({"kind": "random_reach", "duration": 0.5, "proprioception_noise": std})
    episode = sample_episode(noisy.effector, noisy.task, 256, torch.Generator().manual_seed(2))
    o1, _ = noisy.reset_batch(256, generator=torch.Generator().manual_seed(5), episode=episode)
    o2, _ = clean.reset_batch(256, episode=episode)
    diffs = [o1 - o2]
    for _ in range(5):
        a = torch.full((256, 4), 0.1)
        o1, _ = noisy.step_batch(a)
        o2, _ = clean.step_batch(a)
        diffs.append(o1 - o2)
    d = torch.cat(diffs)  # (6 * 256, 12)
    assert torch.all(d[:, :4] == 0)  # goal and vision carry no proprioceptive noise
    prop = d[:, 4:]
    assert prop.std().item() == pytest.approx(std, rel=0.1)
    corr = torch.corrcoef(prop.T)
    off_diag = corr[~torch.eye(8, dtype=torch.bool)]
    assert off_diag.abs().max().item() < 0.15  # one shared sample per row (MotorNet's bug) would give 1


def test_deterministic_turns_off_every_noise() -> None:
    task = {
        "kind": "random_reach",
        "duration": 0.1,
        "action_noise": 0.1,
        "vision_noise": 0.1,
        "proprioception_noise": 0.1,
        "obs_noise": 0.1,
        "vision_delay": 0.02,
        "action_frame_stacking": 1,
    }
    det_a, det_b = (MotorEnv(presets.point_mass_24(), task, deterministic=True) for _ in range(2))
    noisy = MotorEnv(presets.point_mass_24(), task)
    episode = sample_episode(det_a.effector, det_a.task, 4, torch.Generator().manual_seed(0))
    obs = [
        env.reset_batch(4, generator=torch.Generator().manual_seed(s), episode=episode)[0]
        for env, s in ((det_a, 1), (det_b, 2), (noisy, 3))
    ]
    assert torch.equal(obs[0], obs[1]) and not torch.equal(obs[0], obs[2])
    a = torch.full((4, 4), 0.3)
    for _ in range(5):
        (oa, ia), (ob, _) = det_a.step_batch(a), det_b.step_batch(a)
        assert torch.equal(oa, ob) and torch.equal(ia.action, a)
    _, info = noisy.step_batch(a)
    assert not torch.equal(info.action, a)


def test_goal_entries_get_no_obs_noise_and_noise_lists_are_checked() -> None:
    env = _pm_env({"kind": "random_reach", "obs_noise": [0.5] * 12})
    obs, _ = env.reset_batch(8, generator=torch.Generator().manual_seed(0))
    torch.testing.assert_close(obs[:, :2], env.episode.goal[:, 0], rtol=0, atol=0)
    clean = MotorEnv(env.effector, env.task, deterministic=True)
    obs_clean, _ = clean.reset_batch(8, episode=env.episode)
    assert (obs[:, 2:] - obs_clean[:, 2:]).abs().min() > 0  # every other entry is noisy
    MotorEnv(presets.point_mass_24(), {"kind": "random_reach", "action_noise": [0.1, 0.0, 0.2, 0.0]})
    with pytest.raises(SpecError, match="action_noise"):
        MotorEnv(presets.point_mass_24(), {"kind": "random_reach", "action_noise": [0.1, 0.2]})
    spec = presets.point_mass_24().model_dump()
    with pytest.raises(SpecError) as err:
        RunSpec.parse({"effector": spec, "task": {"kind": "random_reach", "obs_noise": [0.1] * 5}})
    assert err.value.errors[0]["loc"] == "task.obs_noise"


def test_curl_field_force_direction() -> None:
    like = torch.zeros(1, 2)
    for direction, sign in (("cw", 1.0), ("ccw", -1.0)):
        spec = CurlFieldSpec(gain=10.0, direction=direction)
        plan = plan_loads([spec], 1, 5, 2, 0.01, like, like + torch.tensor([[1.0, 0.0]]), None)
        endpoint, _ = plan.at(0, torch.tensor([[0.0, 0.0, 2.0, 1.0]]))  # moving +x and +y
        torch.testing.assert_close(endpoint, sign * 10.0 * torch.tensor([[1.0, -2.0]]))  # k [ydot, -xdot]


def test_curl_field_deflects_a_rightward_reach_clockwise() -> None:
    eff = build_effector(presets.point_mass_24())
    # UpperRight and LowerRight pull equally: a straight push along +x without a field
    push = torch.tensor([[0.2, 0.0, 0.2, 0.0]])
    ys = {}
    for name, perts in (
        ("none", []),
        ("cw", [{"kind": "curl_field", "gain": 20.0}]),
        ("ccw", [{"kind": "curl_field", "gain": 20.0, "direction": "ccw"}]),
    ):
        env = MotorEnv(eff, {"kind": "centre_out", "duration": 0.3, "centre_joint": [0.0, 0.0], "perturbations": perts}, True)
        env.reset_batch(1, evaluation=False, generator=torch.Generator().manual_seed(0))
        for _ in range(env.n_steps):
            _, info = env.step_batch(push)
        ys[name] = info.state.fingertip[0, 1].item()
        assert info.state.fingertip[0, 0].item() > 0.05
    assert abs(ys["none"]) < 1e-6
    assert ys["cw"] < -0.005 and ys["ccw"] > 0.005


def test_force_channel_limits_lateral_motion() -> None:
    eff = build_effector(presets.point_mass_24())
    push = torch.tensor([[0.3, 0.0, 0.1, 0.0]])  # pulls right and a little up
    lateral = {}
    for name, perts in (("free", []), ("channel", [{"kind": "force_channel", "stiffness": 5000.0, "damping": 100.0}])):
        env = MotorEnv(
            eff, {"kind": "centre_out", "n_targets": 1, "duration": 0.3, "centre_joint": [0.0, 0.0], "perturbations": perts}, True
        )
        env.reset_batch(1, evaluation=True)
        for _ in range(env.n_steps):
            _, info = env.step_batch(push)
        lateral[name] = abs(info.state.fingertip[0, 1].item())
    assert lateral["channel"] < 0.1 * lateral["free"]


def test_perturbation_probability_and_window() -> None:
    like = torch.zeros(1000, 2)
    gen = torch.Generator().manual_seed(0)
    spec = parse_task(
        {
            "kind": "random_reach",
            "perturbations": [{"kind": "force_field", "force": [0.0, 3.0], "probability": 0.25, "start": 0.1, "end": 0.3}],
        }
    )
    plan = plan_loads(spec.perturbations, 1000, 50, 2, 0.01, like, like + 1, gen)
    on = plan.endpoint[:, :, 1]  # (B, T)
    trials = (on.sum(1) > 0).float()
    assert trials.mean().item() == pytest.approx(0.25, abs=0.05)
    row = on[trials.argmax()]
    assert torch.equal(torch.nonzero(row).flatten(), torch.arange(10, 30))


def test_centre_out_targets_and_catch_trials() -> None:
    eff = build_effector(presets.point_mass_24())
    task = parse_task(
        {
            "kind": "centre_out",
            "n_targets": 4,
            "radius": 0.2,
            "go_cue": True,
            "delay_min": 0.1,
            "delay_max": 0.1,
            "catch_probability": 0.5,
            "centre_joint": [0.1, 0.0],
        }
    )
    ev = sample_episode(eff, task, 99, evaluation=True)
    torch.testing.assert_close(ev.target[:, -1], torch.tensor([[0.3, 0.0], [0.1, 0.2], [-0.1, 0.0], [0.1, -0.2]]))
    assert torch.all(ev.cue[:, :10] == 0) and torch.all(ev.cue[:, 10:] == 1)
    torch.testing.assert_close(ev.goal[:, 0], ev.target[:, -1])  # the instruction is shown from the start
    torch.testing.assert_close(ev.target[:, 5], torch.tensor([[0.1, 0.0]]).expand(4, 2))  # hold during the delay
    ep = sample_episode(eff, task, 400, torch.Generator().manual_seed(0))
    catch = ep.cue[:, -1] == 0
    assert catch.float().mean().item() == pytest.approx(0.5, abs=0.1)
    torch.testing.assert_close(ep.target[catch, -1], torch.tensor([0.1, 0.0]).expand(int(catch.sum()), 2))
    assert centre_out_targets(torch.zeros(2), 8, 1.0).shape == (8, 2)


def test_gradients_flow_through_env_step() -> None:
    env = MotorEnv(
        presets.arm26(),
        {
            "kind": "random_reach",
            "duration": 0.1,
            "vision_delay": 0.02,
            "action_frame_stacking": 1,
            "perturbations": [{"kind": "curl_field"}],
        },
        deterministic=True,
    )
    obs, _ = env.reset_batch(2, generator=torch.Generator().manual_seed(0))
    u = torch.full((2, 6), 0.3, requires_grad=True)
    w = torch.zeros(obs.shape[1], 6, requires_grad=True)
    for _ in range(env.n_steps):
        obs, info = env.step_batch(torch.sigmoid(obs @ w) * 0 + u + obs @ w)
    loss = info.state.fingertip[:, :2].sum() + obs.sum()
    loss.backward()
    assert u.grad is not None and torch.isfinite(u.grad).all() and u.grad.abs().sum() > 0
    assert w.grad is not None and w.grad.abs().sum() > 0  # through the fed-back observations


def test_gymnasium_reset_is_seeded_and_accepts_a_target() -> None:
    env = _pm_env({"kind": "random_reach"})
    a, _ = env.reset(seed=4)
    b, _ = env.reset(seed=4)
    c, _ = env.reset(seed=5)
    assert np.array_equal(a, b) and not np.array_equal(a, c)
    obs, info = env.reset(seed=0, options={"target": [0.3, -0.2]})
    assert np.allclose(obs[:2], [0.3, -0.2]) and np.allclose(info["target"], [0.3, -0.2])
    _, reward, *_ = env.step(np.zeros(4, dtype=np.float32))
    assert reward == pytest.approx(-np.hypot(0.3, 0.2), abs=1e-5)  # the hand starts at the centre (0, 0)


@pytest.mark.parametrize("env_id", sorted(GYM_IDS))
def test_gymnasium_make_builds_registered_envs(env_id: str) -> None:
    env = gymnasium.make(env_id, duration=0.7)
    assert isinstance(env.unwrapped, MotorEnv) and env.unwrapped.task.kind == parse_task(task_preset(GYM_IDS[env_id])).kind
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # gymnasium warns about the unbounded observation box
        check_env(env.unwrapped, skip_render_check=True)
    env.reset(seed=0)
    n_steps, truncated = 0, False
    while not truncated:
        _, _, terminated, truncated, _ = env.step(env.action_space.sample())
        n_steps += 1
        assert not terminated
    assert n_steps == 70
    arm = gymnasium.make("MotorNet/CentreOut-v0", effector="arm26", deterministic=True, duration=0.1)
    assert arm.unwrapped.effector.n_muscles == 6 and arm.unwrapped.deterministic
    with pytest.raises(SpecError, match="duration"):
        gymnasium.make("MotorNet/Reach-v0", duration=-1.0)


def test_force_channel_in_posture_resists_lateral_loads() -> None:
    eff = build_effector(presets.point_mass_24())
    task = {"kind": "posture", "duration": 0.4, "centre_joint": [0.0, 0.0], "load_directions": 4, "load_magnitudes": [4.0]}
    task.update(onset_min=0.05, onset_max=0.05, load_duration=0.3)
    drift = {}
    for name, perts in (("free", []), ("channel", [{"kind": "force_channel", "angle": 0.0, "stiffness": 3000.0}])):
        env = MotorEnv(eff, dict(task, perturbations=perts), deterministic=True)
        env.reset_batch(4, evaluation=True)  # loads at 0, 90, 180 and 270 deg
        lateral = torch.zeros(4)
        for _ in range(env.n_steps):
            _, info = env.step_batch(torch.zeros(4, 4))
            lateral = torch.maximum(lateral, info.state.fingertip[:, 1].abs())
        drift[name] = lateral
    assert drift["free"][1] > 0.05 and drift["free"][3] > 0.05  # the 90 and 270 deg loads push across the x axis
    assert (drift["channel"][[1, 3]] < 0.02 * drift["free"][[1, 3]]).all()
    with pytest.raises(SpecError, match=r"perturbations\.0\.angle.*posture"):
        parse_task(dict(task, perturbations=[{"kind": "force_channel"}]))
    with pytest.raises(SpecError, match=r"perturbations\.0\.angle.*tracking"):
        parse_task({"kind": "tracking", "perturbations": [{"kind": "force_channel"}]})
    with pytest.raises(SpecError, match="share one axis"):
        parse_task({"kind": "centre_out", "perturbations": [{"kind": "force_channel"}, {"kind": "force_channel", "angle": 45}]})


def test_force_channel_angle_sets_its_axis() -> None:
    spec = parse_task({"kind": "centre_out", "perturbations": [{"kind": "force_channel", "angle": 90.0}]})
    start, goal = torch.zeros(2, 2), torch.tensor([[1.0, 0.0], [1.0, 1.0]])
    plan = plan_loads(spec.perturbations, 2, 5, 2, 0.01, start, goal, torch.Generator().manual_seed(0))
    torch.testing.assert_close(plan.channel_normal, torch.tensor([[-1.0, 0.0], [-1.0, 0.0]]))  # across the y axis
    free = parse_task({"kind": "centre_out", "perturbations": [{"kind": "force_channel"}]})
    plan = plan_loads(free.perturbations, 2, 5, 2, 0.01, start, goal, torch.Generator().manual_seed(0))
    r = 2**-0.5
    torch.testing.assert_close(plan.channel_normal, torch.tensor([[0.0, 1.0], [-r, r]]))  # start to target


def _lag1_corr(x: torch.Tensor) -> float:
    """Largest |correlation| of each column of x (T, B, F) with itself one step later."""
    a, b = x[1:].reshape(-1, x.shape[-1]), x[:-1].reshape(-1, x.shape[-1])
    a, b = a - a.mean(0), b - b.mean(0)
    return float(((a * b).mean(0) / (a.std(0) * b.std(0))).abs().max())


def test_vision_noise_is_iid_across_coordinates_and_time() -> None:
    std = 0.01
    noisy, clean = _paired_envs({"kind": "random_reach", "duration": 0.5, "vision_noise": std, "vision_delay": 0.02})
    episode = sample_episode(noisy.effector, noisy.task, 256, torch.Generator().manual_seed(2))
    o1, _ = noisy.reset_batch(256, generator=torch.Generator().manual_seed(5), episode=episode)
    o2, _ = clean.reset_batch(256, episode=episode)
    diffs = []
    for _ in range(12):
        a = torch.full((256, 4), 0.1)
        o1, _ = noisy.step_batch(a)
        o2, _ = clean.step_batch(a)
        diffs.append(o1 - o2)
    d = torch.stack(diffs[2:])  # (T, B, 12), after the delay line's first fill
    assert torch.all(d[..., :2] == 0) and torch.all(d[..., 4:] == 0)  # goal and proprioception are exact
    vision = d[..., 2:4]
    assert vision.std().item() == pytest.approx(std, rel=0.1)
    assert abs(torch.corrcoef(vision.reshape(-1, 2).T)[0, 1].item()) < 0.1  # x and y drawn apart
    assert _lag1_corr(vision) < 0.1  # a fresh sample every step


def test_action_noise_is_iid_across_muscles_and_time() -> None:
    std = 0.02
    env = MotorEnv(presets.point_mass_24(), {"kind": "random_reach", "duration": 0.2, "action_noise": std})
    env.reset_batch(256, generator=torch.Generator().manual_seed(1))
    command = torch.full((256, 4), 0.3)
    noise = []
    for _ in range(env.n_steps):
        _, info = env.step_batch(command)
        noise.append(info.action - command)
    d = torch.stack(noise)  # (T, B, M)
    assert d.std().item() == pytest.approx(std, rel=0.1)
    corr = torch.corrcoef(d.reshape(-1, 4).T)
    assert corr[~torch.eye(4, dtype=torch.bool)].abs().max().item() < 0.1
    assert _lag1_corr(d) < 0.1


@pytest.mark.parametrize("effector", ["point_mass_24", "arm26"])
def test_joint_load_moves_the_joints(effector: str) -> None:
    eff = build_effector(presets.effector_preset(effector))
    load = [2.0, 0.0] if effector == "point_mass_24" else [0.0, 0.5]  # [N] on the mass / [N m] on the elbow
    centre = [0.0, 0.0] if effector == "point_mass_24" else [0.8, 1.2]
    final = {}
    for name, perts in (("free", []), ("loaded", [{"kind": "joint_load", "torque": load, "start": 0.05}])):
        task = {"kind": "centre_out", "n_targets": 1, "duration": 0.2, "centre_joint": centre, "perturbations": perts}
        env = MotorEnv(eff, task, deterministic=True)
        env.reset_batch(1, evaluation=True)
        for _ in range(env.n_steps):
            _, info = env.step_batch(torch.zeros(1, eff.n_muscles))
        final[name] = info.state.position[0]
    moved = final["loaded"] - final["free"]
    if effector == "point_mass_24":  # 2 N on 1 kg for 0.15 s: x = a t^2 / 2 = 0.0225 m (semi-implicit Euler: a bit more)
        assert moved[0].item() == pytest.approx(0.0225, rel=0.1) and abs(moved[1].item()) < 1e-6
    else:
        assert moved[1].item() > 0.01 and abs(moved[1].item()) > abs(moved[0].item())  # the elbow turns with its load


def test_random_endpoint_load_directions_vary_across_trials() -> None:
    spec = parse_task({"kind": "random_reach", "perturbations": [{"kind": "endpoint_load", "magnitude": 3.0}]})
    like = torch.zeros(2000, 2)
    plan = plan_loads(spec.perturbations, 2000, 5, 2, 0.01, like, like + 1, torch.Generator().manual_seed(0))
    force = plan.endpoint[:, 0]  # (B, 2) [N]
    torch.testing.assert_close(force.norm(dim=-1), torch.full((2000,), 3.0))
    angle = torch.atan2(force[:, 1], force[:, 0])
    assert torch.equal(plan.endpoint[:, 4], force)  # one direction per trial, held
    counts = torch.histc(angle, bins=8, min=-math.pi, max=math.pi)
    assert counts.min().item() > 200  # uniform: 250 per octant
    assert force.mean(0).norm().item() < 0.1 * 3.0  # no preferred direction
    fixed = parse_task({"kind": "random_reach", "perturbations": [{"kind": "endpoint_load", "magnitude": 3.0, "angle": 90}]})
    plan = plan_loads(fixed.perturbations, 4, 5, 2, 0.01, like[:4], like[:4] + 1, torch.Generator().manual_seed(0))
    torch.testing.assert_close(plan.endpoint[:, 0], torch.tensor([[0.0, 3.0]]).expand(4, 2), atol=1e-6, rtol=0)


def test_tracking_target_moves_along_a_lissajous_path() -> None:
    eff = build_effector(presets.point_mass_24())
    task = parse_task({"kind": "tracking", "duration": 2.0, "amplitude": 0.05, "centre_joint": [0.1, -0.1]})
    ep = sample_episode(eff, task, 16, torch.Generator().manual_seed(3))
    target = ep.target  # (B, T + 1, 2)
    torch.testing.assert_close(target[:, 0], torch.tensor([[0.1, -0.1]]).expand(16, 2))  # starts at the centre
    excursion = (target - target[:, :1]).abs()
    assert (excursion.amax(1) > 0.05).all() and (excursion <= 0.1 + 1e-6).all()  # moves, within 2 amplitudes
    speed = (target[:, 1:] - target[:, :-1]).norm(dim=-1) / eff.dt  # (B, T) [m/s]
    assert (speed.mean(1) > 0.05).all()
    assert (target[0, 1:] - target[1, 1:]).abs().max() > 0.01  # each trial has its own path
    torch.testing.assert_close(ep.goal, target)  # the goal input follows the target
