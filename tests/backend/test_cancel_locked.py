"""A cancel while the database is locked answers 503 (with Retry-After) like every other write, without
waiting behind the manager, and cancels nothing; once the lock is gone the cancel goes through."""

from __future__ import annotations

import time

import queue_jobs
from backend_helpers import lock_database, wait_for

LONG = {"preset": "tiny_point_mass", "overrides": {"train.n_iterations": 100_000}}


def test_cancel_while_the_database_is_locked_answers_503_and_cancels_nothing(make_client, tmp_path):
    data = tmp_path / "locked"
    c = make_client(job_target=queue_jobs.queue_job, shutdown_grace=1.0, data_dir=data, max_workers=1)
    rid = c.post("/api/runs", json=LONG).json()["id"]
    wait_for(c, rid, "running", timeout=30)
    time.sleep(0.5)  # metrics flowing: the manager thread writes (and blocks on the lock below)
    locker = lock_database(data / "studio.db", 8)
    try:
        t0 = time.monotonic()
        r = c.post(f"/api/runs/{rid}/cancel")
        answered = time.monotonic() - t0
        assert r.status_code == 503, (r.status_code, r.text)
        assert "database" in r.json()["detail"] and r.headers["retry-after"]
        assert locker.poll() is None, f"answered only after the lock was gone ({answered:.1f} s)"
        assert c.get(f"/api/runs/{rid}").json()["status"] == "running"  # a 503 did nothing
    finally:
        locker.wait(30)
    assert c.post(f"/api/runs/{rid}/cancel").status_code == 200
    wait_for(c, rid, "cancelled", timeout=10)
    logs = [line["message"] for line in c.get(f"/api/runs/{rid}/logs").json()]
    assert logs.count("cancel requested") == 1
