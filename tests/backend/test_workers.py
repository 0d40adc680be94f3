"""The worker manager with light fake jobs: cancel, kill, queueing, recovery, resume, streaming."""

from __future__ import annotations

import os
import signal
import threading
import time

import fake_jobs
import pytest
from backend_helpers import wait_for
from sqlalchemy import select

from backend.app.models import Run
from backend.app.workers import job as job_module
from backend.app.workers.protocol import JobSpec, StatusMsg

LONG = {"preset": "tiny_point_mass", "overrides": {"train.n_iterations": 100_000}}
SHORT = {"preset": "tiny_point_mass", "overrides": {"train.n_iterations": 5}}


def _running(client, rid: int) -> dict:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        run = client.get(f"/api/runs/{rid}").json()
        if run["status"] == "running" and run["worker_pid"] and run["step"] > 0:
            return run
        time.sleep(0.05)
    raise AssertionError(f"run {rid} never got going: {run}")


def test_fake_run_streams_metrics_and_finishes(make_client):
    c = make_client(job_target=fake_jobs.sleepy_job)
    rid = c.post("/api/runs", json=SHORT).json()["id"]
    with c.websocket_connect(f"/ws/runs/{rid}") as ws:
        kinds = []
        while True:
            msg = ws.receive_json()
            kinds.append(msg["type"])
            if msg["type"] == "status" and msg["status"] == "finished":
                break
    assert kinds[0] == "status" and "metric" in kinds and "snapshot" in kinds and "log" in kinds
    run = c.get(f"/api/runs/{rid}").json()
    assert run["step"] == 5 and run["checkpoint_step"] == 2 and run["result"] == {"step": 5}
    assert c.get(f"/api/runs/{rid}/metrics").json()["series"]["loss"]["step"] == [1, 2, 3, 4, 5]


def test_cancel_running_within_two_seconds(make_client):
    c = make_client(job_target=fake_jobs.sleepy_job)
    rid = c.post("/api/runs", json=LONG).json()["id"]
    _running(c, rid)
    t0 = time.monotonic()
    assert c.post(f"/api/runs/{rid}/cancel").status_code == 200
    wait_for(c, rid, "cancelled", timeout=2.0)
    assert time.monotonic() - t0 < 2.0


def test_worker_ignoring_stop_is_terminated(make_client):
    c = make_client(job_target=fake_jobs.stubborn_job, cancel_grace=0.3)
    rid = c.post("/api/runs", json=LONG).json()["id"]
    wait_for(c, rid, "running", timeout=30)
    c.post(f"/api/runs/{rid}/cancel")
    run = wait_for(c, rid, "cancelled", timeout=2.0)
    # it never wrote a checkpoint: the run says so instead of leaving the user to find Resume missing
    assert (
        run["error"] == "cancelled before its first iteration completed: there is no checkpoint to resume from (start it again)"
    )
    assert c.post(f"/api/runs/{rid}/resume").status_code == 409


def test_sigkilled_worker_fails_the_run_and_spares_the_others(make_client):
    c = make_client(job_target=fake_jobs.sleepy_job)
    rid = c.post("/api/runs", json=LONG).json()["id"]
    other = c.post("/api/runs", json=LONG).json()["id"]
    pid = _running(c, rid)["worker_pid"]
    _running(c, other)
    os.kill(pid, signal.SIGKILL)
    run = wait_for(c, rid, "failed", timeout=5)
    assert "SIGKILL" in run["error"]
    assert run["step"] > 0 and c.get("/api/health").json()["active_runs"] == 1
    step = c.get(f"/api/runs/{other}").json()["step"]
    deadline = time.monotonic() + 10
    while c.get(f"/api/runs/{other}").json()["step"] <= step + 5:
        assert time.monotonic() < deadline, "the other worker stopped reporting"
        time.sleep(0.05)
    c.post(f"/api/runs/{other}/cancel")
    wait_for(c, other, "cancelled", timeout=3)


def test_silent_exit_fails_the_run(make_client):
    c = make_client(job_target=fake_jobs.silent_exit_job)
    rid = c.post("/api/runs", json=LONG).json()["id"]
    assert "code 3" in wait_for(c, rid, "failed", timeout=30)["error"]


