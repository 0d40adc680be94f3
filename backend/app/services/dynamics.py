"""Dynamics analyses of a saved run over REST: fixed points, tangling and population trajectories.

The analysis (:func:`motornet_core.training.dynamics.analyse_dynamics`) runs in the server process on
the run's latest checkpoint, off the event loop (the route hands it to the thread pool). Its cost is
bounded twice: :class:`~motornet_core.training.dynamics.DynamicsParams` caps the searches (at most
256 starts x 5000 Adam steps), and at most :data:`MAX_CONCURRENT` analyses run at once; a request
beyond that is answered 429 with ``Retry-After`` rather than queued behind them.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from sqlalchemy.orm import Session

from backend.app.core.errors import Conflict, Overloaded, spec_error
from backend.app.services.runs import checkpoint_of, get_run, run_spec
from motornet_core import MotornetError
from motornet_core.training.dynamics import DynamicsParams, analyse_dynamics

log = logging.getLogger(__name__)

MAX_CONCURRENT = 1
_slots = threading.BoundedSemaphore(MAX_CONCURRENT)


def analyse_run(session: Session, run_id: int, params: DynamicsParams) -> dict[str, Any]:
    """The dynamics of run ``run_id``'s latest checkpoint (JSON-able; ``run_id`` and ``step`` added).

    Raises:
        NotFound: no such run (404).
        Conflict: no checkpoint yet, or one that cannot be loaded (409).
        Overloaded: :data:`MAX_CONCURRENT` analyses are running (429).
        SpecError: a policy the analyses cannot handle, a ``condition`` beyond the evaluation batch,
            or a replicate ensemble (422 naming the path).
    """
    from motornet_core.training import Trainer

    run = get_run(session, run_id)
    path = checkpoint_of(run)
    replicates = run_spec(run).train.replicates  # (409 for a study run)
    if replicates != 1:
        raise spec_error("train.replicates", "dynamics analyses need a single network (replicates 1)", replicates)
    if not _slots.acquire(blocking=False):
        raise Overloaded(f"{MAX_CONCURRENT} dynamics analysis already running; try again shortly")
    try:
        try:
            trainer = Trainer.from_checkpoint(path, device="cpu")
        except MotornetError:
            raise
        except Exception as exc:  # unreadable or mismatched file: the checkpoint's fault, not the request's
            raise Conflict(f"the checkpoint of run {run_id} cannot be used: {exc}") from None
        out = analyse_dynamics(trainer, params)
        log.info("dynamics of run %s at step %s: %d fixed points", run_id, trainer.step, len(out["fixed_points"]["q"]))
        return {"run_id": run_id, "step": int(trainer.step), **out}
    finally:
        _slots.release()
