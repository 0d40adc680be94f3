"""A trained policy with and without interventions: the same evaluation batch, behaviour, muscles and population activity."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from motornet_core.specs.areas import InterventionSpec
from motornet_core.specs.run import RunSpec
from motornet_core.training.loop import EVAL_SEED_OFFSET, Trainer
from motornet_core.training.rollout import ClosedLoop, Rollout, build_snapshot, rollout

MAX_ACTIVITY_POINTS = 100


def unit_groups(policy: Any) -> dict[str, slice]:
    """The policy's areas' unit ranges, or ``{"network": all units}`` for a single network."""
    slices = dict(getattr(policy, "area_slices", {}) or {})
    return slices or {"network": slice(0, int(policy.hidden_size))}


def population_rms(hidden: np.ndarray, groups: dict[str, slice]) -> dict[str, np.ndarray]:
    """Root-mean-square activity over each group's units, averaged over trials: (T,) per group.

    Args:
        hidden: (B, T, H) activity.
    """
    return {name: np.sqrt((hidden[..., sl] ** 2).mean(axis=-1)).mean(axis=0) for name, sl in groups.items()}


def _evaluate(trainer: Trainer, interventions: Sequence[InterventionSpec], targets: list[list[float]] | None) -> Rollout:
    gen = torch.Generator(device=trainer.device).manual_seed(trainer.spec.train.seed + EVAL_SEED_OFFSET)
    tgt = None if targets is None else torch.tensor(targets, dtype=torch.float32, device=trainer.device)
    loop = ClosedLoop(trainer.eval_env, trainer.policy, interventions=list(interventions))
    with torch.no_grad():
        return rollout(
            trainer.eval_env,
            trainer.policy,
            trainer.spec.train.eval_batch_size,
            generator=gen,
            evaluation=True,
            targets=tgt,
            loop=loop,
        )


def compare_interventions(
    spec: RunSpec | dict | str,
    policy_state: dict[str, Any],
    interventions: Sequence[InterventionSpec | dict],
    targets: list[list[float]] | None = None,
    device: str = "cpu",
) -> dict[str, Any]:
    """Evaluate a saved policy on its run's deterministic evaluation batch without and with ``interventions``.

    The intact evaluation has no interventions at all (not even the run's own ``interventions``).

    Args:
        spec: the run the policy was trained in.
        policy_state: ``policy.state_dict()`` or a checkpoint payload with a ``"policy"`` entry.
        interventions: what to do to the policy (validated against ``spec``: errors name
            ``interventions.<i>.<field>``).
        targets: [[x, y], ...] [m]; None: the run's evaluation batch.

    Returns:
        ``{"intact", "intervened"}``: snapshots (JSON dicts); ``"groups"``: [{name, start, stop}]
        unit ranges; ``"activity"``: ``{"time": (T',) [s], "intact": {group: (T',)}, "intervened": ...}``
        population RMS activity per group (mean over trials); ``"summary"``: mean endpoint error [m]
        intact, intervened and their difference, mean RMS activity per group and mean excitation per
        muscle, both conditions; ``"interventions"``: the validated specs.

    Raises:
        SpecError: an invalid intervention (the path names it).
    """
    run = RunSpec.parse(spec)
    listed = [i.model_dump(mode="json") if isinstance(i, InterventionSpec) else i for i in interventions]
    checked = run.with_updates({"interventions": listed})
    base = run.with_updates({"interventions": [], "train.replicates": 1})
    trainer = Trainer(base, device=device)
    state = policy_state.get("policy", policy_state) if "format" in policy_state else policy_state
    trainer.policy.load_state_dict(state)
    trainer.policy.eval()
    step = int(policy_state.get("step", 0)) if "format" in policy_state else 0
    groups = unit_groups(trainer.policy)
    out: dict[str, Any] = {"groups": [{"name": k, "start": v.start, "stop": v.stop} for k, v in groups.items()]}
    activity: dict[str, Any] = {}
    summary: dict[str, Any] = {"endpoint_error": {}, "activity_rms": {k: {} for k in groups}, "excitation": {}}
    for name, ivs in (("intact", []), ("intervened", checked.interventions)):
        res = _evaluate(trainer, ivs, targets)
        traj = res.trajectory
        snap = build_snapshot(step, trainer.effector, traj, res.joints, go_time=res.episode.go_time)
        out[name] = snap.to_dict()
        hidden = traj.hidden.double().cpu().numpy()
        rms = population_rms(hidden, groups)
        n = hidden.shape[1]
        idx = np.unique(np.round(np.linspace(0, n - 1, min(n, MAX_ACTIVITY_POINTS))).astype(int))
        activity["time"] = ((idx + 1) * traj.dt).tolist()
        activity[name] = {k: np.round(v[idx], 6).tolist() for k, v in rms.items()}
        summary["endpoint_error"][name] = snap.mean_endpoint_error
        for k, v in rms.items():
            summary["activity_rms"][k][name] = float(v.mean())
        summary["excitation"][name] = traj.action.double().mean(dim=(0, 1)).cpu().tolist()
    summary["endpoint_error"]["difference"] = summary["endpoint_error"]["intervened"] - summary["endpoint_error"]["intact"]
    out["activity"] = activity
    out["summary"] = summary
    out["interventions"] = [i.model_dump(mode="json") for i in checked.interventions]
    return out
