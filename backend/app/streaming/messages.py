"""Websocket message builders shared by the manager and the socket routes."""

from __future__ import annotations

from typing import Any

from backend.app.models import Run
from backend.app.status import RunStatus


def progress_of(run: Run) -> float:
    """Fraction of the iterations done, 0..1 (1 once finished)."""
    if run.status == RunStatus.FINISHED:
        return 1.0
    if not run.n_iterations:
        return 0.0
    return max(0.0, min(1.0, run.step / run.n_iterations))


def status_message(run: Run, worker_pid: int | None = None) -> dict[str, Any]:
    """``{"type": "status", ...}`` for a run row."""
    return {
        "type": "status",
        "run_id": run.id,
        "status": run.status,
        "step": run.step,
        "progress": progress_of(run),
        "error": run.error,
        "device": run.device,
        "worker_pid": worker_pid,
    }


def deleted_message(run_id: int) -> dict[str, Any]:
    """The last message viewers of a deleted run get before their socket closes (code 4410)."""
    return {"type": "status", "run_id": run_id, "status": "deleted"}
