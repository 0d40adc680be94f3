"""`import motornet_core` is enough for `gymnasium.make("MotorNet/...")`; the envs load only when made."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

PROBE = """
import json, sys
import gymnasium, motornet_core
lazy = "motornet_core.envs" not in sys.modules
env = gymnasium.make("MotorNet/Reach-v0")
obs, info = env.reset(seed=0)
env.step(env.action_space.sample())
ids = sorted(i for i in gymnasium.registry if i.startswith("MotorNet/"))
studies = [m for m in sys.modules if m.startswith("motornet_core.studies")]
print(json.dumps({"lazy": lazy, "ids": ids, "obs": list(obs.shape), "studies": studies}))
"""


def test_import_motornet_core_registers_the_gym_ids() -> None:
    out = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, cwd=ROOT, timeout=240)
    assert out.returncode == 0, out.stderr[-3000:]
    got = json.loads(out.stdout.strip().splitlines()[-1])
    from motornet_core.envs import GYM_IDS

    assert got["ids"] == sorted(GYM_IDS)
    assert got["lazy"], "import motornet_core should register the ids without importing the environments"
    assert got["obs"] and got["studies"] == []


def test_pyproject_declares_the_gymnasium_entry_point() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    target = project["entry-points"]["gymnasium.envs"]["MotorNet"]
    module, _, attr = target.partition(":")
    register = getattr(importlib.import_module(module), attr)
    register()  # idempotent
    register()


def test_stable_baselines3_ppo_trains_on_the_env_made_by_id() -> None:
    """Issue 16: once the id is found, an off-the-shelf RL library trains on it (a few PPO updates)."""
    sb3 = pytest.importorskip("stable_baselines3")  # the `rl` extra
    import gymnasium
    import torch

    import motornet_core  # noqa: F401  (registers the ids)

    env = gymnasium.make("MotorNet/Reach-v0")
    small = {"net_arch": [32]}
    model = sb3.PPO("MlpPolicy", env, n_steps=64, batch_size=32, n_epochs=2, seed=0, device="cpu", policy_kwargs=small)
    before = [p.detach().clone() for p in model.policy.parameters()]
    model.learn(total_timesteps=128)
    assert model.num_timesteps == 128
    assert any(not torch.equal(a, b) for a, b in zip(model.policy.parameters(), before, strict=True))
    obs, _ = env.reset(seed=1)
    action, _ = model.predict(obs, deterministic=True)
    assert env.action_space.contains(action)
    env.close()
