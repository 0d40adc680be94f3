"""Worker entry points for the queue tests (no torch import, so they spawn fast).

``queue_job``: a training run reports a metric every 20 ms and a checkpoint at step 2 until it is
asked to stop; a study run finishes after 0.1 s (what a biomechanics-only study takes).
"""

from __future__ import annotations

import time

from backend.app.workers.protocol import CheckpointMsg, JobSpec, MetricMsg, StatusMsg


def queue_job(job: JobSpec, queue, stop_event) -> None:
    """A quick study, or a training run that goes on until it is stopped."""
    queue.put(StatusMsg(job.run_id, "running", device="cpu"))
    if job.kind == "study":
        time.sleep(0.1)
        queue.put(StatusMsg(job.run_id, "finished", result={"seconds": 0.1}))
        return
    step = 0
    while not stop_event.is_set():
        step += 1
        queue.put(MetricMsg(job.run_id, step, {"loss": 1.0 / step}, time.time()))
        if step == 2:
            with open(job.checkpoint_path, "wb") as f:
                f.write(b"fake")
            queue.put(CheckpointMsg(job.run_id, step, job.checkpoint_path))
        time.sleep(0.02)
    queue.put(StatusMsg(job.run_id, "cancelled"))
