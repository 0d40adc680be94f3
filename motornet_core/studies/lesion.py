"""Lesioning the premotor area of a two-area "premotor -> motor" network after training, across seeds.

The network (``motornet_core.run_presets.two_area_policy``): only the motor area drives the muscles and
only proprioception reaches it directly; the premotor area sees the task inputs (the target), vision
and proprioception and projects to the motor area (which projects back). ``seeds`` replicates are
trained together (:class:`~motornet_core.training.EnsembleTrainer`) on arm26 centre-out reaching, then
each is evaluated on the noise-free centre-out set intact and with the premotor area silenced from
``lesion_start`` to the end of the trial (an ``InterventionSpec`` silence of the area).

Per seed and condition: the mean endpoint error [cm], the motor area's RMS activity, its
target-related variance (:func:`condition_variance`) and its trajectory tangling while the lesion is
on (:func:`motor_tangling`: Russo et al. 2018's Q(t) in the intact activity's top principal
components, one eps for both conditions, summarised by its 90th percentile). Across seeds: n, mean and 95% bootstrap
interval per condition (``experiments.aggregate.summarise``) and the paired comparison lesioned -
intact (mean difference with its 95% interval, paired t-test: ``aggregate.compare_paired``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from pydantic import Field, model_validator

from motornet_core.analysis.dynamics import tangling
from motornet_core.analysis.kinematics import endpoint_error
from motornet_core.analysis.neural import pca
from motornet_core.experiments.aggregate import compare_paired, summarise
from motornet_core.run_presets import two_area_policy
from motornet_core.specs.areas import InterventionSpec
from motornet_core.specs.base import fail
from motornet_core.studies.base import OffsetSink, StudyCancelled, StudyContext
from motornet_core.studies.common import TrainingParams, centre, run_spec
from motornet_core.studies.plots import color, figure, grid_layout, line, paths_figure
from motornet_core.training import EnsembleTrainer, Trainer
from motornet_core.training.rollout import ClosedLoop, rollout
from motornet_core.training.sinks import NullSink, TrainingSink

QUICK = {"iterations": 20, "seeds": 3, "premotor_size": 8, "motor_size": 8, "duration": 0.3, "batch_size": 8, "n_targets": 4}
MEASURES = ("endpoint_error_cm", "motor_rms", "motor_condition_variance", "motor_tangling", "premotor_rms")
TANGLING_PCS = 8
TANGLING_PERCENTILE = 90.0
CONDITIONS = ("intact", "lesioned")


class LesionParams(TrainingParams):
    """Parameters of ``premotor_lesion``."""

    seeds: int = Field(8, ge=2, le=32, description="replicate networks (seed, seed + 1, ...)")
    premotor_size: int = Field(32, ge=2, le=256, description="premotor GRU units")
    motor_size: int = Field(32, ge=2, le=256, description="motor GRU units")
    n_targets: int = Field(8, ge=3, le=32, description="centre-out targets")
    radius: float = Field(0.1, gt=0.0, le=0.3, description="reach distance [m]")
    lesion_start: float = Field(0.2, ge=0.0, le=5.0, description="the premotor area is silent from this time to the end [s]")
    quick: bool = Field(False, description="tiny settings for CI (3 seeds, 20 iterations, 8 + 8 units, 0.3 s trials)")

    @model_validator(mode="after")
    def _window(self) -> LesionParams:
        if self.lesion_start >= self.duration and not self.quick:
            raise fail("lesion_start", f"must be within the trial ({self.duration} s)", self.lesion_start)
        return self


def condition_variance(hidden: np.ndarray) -> float:
    """Target-related variance of a population: sum over units of the variance across trials, mean over time.

    Args:
        hidden: (B, T, N) activity of B trials (one per target).
    """
    h = np.asarray(hidden, dtype=np.float64)
    return float(h.var(axis=0).sum(axis=-1).mean())


def rms(hidden: np.ndarray) -> float:
    """Root-mean-square activity over units, averaged over trials and time."""
    h = np.asarray(hidden, dtype=np.float64)
    return float(np.sqrt((h**2).mean(axis=-1)).mean())


def motor_tangling(
    intact: np.ndarray, lesioned: np.ndarray, dt: float, start: int = 0, n_components: int = TANGLING_PCS
) -> tuple[float, float]:
    """Tangling of one network's motor-area trajectories, intact and lesioned, measured alike.

    Both sets are projected onto the top ``n_components`` principal components of the intact activity
    and Q(t) (:func:`~motornet_core.analysis.dynamics.tangling`) is computed for each set with the same
    eps, 0.1 x the intact projection's total variance, so that a change of scale alone does not change
    Q. Each value is the 90th percentile of Q(t) over every trial and the times from ``start`` on.

    Args:
        intact: (B, T, N) motor-area activity of B trials (one per target), intact.
        lesioned: (B, T, N) the same trials with the intervention.
        dt: sampling step [s].
        start: first time index summarised (the lesion's onset).
        n_components: principal components kept.

    Returns:
        (intact, lesioned) 90th percentiles of Q(t) [1/s^2].
    """
    basis = pca(intact, n_components)
    mean, comps = basis["mean"], basis["components"]
    a = basis["projection"]
    b = (np.asarray(lesioned, float) - mean) @ comps.T
    eps = max(0.1 * a.reshape(-1, a.shape[-1]).var(0).sum(), np.finfo(float).tiny)
    q = [tangling(x, dt, eps=eps)[:, start:] for x in (a, b)]
    return float(np.percentile(q[0], TANGLING_PERCENTILE)), float(np.percentile(q[1], TANGLING_PERCENTILE))


def lesion(start: float) -> InterventionSpec:
    """Silence the premotor area from ``start`` [s] to the end of the trial."""
    return InterventionSpec(kind="silence", target="area", area="premotor", start=start)


@torch.no_grad()
def evaluate(trainer: Trainer, interventions: list[InterventionSpec]) -> dict[str, Any]:
    """Noise-free centre-out evaluation at full time resolution: hand (B, T+1, 2), target (B, 2), hidden (B, T, N)."""
    env = trainer.eval_env
    policy = trainer.policy.eval()
    loop = ClosedLoop(env, policy, interventions=interventions)
    n_targets = int(getattr(env.task, "n_targets", trainer.spec.train.eval_batch_size))
    run = rollout(env, policy, n_targets, generator=torch.Generator().manual_seed(0), evaluation=True, loop=loop)
    traj = run.trajectory
    return {
        "hand": traj.fingertip[..., :2].double().numpy(),
        "target": traj.target[:, -1].double().numpy(),
        "hidden": traj.hidden.double().numpy(),
        "slices": dict(policy.area_slices),  # type: ignore[arg-type]
        "dt": env.dt,
    }


def measures(ev: dict[str, Any]) -> dict[str, float]:
    """The study's per-network measures of one evaluation (see the module)."""
    motor, premotor = ev["hidden"][..., ev["slices"]["motor"]], ev["hidden"][..., ev["slices"]["premotor"]]
    return {
        "endpoint_error_cm": float(endpoint_error(ev["hand"], ev["target"]).mean() * 100),
        "motor_rms": rms(motor),
        "motor_condition_variance": condition_variance(motor),
        "premotor_rms": rms(premotor),
    }


def study_spec(p: LesionParams) -> Any:
    """The ensemble's run spec: arm26 centre-out, the two-area policy, ``seeds`` replicates."""
    task = {"kind": "centre_out", "n_targets": p.n_targets, "radius": p.radius, "centre_joint": centre("arm26")}
    spec = run_spec("arm26", task, p, "premotor_lesion").model_dump(mode="json")
    spec["policy"] = two_area_policy(p.premotor_size, p.motor_size)
    spec["train"]["replicates"] = p.seeds
    spec["tags"] = ["study", "multi_area"]
    from motornet_core.specs.run import RunSpec

    return RunSpec.parse(spec)


def run_lesion(p: LesionParams, ctx: StudyContext) -> tuple[dict[str, dict], list[dict], dict]:
    """Train the seeds, evaluate each intact and lesioned, compare (see the module)."""
    if p.quick:
        p = LesionParams.parse({**p.model_dump(), **QUICK, "lesion_start": min(p.lesion_start, 0.1)})
    spec = study_spec(p)
    ens = EnsembleTrainer(spec, device="cpu")
    ctx.log(f"training {p.seeds} two-area networks for {p.iterations} iterations")
    sinks: list[TrainingSink] = [OffsetSink(ctx, "train"), *[NullSink() for _ in range(p.seeds - 1)]]
    results = ens.train(sinks, should_stop=ctx.stopped)
    if any(r.stopped for r in results):
        raise StudyCancelled
    table: list[dict[str, Any]] = []
    per: dict[str, dict[str, list[float]]] = {c: {m: [] for m in MEASURES} for c in CONDITIONS}
    example: dict[str, Any] = {}
    activity: dict[str, list[np.ndarray]] = {c: [] for c in CONDITIONS}
    for i, rep in enumerate(ens.replicates):
        ctx.check()
        evs = {cond: evaluate(rep, ivs) for cond, ivs in (("intact", []), ("lesioned", [lesion(p.lesion_start)]))}
        motors = {c: ev["hidden"][..., ev["slices"]["motor"]] for c, ev in evs.items()}
        onset = min(round(p.lesion_start / evs["intact"]["dt"]), motors["intact"].shape[1] - 1)
        q = dict(zip(CONDITIONS, motor_tangling(motors["intact"], motors["lesioned"], evs["intact"]["dt"], onset), strict=True))
        for cond, ev in evs.items():
            row = {**measures(ev), "motor_tangling": q[cond]}
            for m in MEASURES:
                per[cond][m].append(row[m])
            table.append({"seed": rep.spec.train.seed, "condition": cond, **row, "final_loss": rep.history[-1]})
            activity[cond].append(np.sqrt((motors[cond] ** 2).mean(axis=-1)).mean(axis=0))  # (T,)
            if i == 0:
                example[cond] = ev
    summary: dict[str, Any] = {"n_seeds": p.seeds, "iterations": p.iterations, "lesion_start_s": p.lesion_start}
    for m in MEASURES:
        summary[m] = {c: summarise(per[c][m]).to_dict() for c in CONDITIONS}
        summary[m]["lesioned_minus_intact"] = compare_paired(per["lesioned"][m], per["intact"][m]).to_dict()
    figures = _figures(p, per, example, activity)
    return figures, table, summary


def _figures(p: LesionParams, per: dict, example: dict, activity: dict) -> dict[str, dict]:
    seeds = list(range(p.seeds))
    data: list[dict] = []
    titles = [
        "endpoint error [cm]",
        "motor RMS activity",
        "motor target-related variance",
        "motor tangling (Q, 90th percentile) [1/s²]",
    ]
    keys = ["endpoint_error_cm", "motor_rms", "motor_condition_variance", "motor_tangling"]
    for k, key in enumerate(keys):
        for s in seeds:  # one line per seed: the pair
            y = [per["intact"][key][s], per["lesioned"][key][s]]
            trace = line([0, 1], y, f"seed {s}", s, axis=k + 1, legend=k == 0, mode="lines+markers")
            data.append(trace)
    layout = grid_layout("Premotor lesion: each seed intact and lesioned", titles, [""] * len(keys), titles, cols=2)
    for k in range(len(keys)):
        layout[f"xaxis{'' if k == 0 else k + 1}"].update(tickvals=[0, 1], ticktext=list(CONDITIONS), range=[-0.3, 1.3])
    paired = figure(data, layout)
    ev0 = example["intact"]
    start = ev0["hand"][0, 0]
    paths = paths_figure(
        "Hand paths of seed 0: intact and premotor lesioned",
        [("intact", example["intact"]["hand"]), ("lesioned", example["lesioned"]["hand"])],
        ev0["target"],
        start,
    )
    t = (np.arange(activity["intact"][0].shape[0]) + 1) * ev0["dt"]
    traces = []
    for c, cond in enumerate(CONDITIONS):
        arr = np.stack(activity[cond])  # (seeds, T)
        traces.append(line(t, arr.mean(axis=0), f"{cond} (mean of {arr.shape[0]} seeds)", c))
        traces.append(line(t, arr.min(axis=0), f"{cond} range", c, legend=False, dash="dot", opacity=0.5, hoverinfo="skip"))
        traces.append(line(t, arr.max(axis=0), f"{cond} range", c, legend=False, dash="dot", opacity=0.5, hoverinfo="skip"))
    over_time = figure(
        traces,
        {
            "title": {"text": "Motor-area RMS activity over the trial"},
            "xaxis": {"title": {"text": "time [s]"}},
            "yaxis": {"title": {"text": "RMS activity"}},
            "height": 420,
            "colorway": [color(0), color(1)],
        },
    )
    return {"paired": paired, "paths": paths, "motor_activity": over_time}
