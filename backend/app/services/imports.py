"""Checkpoint import: a run rebuilt from a checkpoint file's embedded RunSpec.

Only files that ``torch.load(..., weights_only=True)`` accepts (tensors, numbers, strings, lists
and dicts: no pickled code) are taken, within ``settings.max_checkpoint_bytes``, and only when
everything in them fits: the embedded RunSpec validates like a REST body and within this server's
limits, the step is an integer in 0..n_iterations with one finite loss per iteration, and the
weights and optimizer state have the shapes of the spec's network. Nothing is built or trained in
the server process (shapes are checked on the ``meta`` device); the run resumes in a worker.
The file lands in ``runs/<id>/checkpoint.pt`` under the data directory under a name the server
chooses; nothing from the upload names a path.
"""

from __future__ import annotations

import contextlib
import io
import logging
import math
import os
import re
import uuid
from typing import Any

import torch
from sqlalchemy import insert
from sqlalchemy.orm import Session

from backend.app.core.config import Settings
from backend.app.core.errors import spec_error
from backend.app.models import Metric, Run, utcnow
from backend.app.schemas import RunCreate
from backend.app.services.runs import resolve_spec
from backend.app.status import RunStatus
from motornet_core import SpecError
from motornet_core.policies import policy_for_run
from motornet_core.specs import RunSpec
from motornet_core.training.loop import CHECKPOINT_FORMAT, CheckpointInfo

log = logging.getLogger(__name__)


_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
_ABS_PATH = re.compile(r"(?<![\w.])(?:/[^\s/'\"`:,;()\[\]]+){2,}/?")


def clean_reason(text: str) -> str:
    """An exception's message fit for a client: the first line, no colour codes, no server paths."""
    lines = _ANSI.sub("", text).strip().splitlines()
    return _ABS_PATH.sub("<file>", lines[0])[:300] if lines else ""


def _read(data: bytes) -> dict[str, Any]:
    """The checkpoint's payload, read with ``weights_only=True`` (no pickled code runs).

    Raises:
        SpecError: not loadable, or not a motornet-studio checkpoint (``checkpoint``).
    """
    try:
        payload = torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
    except Exception as exc:  # pickled code (refused by weights_only), a truncated zip, junk, ...
        reason = clean_reason(str(exc)) or type(exc).__name__
        raise spec_error("checkpoint", f"not a loadable motornet-studio checkpoint (weights only): {reason}") from None
    if not isinstance(payload, dict) or payload.get("format") != CHECKPOINT_FORMAT:
        found = payload.get("format") if isinstance(payload, dict) else type(payload).__name__
        raise spec_error("checkpoint", f"not a motornet-studio checkpoint (format {found!r}, expected {CHECKPOINT_FORMAT!r})")
    missing = [k for k in ("spec", "policy", "optimizer", "step", "generator", "history") if k not in payload]
    if missing:
        raise spec_error("checkpoint", f"not a motornet-studio checkpoint: no {', '.join(missing)}")
    return payload


def _spec(payload: dict[str, Any], settings: Settings, name: str | None) -> RunSpec:
    """The embedded RunSpec, validated like a REST body and within this server's limits."""
    raw = payload["spec"]
    if not isinstance(raw, (str, dict)):
        raise spec_error("checkpoint.spec", "must be the RunSpec as JSON text", type(raw).__name__)
    try:
        spec = RunSpec.parse(raw)
    except SpecError as exc:
        errors = [{**e, "loc": f"checkpoint.spec.{e['loc']}" if e.get("loc") else "checkpoint.spec"} for e in exc.errors]
        raise SpecError(errors) from None
    return resolve_spec(RunCreate(spec=spec, name=name), settings)


def _step_and_history(payload: dict[str, Any], n_iterations: int) -> tuple[int, list[float]]:
    """The iteration count (an integer in 0..n_iterations) and one finite loss per iteration."""
    step = payload["step"]
    if isinstance(step, torch.Tensor) and step.numel() == 1 and not step.is_floating_point() and step.dtype != torch.bool:
        step = step.item()
    if not isinstance(step, int) or isinstance(step, bool):
        raise spec_error("checkpoint.step", "must be an integer (iterations done)", repr(step)[:100])
    if not 0 <= step <= n_iterations:
        raise spec_error("checkpoint.step", f"must be between 0 and the spec's train.n_iterations ({n_iterations})", step)
    history = payload["history"]
    if isinstance(history, torch.Tensor):
        history = history.tolist() if history.dim() == 1 else history
    if not isinstance(history, (list, tuple)):
        raise spec_error("checkpoint.history", "must be a list of the losses of every iteration", type(history).__name__)
    if len(history) != step:
        raise spec_error("checkpoint.history", f"must hold one loss per iteration done ({step})", f"{len(history)} values")
    for i, value in enumerate(history):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise spec_error(f"checkpoint.history.{i}", "must be a finite number", repr(value)[:100])
    return step, [float(v) for v in history]


