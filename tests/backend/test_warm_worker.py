"""The local executor's warm worker: a process started ahead takes the next job, and its promises hold."""

from __future__ import annotations

import gc
import os
import signal
import time
import weakref
from pathlib import Path

import fake_jobs
import pytest
from backend_helpers import make_settings, wait_for
from fastapi.testclient import TestClient

from backend.app.main import create_app
from backend.app.workers.executors import LocalExecutor
from backend.app.workers.protocol import JobSpec

MEDIUM = {"preset": "tiny_point_mass", "overrides": {"train.n_iterations": 60}}  # ~1.2 s of a fake job
LONG = {"preset": "tiny_point_mass", "overrides": {"train.n_iterations": 100_000}}


def _spare(client, other_than: int | None = None) -> int:
    """The pid of the executor's waiting worker (a new one, when ``other_than`` is given)."""
    executor = client.app.state.manager.executor
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        pid = executor.spare_pid
        if pid is not None and pid != other_than:
            return pid
        time.sleep(0.05)
    raise AssertionError("no warm worker was started")


def _gone(pid: int, timeout: float = 30.0) -> bool:
    """Whether process ``pid`` ends (or is a zombie) within ``timeout`` s (a process may take a few
    seconds to exit after its last message on a loaded machine)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            if "zombie" in Path(f"/proc/{pid}/status").read_text():
                return True
        except FileNotFoundError:
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)


def _running_pid(client, rid: int) -> int:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        run = client.get(f"/api/runs/{rid}").json()
        if run["status"] == "running" and run["worker_pid"] and run["step"] > 0:
            return int(run["worker_pid"])
        time.sleep(0.05)
    raise AssertionError(f"run {rid} never got going: {run}")


def test_each_run_starts_in_the_worker_started_ahead_and_a_new_one_waits(make_client):
    c = make_client(job_target=fake_jobs.sleepy_job, warm_worker=True)
    first = _spare(c)
    rid = c.post("/api/runs", json=MEDIUM).json()["id"]
    assert _running_pid(c, rid) == first  # the job runs in the process started before it was asked for
    wait_for(c, rid, "finished")
    assert c.get(f"/api/runs/{rid}/metrics").json()["series"]["loss"]["step"] == list(range(1, 61))
    second = _spare(c, other_than=first)  # and the next job's process is already there
    rid2 = c.post("/api/runs", json=MEDIUM).json()["id"]
    assert _running_pid(c, rid2) == second
    wait_for(c, rid2, "finished")
    assert _gone(first)  # a worker still serves one job: it ended with its job


def test_cancel_and_a_dead_warm_worker_keep_their_promises(make_client):
    c = make_client(job_target=fake_jobs.sleepy_job, warm_worker=True)
    warm = _spare(c)
    rid = c.post("/api/runs", json=LONG).json()["id"]
    assert _running_pid(c, rid) == warm
    assert c.post(f"/api/runs/{rid}/cancel").status_code == 200
    wait_for(c, rid, "cancelled", timeout=5.0)  # the stop flag reaches a job in a warm worker
    # a warm worker that died while it waited is replaced by a cold start: the run still trains
    dead = _spare(c, other_than=warm)
    os.kill(dead, signal.SIGKILL)
    assert _gone(dead)
    rid2 = c.post("/api/runs", json=MEDIUM).json()["id"]
    assert _running_pid(c, rid2) not in (warm, dead)
    wait_for(c, rid2, "finished")
    assert c.get(f"/api/runs/{rid2}/metrics").json()["series"]["loss"]["step"] == list(range(1, 61))


def test_the_server_stops_its_warm_worker(tmp_path):
    with TestClient(create_app(make_settings(tmp_path / "data", warm_worker=True), job_target=fake_jobs.sleepy_job)) as c:
        pid = _spare(c)
    assert _gone(pid)


def test_a_real_training_run_in_a_warm_worker(make_client):
    c = make_client(warm_worker=True)  # the real job: torch and the core imported before the job came
    warm = _spare(c)
    rid = c.post("/api/runs", json={"preset": "tiny_point_mass", "overrides": {"train.n_iterations": 120}}).json()["id"]
    assert _running_pid(c, rid) == warm
    run = wait_for(c, rid, "finished", timeout=120)
    assert run["step"] == 120 and run["checkpoint_step"] == 120
    assert c.get(f"/api/runs/{rid}/metrics").json()["series"]["loss"]["step"] == list(range(1, 121))


def test_no_warm_worker_competes_with_jobs_for_the_last_core(tmp_path):
    executor = LocalExecutor(fake_jobs.stubborn_job, warm=True)
    executor.cores = 1  # a machine with one core, busy with the job below
    executor.open()
    try:
        first = executor.spare_pid
        assert first is not None  # idle: one waits
        job = JobSpec(1, MEDIUM, str(tmp_path / "checkpoint.pt"))
        handle = executor.start(job)
        assert handle.pid == first and executor.spare_pid is None  # the job took it; no core left for another
        handle.kill()
        handle.join(5.0)
        handle.close()  # the job is over: its core is free again
        assert executor.spare_pid not in (None, first)
    finally:
        executor.close()
    assert executor.spare_pid is None


@pytest.mark.parametrize("warm", [False, True])
def test_the_executor_keeps_no_job_past_its_end(tmp_path, warm):
    # a closed job's handle (its process object and stop flag's named semaphores) must not be held on to
    executor = LocalExecutor(fake_jobs.sleepy_job, warm=warm)
    executor.open()
    try:
        refs = []
        for k in range(3):
            handle = executor.start(JobSpec(k + 1, {"train": {"n_iterations": 1}}, str(tmp_path / f"{k}.pt")))
            handle.join(30.0)
            assert not handle.alive()
            handle.receive()
            handle.close()
            refs.append(weakref.ref(handle))
            del handle
        gc.collect()
        assert [r() for r in refs] == [None, None, None]
    finally:
        executor.close()


def _threads(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("Threads:"):
            return int(line.split()[1])
    return 0


def test_a_warm_worker_killed_just_before_its_job_came_gives_the_job_to_a_cold_start(tmp_path):
    """SIGKILL of a warm worker whose imports started threads: its process shows as a zombie while
    its threads exit, and until then it is not yet waitable and its pipes stay open, so the job is
    sent into a dead process. The job must still run (cold), not fail with the dead worker; a job
    handed to a warm worker still importing (below, the first test) stays in it."""
    executor = LocalExecutor(fake_jobs.sleepy_job, warm=True)
    executor.open()
    try:
        for k in range(3):
            dead = _spare_of(executor)
            deadline = time.monotonic() + 60
            while _threads(dead) < 2 and time.monotonic() < deadline:  # torch imported: threads started
                time.sleep(0.05)
            os.kill(dead, signal.SIGKILL)
            assert _gone(dead)  # a zombie: the job below comes at once, as a request would
            handle = executor.start(JobSpec(k + 1, {"train": {"n_iterations": 3}}, str(tmp_path / f"{k}.pt")))
            statuses: list[str] = []
            deadline = time.monotonic() + 60
            while "finished" not in statuses and time.monotonic() < deadline:  # as the manager reads a job
                statuses += [m.status for m in handle.receive(wait=0.1) if type(m).__name__ == "StatusMsg"]
                if not handle.alive() and "finished" not in statuses:
                    statuses += [m.status for m in handle.receive() if type(m).__name__ == "StatusMsg"]
                    break
            assert handle.pid != dead
            handle.join(10.0)
            handle.close()
            assert statuses == ["running", "finished"], statuses
    finally:
        executor.close()


def _spare_of(executor: LocalExecutor) -> int:
    deadline = time.monotonic() + 30
    while executor.spare_pid is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert executor.spare_pid is not None
    return executor.spare_pid
