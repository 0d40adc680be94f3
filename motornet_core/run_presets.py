"""Task and run presets (``motornet-studio presets`` lists them: :mod:`motornet_core.presets_cli`).

Run presets:

* ``tutorial_point_mass``: MotorNet's training tutorial (physics.md §10): point mass 24, random
  targets, 1 s at dt = 0.01 s, GRU of 32 units with a sigmoid read-out (bias -5), batch 32,
  the L1 position loss, Adam lr 1e-3, gradient-norm clipping at 1, no delays and no noise.
* ``arm26_centre_out``: the arm26 (rigid-tendon Hill) reaching 10 cm to 8 targets, with
  physiological feedback delays and small sensory and motor noise (see :func:`arm26_centre_out`).
* ``two_area_centre_out``: the same reaches under a two-area "premotor -> motor" policy (only the
  motor area drives the muscles; only proprioception reaches it directly).
* ``curl_adaptation_protocol``: a training protocol on the point mass, baseline -> curl field ->
  washout as one run, with 10% catch and 10% force-channel trials (learning and de-adaptation curves).
* ``tiny_point_mass``, ``tiny_arm26``, ``tiny_two_area`` and ``tiny_curl_protocol``: small, fast
  variants for tests and smoke runs.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from motornet_core import presets
from motornet_core.errors import SpecError
from motornet_core.specs.run import RunSpec
from motornet_core.specs.task import parse_task

# Shoulder 45 deg, elbow 90 deg: the hand 45 cm in front of the shoulder, the middle of the arm's
# workspace, where 10 cm reaches in every direction stay well away from the joint limits.
ARM26_CENTRE = [math.pi / 4, math.pi / 2]


def _task(data: dict[str, Any]) -> Any:
    return parse_task(data)


TASK_PRESETS: dict[str, Callable[[], Any]] = {
    "random_reach": lambda: _task({"kind": "random_reach"}),
    "centre_out": lambda: _task({"kind": "centre_out", "n_targets": 8, "radius": 0.1}),
    "centre_out_delayed": lambda: _task(
        {"kind": "centre_out", "duration": 1.6, "delay_min": 0.3, "delay_max": 0.6, "go_cue": True, "catch_probability": 0.1}
    ),
    "centre_out_curl": lambda: _task({"kind": "centre_out", "perturbations": [{"kind": "curl_field", "gain": 10.0}]}),
    "posture_loads": lambda: _task({"kind": "posture", "duration": 1.0}),
    "tracking": lambda: _task({"kind": "tracking", "duration": 2.0}),
}

TASK_DESCRIPTIONS = {
    "random_reach": "random start, random target (MotorNet's RandomTargetReach), 1 s",
    "centre_out": "8 targets on a 10 cm circle around the middle of the workspace, 1 s",
    "centre_out_delayed": "centre-out with a 0.3-0.6 s instructed delay, go cue and 10% catch trials",
    "centre_out_curl": "centre-out in a clockwise curl field of 10 N s/m",
    "posture_loads": "hold a random posture against 2 or 4 N loads in 8 directions",
    "tracking": "follow a target on a 5 cm Lissajous path for 2 s",
}


def tutorial_point_mass() -> RunSpec:
    """MotorNet's tutorial set-up on the point mass (physics.md §10)."""
    return RunSpec.parse(
        {
            "name": "tutorial_point_mass",
            "effector": presets.point_mass_24().model_dump(),
            "task": {"kind": "random_reach", "duration": 1.0},
            "policy": {"kind": "gru", "hidden_size": 32, "readout_bias": -5.0},
            "loss": {"position": 1.0, "position_norm": "l1"},
            "train": {"n_iterations": 1000, "batch_size": 32, "lr": 1e-3, "grad_clip": 1.0, "eval_every": 50},
            "tags": ["tutorial", "point_mass"],
        }
    )


def arm26_centre_out() -> RunSpec:
    """arm26 centre-out reaching with feedback delays and noise.

    Delays: proprioception 20 ms, roughly the afferent conduction time from arm muscle spindles to
    the cortex (the spinal stretch reflex starts ~25 ms after a stretch); vision 70 ms, the short
    end of the visual feedback latency of reaching (retina to motor cortex; visuomotor corrections
    appear 100-150 ms after a target jump once efferent delays are added). Noise: 1 mm of visual
    noise, 1e-3 of normalised proprioceptive noise and 1e-3 of action noise, small enough to allow
    sub-centimetre accuracy. A small activation penalty keeps co-contraction down.
    """
    return RunSpec.parse(
        {
            "name": "arm26_centre_out",
            "effector": presets.arm26("rigid_hill").model_dump(),
            "task": {
                "kind": "centre_out",
                "n_targets": 8,
                "radius": 0.1,
                "centre_joint": ARM26_CENTRE,
                "duration": 1.0,
                "vision_delay": 0.07,
                "proprioception_delay": 0.02,
                "vision_noise": 1e-3,
                "proprioception_noise": 1e-3,
                "action_noise": 1e-3,
            },
            "policy": {"kind": "gru", "hidden_size": 64},
            "loss": {"position": 1.0, "position_norm": "l1", "activation_l2": 1e-3},
            "train": {
                "n_iterations": 3000,
                "batch_size": 32,
                "lr": 3e-3,
                "grad_clip": 1.0,
                "lr_schedule": "cosine",
                "lr_min": 1e-4,
                "eval_every": 100,
            },
            "tags": ["arm26", "centre_out"],
        }
    )


def tiny_point_mass() -> RunSpec:
    """A 20-iteration point-mass run on 0.2 s episodes (tests, smoke runs)."""
    spec = tutorial_point_mass().model_dump()
    spec.update(name="tiny_point_mass", tags=["tiny"])
    spec["task"]["duration"] = 0.2
    spec["policy"]["hidden_size"] = 8
    spec["train"].update(n_iterations=20, batch_size=8, eval_every=10, checkpoint_every=10, eval_batch_size=4)
    return RunSpec.parse(spec)


