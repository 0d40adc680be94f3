"""The run queue: first in, first out by queue time (a resume queues anew), a quick lane that training
never blocks, and each queued run's position (REST)."""

from __future__ import annotations

import threading
import time

import queue_jobs
from backend_helpers import wait_for

LONG = {"preset": "tiny_point_mass", "overrides": {"train.n_iterations": 100_000}}


def _checkpointed(client, rid: int) -> dict:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        run = client.get(f"/api/runs/{rid}").json()
        if run["status"] == "running" and run["checkpoint_step"]:
            return run
        time.sleep(0.05)
    raise AssertionError(f"run {rid} made no checkpoint: {run}")


def _position(client, rid: int) -> int | None:
    return client.get(f"/api/runs/{rid}").json()["queue_position"]


def test_a_resumed_run_queues_behind_runs_queued_before_its_resume(make_client):
    c = make_client(job_target=queue_jobs.queue_job, shutdown_grace=1.0, max_workers=1, quick_workers=0)
    early = c.post("/api/runs", json=LONG).json()["id"]
    _checkpointed(c, early)
    c.post(f"/api/runs/{early}/cancel")
    wait_for(c, early, "cancelled", timeout=10)
    busy = c.post("/api/runs", json=LONG).json()["id"]
    wait_for(c, busy, "running", timeout=10)
    waiting = c.post("/api/runs", json=LONG).json()["id"]  # queued now: before the resume below
    assert c.post(f"/api/runs/{early}/resume").status_code == 200  # the oldest id, queued last
    assert (_position(c, waiting), _position(c, early)) == (1, 2)
    listed = {r["id"]: r for r in c.get("/api/runs?status=queued").json()}
    assert listed[waiting]["queue_position"] == 1 and listed[early]["queue_position"] == 2
    assert listed[early]["queued_at"] > listed[waiting]["queued_at"] and listed[early]["queue_lane"] == "training"

    c.post(f"/api/runs/{busy}/cancel")
    wait_for(c, waiting, "running", timeout=10)  # first in, first out: not the resumed run with the lower id
    run = c.get(f"/api/runs/{early}").json()
    assert run["status"] == "queued" and run["queue_position"] == 1
    assert c.get(f"/api/runs/{waiting}").json()["queue_position"] is None
    c.post(f"/api/runs/{waiting}/cancel")
    wait_for(c, early, "running", timeout=10)
    c.post(f"/api/runs/{early}/cancel")
    wait_for(c, early, "cancelled", timeout=10)


def test_a_quick_study_starts_while_training_fills_every_worker(make_client):
    c = make_client(job_target=queue_jobs.queue_job, shutdown_grace=1.0, max_workers=1)  # one worker, as on a 2-core machine
    busy = c.post("/api/runs", json=LONG).json()["id"]
    wait_for(c, busy, "running", timeout=10)
    waiting = c.post("/api/runs", json=LONG).json()["id"]
    r = c.post("/api/studies/muscle_curves/runs", json={"params": {}})
    assert r.status_code == 201, r.text
    study = r.json()["id"]
    assert c.get(f"/api/runs/{study}").json()["queue_lane"] == "quick"
    assert wait_for(c, study, "finished", timeout=40)["status"] == "finished"  # not behind the training runs
    assert c.get(f"/api/runs/{busy}").json()["status"] == "running"
    run = c.get(f"/api/runs/{waiting}").json()
    assert run["status"] == "queued" and run["queue_position"] == 1 and run["queue_lane"] == "training"
    for rid in (waiting, busy):
        c.post(f"/api/runs/{rid}/cancel")
    wait_for(c, busy, "cancelled", timeout=10)


def test_the_queue_cap_is_one_step_under_concurrent_creates(make_client, monkeypatch):
    """Ten creates at once, each pausing between counting the queue and inserting its run (a window that
    concurrent requests hit under load): the cap still holds, exactly."""
    from backend.app import queueing
    from backend.app.core.errors import Overloaded
    from backend.app.schemas import RunCreate
    from backend.app.services import runs as service

    c = make_client(job_target=queue_jobs.queue_job, shutdown_grace=1.0, max_workers=1, max_queued_runs=5)
    busy = c.post("/api/runs", json=LONG).json()["id"]
    wait_for(c, busy, "running", timeout=30)  # the only worker is taken: nothing leaves the queue
    sessions, settings = c.app.state.sessions, c.app.state.settings
    count = queueing.queued_count

    def slow_count(session):
        n = count(session)
        time.sleep(0.05)
        return n

    monkeypatch.setattr(queueing, "queued_count", slow_count)
    outcomes: list[str] = []

    def create() -> None:
        with sessions() as session:
            try:
                service.create_run(session, RunCreate(**LONG), settings)
                outcomes.append("queued")
            except Overloaded:
                outcomes.append("refused")

    threads = [threading.Thread(target=create) for _ in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(outcomes) == ["queued"] * 5 + ["refused"] * 5
    assert len(c.get("/api/runs?status=queued").json()) == 5
    c.post(f"/api/runs/{busy}/cancel")


def test_a_resume_respects_the_queue_cap(make_client):
    c = make_client(job_target=queue_jobs.queue_job, shutdown_grace=1.0, max_workers=1, quick_workers=0, max_queued_runs=2)
    early = c.post("/api/runs", json=LONG).json()["id"]
    _checkpointed(c, early)
    c.post(f"/api/runs/{early}/cancel")
    wait_for(c, early, "cancelled", timeout=10)
    busy = c.post("/api/runs", json=LONG).json()["id"]
    wait_for(c, busy, "running", timeout=10)
    for _ in range(2):
        assert c.post("/api/runs", json=LONG).status_code == 201
    assert c.post("/api/runs", json=LONG).status_code == 429
    r = c.post(f"/api/runs/{early}/resume")
    assert r.status_code == 429 and "queue is full" in r.json()["detail"] and r.headers["retry-after"], r.text
    assert c.get(f"/api/runs/{early}").json()["status"] == "cancelled"
    assert len(c.get("/api/runs?status=queued").json()) == 2
    c.post(f"/api/runs/{busy}/cancel")
