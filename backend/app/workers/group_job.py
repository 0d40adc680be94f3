"""Child-process entry of a group job: an experiment condition's replicates trained as one ensemble.

Each member is an ordinary training run: it gets its own :class:`QueueSink` (metrics, snapshots,
checkpoints and logs tagged with its run id), its own checkpoint file and its own terminal status,
exactly as a single run's worker reports them. Members resume from their own checkpoints; members
whose checkpoints stand at different steps (a server killed between two replicates' checkpoint
writes) train as one ensemble per step, one after the other. Never opens the database.
"""

from __future__ import annotations

import traceback
from typing import Any

from backend.app.status import RunStatus
from backend.app.workers.common import QueueSink, SerialQueue, checkpoint_on_stop, out_of_memory_message
from backend.app.workers.job import pick_device
from backend.app.workers.protocol import JobSpec, StatusMsg


def run_group_job(job: JobSpec, queue: Any, stop_event: Any) -> None:
    """Train every member of ``job`` to completion, cancellation or failure; each reports its own end."""
    import torch

    torch.set_num_threads(1)
    queue = SerialQueue(queue)
    members = list(job.members)
    sinks = [QueueSink(m.run_id, queue) for m in members]
    ended: set[int] = set()

    def end(i: int, status: RunStatus, **kw: Any) -> None:
        ended.add(i)
        queue.put(StatusMsg(members[i].run_id, status, **kw))

    try:
        from motornet_core.specs import RunSpec
        from motornet_core.training import Trainer
        from motornet_core.training.ensemble import EnsembleTrainer

        specs = [RunSpec.parse(m.spec) for m in members]
        device, warning = pick_device(specs[0].train.device)
        trainers = []
        for m, spec, sink in zip(members, specs, sinks, strict=True):
            if warning:
                sink.on_log("warning", warning)
            if m.resume_from:
                trainers.append(Trainer.from_checkpoint(m.resume_from, device=device))
                sink.on_log("info", f"resumed from {m.resume_from}")
            else:
                trainers.append(Trainer(spec, device=device))
        if specs[0].train.compile is not False:  # "auto" may compile
            from motornet_core import choose_cpu_kernels

            choose_cpu_kernels(specs[0].train.batch_size * len(members))
        for m in members:
            queue.put(StatusMsg(m.run_id, RunStatus.RUNNING, device=device))
        by_step: dict[int, list[int]] = {}
        for i, t in enumerate(trainers):
            by_step.setdefault(t.step, []).append(i)

        def save_completed() -> None:  # a stop request mid-iteration keeps every member's completed iterations
            for m, t, sink in zip(members, trainers, sinks, strict=True):
                if t.step > 0:
                    t.checkpoint_completed(m.checkpoint_path, sink)

        with checkpoint_on_stop(stop_event, save_completed):
            for _, group in sorted(by_step.items()):
                if stop_event.is_set():
                    break
                spec = specs[group[0]].with_updates({"train.replicates": len(group)})
                ensemble = EnsembleTrainer(spec, device, replicates=[trainers[i] for i in group])
                _train(ensemble, group, members, sinks, stop_event, end)
        for i in range(len(members)):
            if i not in ended:  # stopped before its ensemble began
                end(i, RunStatus.CANCELLED)
    except Exception as exc:  # every member must always learn why it stopped
        detail = out_of_memory_message(exc, job.memory_limit) or "".join(traceback.format_exception_only(type(exc), exc)).strip()
        for i, sink in enumerate(sinks):
            if i not in ended:
                sink.on_log("error", traceback.format_exc(limit=8))
                end(i, RunStatus.FAILED, error=detail)


def _train(ensemble: Any, group: list[int], members: list[Any], sinks: list[QueueSink], stop_event: Any, end: Any) -> None:
    """Train one ensemble of members ``group``; report each member's end."""
    from motornet_core.training import TrainingDiverged

    try:
        results = ensemble.train(
            [sinks[i] for i in group], should_stop=stop_event.is_set, checkpoint_paths=[members[i].checkpoint_path for i in group]
        )
    except TrainingDiverged as exc:
        step = getattr(exc, "step", None)
        message = str(exc) if str(exc).startswith("training diverged") else f"training diverged at step {step}: {exc}"
        for i in group:
            end(i, RunStatus.FAILED, error=message, step=step)
        return
    status = RunStatus.CANCELLED if stop_event.is_set() else RunStatus.FINISHED
    for i, result in zip(group, results, strict=True):
        end(i, status, result=result.to_dict())
