"""Child-process entry of a training run: runs the core Trainer and reports over its pipe to the manager.

This module is imported in a freshly spawned interpreter; it never opens the database.
"""

from __future__ import annotations

import logging
import traceback
from typing import Any

from backend.app.status import RunKind, RunStatus
from backend.app.workers.common import QueueSink, SerialQueue, checkpoint_on_stop, limit_memory, out_of_memory_message
from backend.app.workers.protocol import JobSpec, StatusMsg

log = logging.getLogger(__name__)


def pick_device(requested: str) -> tuple[str, str | None]:
    """The device to train on and a warning when a requested GPU is missing."""
    import torch

    if requested == "auto":
        return ("cuda" if torch.cuda.is_available() else "cpu"), None
    if requested.startswith("cuda") and not torch.cuda.is_available():
        return "cpu", f"device {requested!r} requested but CUDA is not available; training on cpu"
    return requested, None


def may_use_gpu(job: JobSpec) -> bool:
    """True when the job's spec (or a member's) asks for ``cuda`` or ``auto`` (its worker is then not capped)."""
    specs = [m.spec for m in job.members] or [job.spec]
    return any(str((spec.get("train") or {}).get("device", "cpu")) != "cpu" for spec in specs)


def run_job(job: JobSpec, queue: Any, stop_event: Any) -> None:
    """Train ``job`` to completion, cancellation or failure, reporting everything through ``queue.put``."""
    if not may_use_gpu(job):  # CUDA reserves far more address space than any such cap
        limit_memory(job.memory_limit)  # before torch is imported: one run cannot take the machine's memory
    if job.members:
        from backend.app.workers.group_job import run_group_job

        run_group_job(job, queue, stop_event)
        return
    if job.kind == RunKind.STUDY:
        from backend.app.workers.study_job import run_study_job

        run_study_job(job, queue, stop_event)
        return
    import torch

    torch.set_num_threads(1)
    queue = SerialQueue(queue)
    sink = QueueSink(job.run_id, queue)
    step: int | None = None
    try:
        from motornet_core.specs import RunSpec
        from motornet_core.training import Trainer, TrainingDiverged

        spec = RunSpec.parse(job.spec)
        device, warning = pick_device(spec.train.device)
        if warning:
            sink.on_log("warning", warning)
        if job.resume_from:
            trainer = Trainer.from_checkpoint(job.resume_from, device=device)
            sink.on_log("info", f"resumed from {job.resume_from}")
        else:
            trainer = Trainer(spec, device=device)
        if spec.train.compile is not False:  # this process compiles only training chunks ("auto" may)
            from motornet_core import prefer_scalar_cpu_kernels

            prefer_scalar_cpu_kernels()
        queue.put(StatusMsg(job.run_id, RunStatus.RUNNING, device=device))

        def save_completed() -> None:  # a stop request mid-iteration keeps the iterations completed
            if trainer.step > 0:
                step = trainer.checkpoint_completed(job.checkpoint_path, sink)
                sink.on_log("info", f"stop requested: checkpoint of step {step} written")

        try:
            with checkpoint_on_stop(stop_event, save_completed):
                result = trainer.train(sink=sink, should_stop=stop_event.is_set, checkpoint_path=job.checkpoint_path)
        except TrainingDiverged as exc:
            step = getattr(exc, "step", None)
            message = str(exc) if str(exc).startswith("training diverged") else f"training diverged at step {step}: {exc}"
            queue.put(StatusMsg(job.run_id, RunStatus.FAILED, error=message, step=step))
            return
        status = RunStatus.CANCELLED if stop_event.is_set() else RunStatus.FINISHED
        queue.put(StatusMsg(job.run_id, status, result=result.to_dict()))
    except Exception as exc:  # the worker must always report why it stopped
        detail = out_of_memory_message(exc, job.memory_limit) or "".join(traceback.format_exception_only(type(exc), exc)).strip()
        sink.on_log("error", traceback.format_exc(limit=8))
        queue.put(StatusMsg(job.run_id, RunStatus.FAILED, error=detail, step=step))
