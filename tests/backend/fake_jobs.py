"""Light worker entry points for the manager tests (no torch import, so they spawn fast).

Each has the signature of :func:`backend.app.workers.job.run_job`; the spawned child imports this
module by name, which works because pytest puts this directory on ``sys.path``.
"""

from __future__ import annotations

import os
import time

from backend.app.workers.protocol import CheckpointMsg, JobSpec, LogMsg, MetricMsg, SnapshotMsg, StatusMsg
from motornet_core.training.records import Snapshot


def tiny_snapshot(step: int) -> Snapshot:
    """A one-trial, one-sample snapshot at ``step``."""
    return Snapshot(
        step=step, dt=0.01, time=[0.0], targets=[[0.0, 0.0]], hand=[[[0.0, 0.0]]], joints=[[[[0.0, 0.0]]]],
        activation=[[[0.0]]], muscle_names=["m"], hidden=[[[0.0]]], endpoint_error=[0.0],
        mean_endpoint_error=0.0, effector_kind="point_mass", go_time=[0.0],
    )  # fmt: skip


def sleepy_job(job: JobSpec, queue, stop_event) -> None:
    """Reports a metric every 20 ms until ``train.n_iterations`` or a stop request."""
    queue.put(StatusMsg(job.run_id, "running", device="cpu"))
    queue.put(LogMsg(job.run_id, "info", f"resume_from={job.resume_from}", time.time()))
    n = int(job.spec["train"]["n_iterations"])
    for step in range(1, n + 1):
        if stop_event.is_set():
            queue.put(StatusMsg(job.run_id, "cancelled"))
            return
        queue.put(MetricMsg(job.run_id, step, {"loss": 1.0 / step, "lr": 1e-3}, time.time()))
        if step == 2:
            with open(job.checkpoint_path, "wb") as f:
                f.write(b"fake")
            queue.put(CheckpointMsg(job.run_id, step, job.checkpoint_path))
            queue.put(SnapshotMsg(job.run_id, step, tiny_snapshot(step)))
        time.sleep(0.02)
    queue.put(StatusMsg(job.run_id, "finished", result={"step": n}))


def stubborn_job(job: JobSpec, queue, stop_event) -> None:
    """Ignores stop requests (the manager must terminate it)."""
    queue.put(StatusMsg(job.run_id, "running", device="cpu"))
    while True:
        time.sleep(0.05)


def silent_exit_job(job: JobSpec, queue, stop_event) -> None:
    """Dies without a word."""
    queue.put(StatusMsg(job.run_id, "running", device="cpu"))
    os._exit(3)


def busy_warmup(pid_file: str) -> None:
    """A stand-in warm-up: starts a child in its process group (a compiler), records both pids, sleeps."""
    import subprocess

    child = subprocess.Popen(["sleep", "60"])
    with open(pid_file, "w") as f:
        f.write(f"{os.getpid()} {child.pid} {os.getpgrp()} {os.nice(0)}")
    time.sleep(60)


def quick_warmup(pid_file: str) -> None:
    """A stand-in warm-up that finishes at once."""
    with open(pid_file, "a") as f:
        f.write("done\n")