def _weights(payload: dict[str, Any], spec: RunSpec) -> None:
    """Check the policy weights and optimizer state against the spec's network, without building it.

    The network is laid out on PyTorch's ``meta`` device (shapes only, no memory, no initialisation
    arithmetic), so a forged spec with a huge network costs nothing here.
    """
    with torch.device("meta"):
        expected = policy_for_run(spec).state_dict()
    policy = payload["policy"]
    if not isinstance(policy, dict):
        raise spec_error("checkpoint.policy", "must be the policy's state_dict", type(policy).__name__)
    if set(policy) != set(expected):
        missing, extra = sorted(set(expected) - set(policy))[:5], sorted(map(str, set(policy) - set(expected)))[:5]
        raise spec_error("checkpoint.policy", f"weights do not match the spec's network (missing {missing}, unexpected {extra})")
    for key, want in expected.items():
        got = policy[key]
        if not isinstance(got, torch.Tensor) or tuple(got.shape) != tuple(want.shape):
            shape = tuple(got.shape) if isinstance(got, torch.Tensor) else type(got).__name__
            msg = f"must have shape {tuple(want.shape)} for the spec's network"
            raise spec_error(f"checkpoint.policy.{key}", msg, str(shape))
        if got.is_floating_point() and not bool(torch.isfinite(got).all()):
            raise spec_error(f"checkpoint.policy.{key}", "holds NaN or infinite weights")
    _optimizer(payload["optimizer"], [tuple(t.shape) for t in expected.values() if t.is_floating_point()])
    generator = payload["generator"]
    if not isinstance(generator, torch.Tensor) or generator.dtype != torch.uint8 or generator.dim() != 1:
        raise spec_error("checkpoint.generator", "must be a random generator's state (a 1-d uint8 tensor)")


def _optimizer(state: Any, shapes: list[tuple[int, ...]]) -> None:
    """An Adam ``state_dict`` whose moment tensors fit the parameters' ``shapes`` (in order)."""
    groups = state.get("param_groups") if isinstance(state, dict) else None
    moments = state.get("state") if isinstance(state, dict) else None
    if not isinstance(groups, list) or not isinstance(moments, dict) or not all(isinstance(g, dict) for g in groups):
        raise spec_error("checkpoint.optimizer", "must be the optimizer's state_dict (state, param_groups)")
    params = [p for g in groups for p in (g.get("params") if isinstance(g.get("params"), list) else [None])]
    if len(params) != len(shapes):
        raise spec_error("checkpoint.optimizer", f"must cover the network's {len(shapes)} parameters", f"{len(params)}")
    index = {p: shapes[i] for i, p in enumerate(params)}
    for key, entry in moments.items():
        if key not in index or not isinstance(entry, dict):
            raise spec_error("checkpoint.optimizer", f"state for an unknown parameter {key!r}")
        for name, value in entry.items():
            if isinstance(value, torch.Tensor) and value.dim() > 0 and tuple(value.shape) != index[key]:
                msg = f"state {name!r} of parameter {key!r} does not fit its shape {index[key]}"
                raise spec_error("checkpoint.optimizer", msg)


def import_checkpoint(session: Session, settings: Settings, data: bytes, name: str | None = None) -> Run:
    """Store ``data`` as a new run: ``interrupted`` (resumable) before its last iteration, else ``finished``.

    Raises:
        SpecError: empty or too large a file, not weights-only loadable, not a checkpoint, a bad
            embedded spec, or a spec beyond this server's limits (all answered 422).
    """
    if not data:
        raise spec_error("checkpoint", "empty upload; send the checkpoint file as the request body")
    if len(data) > settings.max_checkpoint_bytes:
        raise spec_error("checkpoint", f"larger than this server's limit of {settings.max_checkpoint_bytes} bytes", len(data))
    settings.checkpoint_dir.mkdir(parents=True, exist_ok=True)
    tmp = settings.checkpoint_dir / f".import-{uuid.uuid4().hex}.pt"
    try:
        payload = _read(data)
        spec = _spec(payload, settings, name)
        step, history = _step_and_history(payload, spec.train.n_iterations)
        _weights(payload, spec)
        tmp.write_bytes(data)
        done = step >= spec.train.n_iterations
        run = Run(
            name=spec.name,
            tags=[*spec.tags, "imported"] if "imported" not in spec.tags else list(spec.tags),
            spec=spec.model_dump(mode="json"),
            status=RunStatus.FINISHED if done else RunStatus.INTERRUPTED,
            step=step,
            n_iterations=spec.train.n_iterations,
            seed=spec.train.seed,
            device="cpu",
            error=None if done else f"imported from a checkpoint at step {step}; resume it to continue",
            last_metrics={"loss": history[-1]} if history else {},
            checkpoint_step=step,
            finished_at=utcnow(),
        )
        session.add(run)
        session.flush()
        target = settings.checkpoint_dir / str(run.id) / "checkpoint.pt"
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(tmp, target)
        run.checkpoint_path = str(target)
        info = CheckpointInfo(spec=None, step=step, history=history)  # the core's rows of a loss history
        rows = [{"run_id": run.id, "key": "loss", "step": k, "value": v, "time": 0.0} for k, v in info.loss_rows()]
        if rows:
            session.execute(insert(Metric), rows)
        session.commit()
        return run
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
