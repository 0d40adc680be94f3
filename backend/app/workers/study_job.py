"""Child-process entry of a study run: ``motornet_core.studies.run_study`` reporting over the worker's pipe.

Imported in a freshly spawned interpreter (through :func:`backend.app.workers.job.run_job`); it never
opens the database. The study writes its figures, table and summary to ``job.out_dir``; the final
status message carries the headline numbers and the duration.
"""

from __future__ import annotations

import traceback
from typing import Any

from backend.app.status import RunStatus
from backend.app.workers.common import QueueSink
from backend.app.workers.protocol import JobSpec, StatusMsg


def run_study_job(job: JobSpec, queue: Any, stop_event: Any) -> None:
    """Run the study ``job.spec["study"]`` with ``job.spec["params"]`` to its end, cancellation or failure."""
    import torch

    torch.set_num_threads(1)
    sink = QueueSink(job.run_id, queue)
    try:
        from motornet_core.studies import run_study
        from motornet_core.training import TrainingDiverged

        name, params = job.spec["study"], job.spec.get("params") or {}
        queue.put(StatusMsg(job.run_id, RunStatus.RUNNING, device="cpu"))
        try:
            result = run_study(name, params, sink=sink, should_stop=stop_event.is_set, out_dir=job.out_dir)
        except TrainingDiverged as exc:
            queue.put(StatusMsg(job.run_id, RunStatus.FAILED, error=f"training diverged: {exc}", step=getattr(exc, "step", None)))
            return
        status = RunStatus.CANCELLED if result.cancelled or stop_event.is_set() else RunStatus.FINISHED
        queue.put(StatusMsg(job.run_id, status, result=result.headline()))
    except Exception as exc:  # the worker must always report why it stopped
        detail = "".join(traceback.format_exception_only(type(exc), exc)).strip()
        sink.on_log("error", traceback.format_exc(limit=8))
        queue.put(StatusMsg(job.run_id, RunStatus.FAILED, error=detail))
