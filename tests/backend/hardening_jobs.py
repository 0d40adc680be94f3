"""Worker entry points for the hardening tests (no torch import, so they spawn fast)."""

from __future__ import annotations

import time

from backend.app.workers.protocol import JobSpec, MetricMsg, StatusMsg


def nan_job(job: JobSpec, queue, stop_event) -> None:
    """Reports finite metrics, then NaN and infinite ones (bypassing the job's own filter), then diverges."""
    queue.put(StatusMsg(job.run_id, "running", device="cpu"))
    for step in range(1, 6):
        queue.put(MetricMsg(job.run_id, step, {"loss": 1.0 / step}, time.time()))
    queue.put(MetricMsg(job.run_id, 6, {"loss": float("nan"), "grad_norm": float("inf"), "lr": 1e-3}, time.time()))
    queue.put(StatusMsg(job.run_id, "failed", error="training diverged at step 6: loss is nan", step=6))