def test_queue_beyond_max_workers_and_cancel_queued(make_client):
    c = make_client(job_target=fake_jobs.sleepy_job, max_workers=1)
    first = c.post("/api/runs", json=LONG).json()["id"]
    second = c.post("/api/runs", json=LONG).json()["id"]
    _running(c, first)
    assert c.get(f"/api/runs/{second}").json()["status"] == "queued"
    assert c.get("/api/health").json()["queued_runs"] == 1
    assert c.post(f"/api/runs/{second}/cancel").json()["status"] == "cancelled"
    c.post(f"/api/runs/{first}/cancel")
    wait_for(c, first, "cancelled", timeout=3)


def test_restart_interrupts_then_resumes_from_checkpoint(make_client, tmp_path):
    data = tmp_path / "shared"
    c = make_client(job_target=fake_jobs.sleepy_job, data_dir=data)
    rid = c.post("/api/runs", json=LONG).json()["id"]
    run = _running(c, rid)
    deadline = time.monotonic() + 10
    while run["checkpoint_step"] is None and time.monotonic() < deadline:
        run = c.get(f"/api/runs/{rid}").json()
    c.__exit__(None, None, None)  # graceful stop: the running run becomes interrupted
    c2 = make_client(job_target=fake_jobs.sleepy_job, data_dir=data)
    run = c2.get(f"/api/runs/{rid}").json()
    assert run["status"] == "interrupted" and run["checkpoint_step"] == 2
    assert c2.post(f"/api/runs/{rid}/resume").json()["status"] in ("queued", "running")
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        logs = [line["message"] for line in c2.get(f"/api/runs/{rid}/logs").json()]
        if len(logs) == 2:
            break
        time.sleep(0.05)
    assert logs[-1].startswith("resume_from=") and logs[-1].endswith("checkpoint.pt"), logs
    c2.post(f"/api/runs/{rid}/cancel")
    wait_for(c2, rid, "cancelled", timeout=3)


def test_runs_left_running_are_interrupted_at_startup(make_client, tmp_path):
    data = tmp_path / "crash"
    c = make_client(job_target=fake_jobs.sleepy_job, data_dir=data)
    rid = c.post("/api/runs", json=SHORT).json()["id"]
    wait_for(c, rid)
    with c.app.state.sessions() as s:  # as if the server had died mid-run
        s.scalars(select(Run)).one().status = "running"
        s.commit()
    c.__exit__(None, None, None)
    c2 = make_client(job_target=fake_jobs.sleepy_job, data_dir=data)
    run = c2.get(f"/api/runs/{rid}").json()
    assert run["status"] == "interrupted" and "resume" in run["error"]


def test_delete_running_run(make_client):
    c = make_client(job_target=fake_jobs.sleepy_job)
    rid = c.post("/api/runs", json=LONG).json()["id"]
    _running(c, rid)
    assert c.delete(f"/api/runs/{rid}").status_code == 204
    assert c.get(f"/api/runs/{rid}").status_code == 404
    assert c.get("/api/health").json()["active_runs"] == 0


class _ListQueue(list):
    def put(self, item) -> None:
        self.append(item)


def test_job_reports_divergence_with_its_step(monkeypatch, tmp_path):
    from motornet_core import training

    class Diverging:
        def __init__(self, spec, device=None):
            pass

        def train(self, sink=None, should_stop=None, checkpoint_path=None):
            sink.on_metric(1, {"loss": 1.0, "grad_norm": float("nan")})
            raise training.TrainingDiverged(3, "loss is nan")

    monkeypatch.setattr(training, "Trainer", Diverging)
    from motornet_core.run_presets import run_preset

    queue = _ListQueue()
    job = JobSpec(1, run_preset("tiny_point_mass").model_dump(mode="json"), str(tmp_path / "c.pt"))
    job_module.run_job(job, queue, threading.Event())
    final = queue[-1]
    assert isinstance(final, StatusMsg) and final.status == "failed" and final.step == 3
    assert final.error == "training diverged at step 3: loss is nan"
    assert queue[1].values == {"loss": 1.0}  # non-finite values are not stored


def test_job_reports_bad_spec_as_failure(tmp_path):
    queue = _ListQueue()
    job_module.run_job(JobSpec(1, {"name": "x"}, str(tmp_path / "c.pt")), queue, threading.Event())
    assert queue[-1].status == "failed" and "effector" in queue[-1].error


@pytest.mark.parametrize(("requested", "expected"), [("cpu", "cpu"), ("auto", None)])
def test_pick_device(requested, expected):
    import torch

    device, warning = job_module.pick_device(requested)
    assert device == (expected or ("cuda" if torch.cuda.is_available() else "cpu")) and warning is None
