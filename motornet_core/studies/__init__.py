"""The paper's experiments as one-call studies (Codol et al. 2024, MotorNet, eLife).

Each study trains what it needs, runs its analysis and returns plotly figures, a table of numbers
and headline numbers. The whole public API:

* :data:`STUDIES` ``dict[str, StudyInfo]``: the catalogue. ``StudyInfo`` has ``name``, ``title``,
  ``description``, ``params`` (a pydantic :class:`~motornet_core.specs.base.SpecModel` subclass:
  ``params.model_json_schema()`` builds a form, ``params.parse(dict)`` validates), ``expected_seconds``
  (default parameters, 2-core CPU) and ``trains``.
* :func:`study_params` ``(name, params=None) -> SpecModel``: validated parameters (defaults filled in).
* :func:`quick_params` ``(name, params=None) -> dict``: the study's quick mode (2 seeds, few
  iterations: a pipeline check in seconds, not a result) under ``params``.
* :func:`run_study` ``(name, params=None, sink=None, should_stop=None, out_dir=None) -> StudyResult``.
* :class:`StudyResult`: ``figures`` (``{key: {"data": [...], "layout": {...}}}``, plain JSON lists),
  ``table`` (``list[dict]`` rows of numbers), ``summary`` (headline numbers), ``seconds``,
  ``cancelled``, ``params``; ``.to_dict()`` and ``.write(out_dir)``.
* :func:`catalogue` ``() -> list[dict]``: JSON-ready catalogue (name, title, description,
  expected_seconds, trains, defaults, schema) for a server's ``GET /studies``.

Studies: ``muscle_curves`` and ``moment_arms`` (seconds, no training), ``centre_out_curl_field``,
``posture_perturbations``, ``pmd_point_mass_vs_arm`` and ``premotor_lesion`` (minutes; they train
small GRUs on the CPU).

Seeds: every training study trains ``seeds`` networks per condition (default 8, network i with
seed ``seed + i``; one replicate ensemble, :class:`~motornet_core.training.ensemble.EnsembleTrainer`)
and reports each effect across them: mean, 95% BCa bootstrap interval, n, and the direct test of
the comparison it claims. ``summary["claims"]`` lists them: ``claim``, ``measure``, ``unit``,
``n``, ``mean``, ``low``, ``high``, ``test``, ``p``, ``holds`` (at alpha 0.05), ``expected``
(the paper's finding where it states one) and ``replicates`` (``holds == expected``).

Progress: a training study reports to ``sink`` (a :class:`~motornet_core.training.TrainingSink`):
``on_metric(step, values)`` after every iteration (``step`` keeps increasing across the study's
training phases and networks), ``on_snapshot(step, snapshot)`` with an extra ``"phase"`` key, and
``on_log(level, message)`` at every phase (metrics and snapshots: the first network of the
ensemble). ``should_stop()`` is polled before every iteration and between analyses; when it
returns True the study ends early with ``cancelled=True``.

Errors: an unknown study name or invalid parameters raise :class:`~motornet_core.errors.SpecError`
whose ``errors[i]["loc"]`` names the field (``"study"`` for the name, e.g. ``"iterations"`` or
``"test_onsets.1"`` for a parameter). ``TrainingDiverged`` propagates.

Example:
    >>> from motornet_core.studies import run_study
    >>> result = run_study("moment_arms", {"n_points": 21}, out_dir=Path("out/moment_arms"))
    >>> result.summary["arm26"]["roles"]["biceps"]
    'shoulder flexor, elbow flexor'
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

from motornet_core.errors import SpecError
from motornet_core.specs.base import SpecModel
from motornet_core.studies.base import StudyCancelled, StudyContext, StudyInfo, StudyResult, jsonable
from motornet_core.studies.biomech import MomentArmsParams, MuscleCurvesParams, run_moment_arms, run_muscle_curves
from motornet_core.studies.curl_field import CurlFieldParams, run_curl_field
from motornet_core.studies.lesion import LesionParams, run_lesion
from motornet_core.studies.pmd import PmdParams, run_pmd
from motornet_core.studies.posture import PostureParams, run_posture
from motornet_core.studies.stats import axial_rayleigh_test, rayleigh_test
from motornet_core.training.sinks import TrainingSink

log = logging.getLogger(__name__)

__all__ = [
    "STUDIES",
    "StudyInfo",
    "StudyResult",
    "axial_rayleigh_test",
    "catalogue",
    "quick_params",
    "rayleigh_test",
    "run_study",
    "study_params",
]

STUDIES: dict[str, StudyInfo] = {
    info.name: info
    for info in [
        StudyInfo(
            name="muscle_curves",
            title="Muscle models: force-length and force-velocity",
            description=(
                "Active and passive force-length and force-velocity curves of the five muscle models "
                "(relu, rigid_hill, thelen, mujoco, compliant_hill), each as used by its effector preset, "
                "normalised by F_max, the optimal fibre length and vmax."
            ),
            params=MuscleCurvesParams,
            expected_seconds=2,
            trains=False,
            run=run_muscle_curves,
        ),
        StudyInfo(
            name="moment_arms",
            title="Moment arms and musculotendon lengths of the arms and the point mass",
            description=(
                "Moment arms (dL/dq) and musculotendon lengths against each joint angle, the other joint at "
                "mid-range, for arm26 (polynomial geometry) and arm210 (path points), and the point mass's moment "
                "arms (dL/dx, dL/dy) and lengths as maps over its workspace; the table classifies every muscle "
                "as a flexor or an extensor of each joint it crosses (point mass: the directions it pulls)."
            ),
            params=MomentArmsParams,
            expected_seconds=2,
            trains=False,
            run=run_moment_arms,
        ),
        StudyInfo(
            name="centre_out_curl_field",
            title="Curl-field adaptation: deviation, learning, after-effects",
            description=(
                "8 arm26 networks (seeds) trained on centre-out reaching, then tested in a curl field, trained "
                "further in it (learning curve) and tested with the field removed; the signed lateral deviation "
                "of the outward movement (onset to arrival) and at peak speed, each condition and effect with its "
                "95% interval across seeds and paired tests on the same networks."
            ),
            params=CurlFieldParams,
            expected_seconds=600,  # measured: 7.6 min with 8 networks (4 networks: 9.7 min, more loaded)
            trains=True,
            run=run_curl_field,
            quick={"seeds": 2, "iterations": 20, "batch_size": 8, "hidden_size": 16, "adapt_iterations": 10, "adapt_every": 5},
        ),
        StudyInfo(
            name="posture_perturbations",
            title="Holding a posture against endpoint loads",
            description=(
                "8 networks (seeds) trained to hold the hand still against loads, probed with loads of 8 "
                "directions, several magnitudes and onsets: hand displacement while the load is on, muscle and "
                "unit responses against a no-load control of the same network, and the unimodal and axial "
                "(bimodal) Rayleigh tests of the units' preferred load directions, across seeds."
            ),
            params=PostureParams,
            expected_seconds=1230,  # measured: 20.5 min with 8 networks, 2 cores loaded
            trains=True,
            run=run_posture,
            quick={"seeds": 2, "iterations": 20, "batch_size": 8, "hidden_size": 16},
        ),
        StudyInfo(
            name="pmd_point_mass_vs_arm",
            title="Preferred movement directions: point mass vs arm",
            description=(
                "8 networks per effector (point mass, arm26) trained on centre-out reaching; the units' "
                "preferred movement directions (cosine fits): axial concentration (doubled angles) and axis "
                "across seeds, the arm-vs-point-mass difference tested directly (permutation test across "
                "seeds) and its growth over training (paired test on the same networks)."
            ),
            params=PmdParams,
            expected_seconds=2750,  # measured: 46 min with 8 networks per effector, 2 cores loaded
            trains=True,
            run=run_pmd,
            quick={"seeds": 2, "iterations": 20, "batch_size": 8, "hidden_size": 16, "min_r2": 0.0},
        ),
        StudyInfo(
            name="premotor_lesion",
            title="Lesioning the premotor area of a two-area network",
            description=(
                "Replicate two-area networks (premotor -> motor; only the motor area drives the muscles and only "
                "proprioception reaches it directly) trained on arm26 centre-out reaching, then evaluated intact and "
                "with the premotor area silenced: endpoint error and the motor area's RMS activity and target-related "
                "variance per seed, with 95% intervals and paired t-tests (lesioned vs intact). quick: CI-sized."
            ),
            params=LesionParams,
            expected_seconds=600,
            trains=True,
            run=run_lesion,
        ),
    ]
}


def _info(name: str) -> StudyInfo:
    if name not in STUDIES:
        raise SpecError([{"loc": "study", "msg": f"unknown study; choose one of {sorted(STUDIES)}", "input": name}])
    return STUDIES[name]


def study_params(name: str, params: dict[str, Any] | SpecModel | None = None) -> SpecModel:
    """The validated parameters of study ``name`` (defaults where ``params`` is silent).

    Raises:
        SpecError: unknown study (``loc`` "study") or invalid parameters (``loc`` the field).
    """
    info = _info(name)
    if isinstance(params, info.params):
        return params
    if isinstance(params, SpecModel):
        params = params.model_dump()
    return info.params.parse(params or {})


def quick_params(name: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
    """The quick mode of study ``name`` (its :attr:`StudyInfo.quick` overrides) with ``params`` on top.

    Raises:
        SpecError: unknown name (``loc`` "study").
    """
    return {**_info(name).quick, **(params or {})}


def catalogue() -> list[dict[str, Any]]:
    """One JSON-ready dict per study: name, title, description, expected_seconds, trains, defaults, schema."""
    return [
        {
            "name": s.name,
            "title": s.title,
            "description": s.description,
            "expected_seconds": s.expected_seconds,
            "trains": s.trains,
            "defaults": s.params().model_dump(mode="json"),
            "quick": dict(s.quick),
            "schema": s.params.model_json_schema(),
        }
        for s in STUDIES.values()
    ]


def run_study(
    name: str,
    params: dict[str, Any] | SpecModel | None = None,
    sink: TrainingSink | None = None,
    should_stop: Callable[[], bool] | None = None,
    out_dir: str | Path | None = None,
) -> StudyResult:
    """Run study ``name`` and return its figures, table and summary (also written to ``out_dir`` when given).

    Args:
        name: a key of :data:`STUDIES`.
        params: overrides of the study's parameters (a dict or its params model).
        sink: receives training progress (metrics, snapshots, log lines).
        should_stop: polled often; True cancels (the result then has ``cancelled=True``).
        out_dir: where to write ``figures.json``, ``table.csv``, ``table.json`` and ``summary.json``.

    Raises:
        SpecError: unknown name or invalid parameters, naming the field.
    """
    info = _info(name)
    p = study_params(name, params)
    ctx = StudyContext(sink, should_stop)
    result = StudyResult(name=name, params=p.model_dump(mode="json"))
    threads = getattr(p, "threads", None)
    old_threads = torch.get_num_threads()
    t0 = time.perf_counter()
    ctx.log(f"study {name} started")
    try:
        if threads:
            torch.set_num_threads(threads)
        figures, table, summary = info.run(p, ctx)
        result.figures, result.table, result.summary = figures, jsonable(table), jsonable(summary)
    except StudyCancelled:
        result.cancelled = True
        ctx.log(f"study {name} cancelled")
    finally:
        torch.set_num_threads(old_threads)
    result.seconds = time.perf_counter() - t0
    ctx.log(f"study {name} finished in {result.seconds:.1f} s")
    if out_dir is not None:
        result.write(out_dir)
    return result
