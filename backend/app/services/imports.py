"""Checkpoint import: a run rebuilt from a checkpoint file's embedded RunSpec.

Only files that ``torch.load(..., weights_only=True)`` accepts (tensors, numbers, strings, lists
and dicts: no pickled code) and that the core's ``Trainer.from_checkpoint`` can rebuild are taken,
within ``settings.max_checkpoint_bytes``. The file lands in ``runs/<id>/checkpoint.pt`` under the
data directory under a name the server chooses; nothing from the upload names a path.
"""

from __future__ import annotations

import contextlib
import logging
import os
import uuid
from pathlib import Path

from sqlalchemy import insert
from sqlalchemy.orm import Session

from backend.app.core.config import Settings
from backend.app.core.errors import spec_error
from backend.app.models import Metric, Run, utcnow
from backend.app.schemas import RunCreate
from backend.app.services.runs import resolve_spec
from backend.app.status import RunStatus
from motornet_core import MotornetError, SpecError

log = logging.getLogger(__name__)


def _load(path: Path):  # -> Trainer
    from motornet_core.training import Trainer

    try:
        return Trainer.from_checkpoint(path, device="cpu")
    except SpecError as exc:
        errors = [{**e, "loc": f"checkpoint.spec.{e['loc']}" if e.get("loc") else "checkpoint.spec"} for e in exc.errors]
        raise SpecError(errors) from None
    except MotornetError as exc:
        raise spec_error("checkpoint", str(exc)) from None
    except Exception as exc:  # pickled code (refused by weights_only), a truncated zip, mismatched weights, ...
        reason = str(exc).strip().splitlines()[0][:300] if str(exc).strip() else type(exc).__name__
        raise spec_error("checkpoint", f"not a loadable motornet-studio checkpoint (weights only): {reason}") from None


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
        tmp.write_bytes(data)
        trainer = _load(tmp)
        spec = resolve_spec(RunCreate(spec=trainer.spec, name=name), settings)
        step, history = int(trainer.step), [float(x) for x in trainer.history]
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
        rows = [
            {"run_id": run.id, "key": "loss", "step": i + 1, "value": v, "time": 0.0}
            for i, v in enumerate(history[-step:] if step else [])
            if v == v and abs(v) != float("inf")
        ]
        if rows:
            session.execute(insert(Metric), rows)
        session.commit()
        return run
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