def tiny_arm26() -> RunSpec:
    """A 5-iteration arm26 centre-out run on 0.1 s episodes with delays and noise (tests)."""
    spec = arm26_centre_out().model_dump()
    spec.update(name="tiny_arm26", tags=["tiny"])
    spec["task"].update(duration=0.1, vision_delay=0.03, proprioception_delay=0.01)
    spec["policy"]["hidden_size"] = 8
    spec["train"].update(n_iterations=5, batch_size=4, eval_every=5, checkpoint_every=5)
    return RunSpec.parse(spec)


def two_area_policy(premotor: int = 32, motor: int = 32, dale: bool = False) -> dict[str, Any]:
    """A "premotor -> motor" policy: only the motor area drives the muscles and only proprioception reaches it
    directly; the premotor area sees the task inputs, vision and proprioception and projects to the motor area,
    which projects back (both GRUs, no extra delay)."""
    return {
        "kind": "multi_area",
        "readout_bias": -5.0,
        "dale": dale,
        "areas": [
            {"name": "premotor", "kind": "gru", "size": premotor, "inputs": ["task", "vision", "proprioception"]},
            {"name": "motor", "kind": "gru", "size": motor, "inputs": ["proprioception"], "to_muscles": True},
        ],
        "connections": [{"source": "premotor", "target": "motor"}, {"source": "motor", "target": "premotor"}],
    }


def two_area_centre_out() -> RunSpec:
    """arm26 centre-out reaching (as ``arm26_centre_out``) under a two-area premotor -> motor policy."""
    spec = arm26_centre_out().model_dump()
    spec.update(name="two_area_centre_out", tags=["arm26", "centre_out", "multi_area"])
    spec["policy"] = two_area_policy()
    return RunSpec.parse(spec)


def tiny_two_area() -> RunSpec:
    """A 5-iteration two-area arm26 run on 0.1 s episodes (tests)."""
    spec = tiny_arm26().model_dump()
    spec.update(name="tiny_two_area", tags=["tiny", "multi_area"])
    spec["policy"] = two_area_policy(6, 4)
    return RunSpec.parse(spec)


CURL_BLOCKS: list[dict[str, Any]] = [
    {"name": "baseline", "n_iterations": 150, "perturbations": []},
    {"name": "curl", "n_iterations": 150, "perturbations": [{"kind": "curl_field", "gain": 10.0}]},
    {"name": "washout", "n_iterations": 100, "perturbations": []},
]


def curl_adaptation_protocol() -> RunSpec:
    """Point-mass centre-out reaches (8 targets, 10 cm, 0.6 s) trained baseline (150 iterations) ->
    clockwise curl field of 10 N s/m (150) -> washout (100) as one run, 10% catch and 10% channel trials.

    The readouts ``protocol/lateral_deviation`` (field trials), ``protocol/catch_deviation`` [m] and
    ``protocol/channel_force`` [N] of every iteration are the learning and de-adaptation curves.
    About 4 minutes on one loaded CPU core.
    """
    spec = tutorial_point_mass().model_dump()
    spec.update(name="curl_adaptation_protocol", tags=["point_mass", "protocol", "curl_field"])
    spec["task"] = {"kind": "centre_out", "n_targets": 8, "radius": 0.1, "duration": 0.6}
    n = sum(int(b["n_iterations"]) for b in CURL_BLOCKS)
    spec["train"].update(
        n_iterations=n,
        batch_size=32,
        lr=3e-3,
        eval_every=50,
        protocol={"blocks": CURL_BLOCKS, "catch_prob": 0.1, "channel_prob": 0.1},
    )
    return RunSpec.parse(spec)


def tiny_curl_protocol() -> RunSpec:
    """``curl_adaptation_protocol`` with 3 + 3 + 3 iterations, 8 hidden units and 0.2 s episodes (tests)."""
    spec = curl_adaptation_protocol().model_dump(mode="json")
    spec.update(name="tiny_curl_protocol", tags=["tiny", "protocol"])
    spec["task"]["duration"] = 0.2
    spec["policy"]["hidden_size"] = 8
    for block in spec["train"]["protocol"]["blocks"]:
        block["n_iterations"] = 3
    spec["train"].update(n_iterations=9, batch_size=8, eval_every=3, checkpoint_every=3, eval_batch_size=8)
    return RunSpec.parse(spec)


RUN_PRESETS: dict[str, Callable[[], RunSpec]] = {
    "tutorial_point_mass": tutorial_point_mass,
    "arm26_centre_out": arm26_centre_out,
    "two_area_centre_out": two_area_centre_out,
    "tiny_two_area": tiny_two_area,
    "tiny_point_mass": tiny_point_mass,
    "tiny_arm26": tiny_arm26,
    "curl_adaptation_protocol": curl_adaptation_protocol,
    "tiny_curl_protocol": tiny_curl_protocol,
}


def run_preset(name: str) -> RunSpec:
    """The run preset ``name``; SpecError for an unknown name."""
    if name not in RUN_PRESETS:
        raise SpecError([{"loc": "preset", "msg": f"unknown run preset; choose one of {sorted(RUN_PRESETS)}", "input": name}])
    return RUN_PRESETS[name]()


def task_preset(name: str) -> Any:
    """The task preset ``name``; SpecError for an unknown name."""
    if name not in TASK_PRESETS:
        raise SpecError([{"loc": "preset", "msg": f"unknown task preset; choose one of {sorted(TASK_PRESETS)}", "input": name}])
    return TASK_PRESETS[name]()
