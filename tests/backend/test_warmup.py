"""The idle warm-up: starts only after idleness, at nice 19 in its own process group, dies (with its
compilers) when work arrives, resumes when idle again, stops for good once done. (What the real one,
``motornet_core.training.fastpath.warm``, leaves in the cache: tests/core/test_fastpath.py.)"""

from __future__ import annotations

import multiprocessing as mp
import os
import time
from pathlib import Path

import fake_jobs
from backend_helpers import wait_for

from backend.app.workers.warmup import IdleWarmUp


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        with open(f"/proc/{pid}/stat") as f:  # a zombie is dead
            return f.read().split(")")[-1].split()[0] != "Z"
    except (FileNotFoundError, ProcessLookupError):  # it was reaped after the kill(0) above
        return False


def _wait(predicate, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached")
        time.sleep(0.05)


def _pids(path: Path) -> list[int]:
    _wait(lambda: path.exists() and len(path.read_text().split()) == 4)
    return [int(v) for v in path.read_text().split()]


def test_starts_after_idleness_and_dies_with_its_children_when_work_arrives(tmp_path) -> None:
    pid_file = tmp_path / "pids"
    w = IdleWarmUp(mp.get_context("spawn"), True, 0.3, target=fake_jobs.busy_warmup, args=(str(pid_file),))
    w.tick(busy=False)
    assert not w.running  # not idle long enough yet
    _wait(lambda: (w.tick(busy=False), w.running)[1], timeout=5.0)
    pid, child, group, nice = _pids(pid_file)
    assert group == pid and nice == 19 and _alive(child)
    w.tick(busy=True)  # work: killed at once, the compiler-like child too
    assert not w.running and w.process is None
    _wait(lambda: not _alive(child), timeout=5.0)
    assert not _alive(pid)
    pid_file.unlink()
    w.tick(busy=False)
    _wait(lambda: (w.tick(busy=False), w.running)[1], timeout=5.0)  # idle again: resumes
    assert w.starts == 2
    pid2, child2, _, _ = _pids(pid_file)
    w.stop()
    _wait(lambda: not _alive(child2) and not _alive(pid2), timeout=5.0)


def test_a_finished_warm_up_does_not_start_again(tmp_path) -> None:
    out = tmp_path / "out"
    w = IdleWarmUp(mp.get_context("spawn"), True, 0.0, target=fake_jobs.quick_warmup, args=(str(out),))
    _wait(lambda: (w.tick(busy=False), w.done)[1], timeout=30.0)
    for _ in range(5):
        w.tick(busy=False)
    assert w.starts == 1 and out.read_text() == "done\n" and not w.running
    off = IdleWarmUp(mp.get_context("spawn"), False, 0.0, target=fake_jobs.quick_warmup, args=(str(out),))
    off.tick(busy=False)
    assert off.process is None


def test_the_manager_runs_it_only_while_idle(make_client, tmp_path) -> None:
    c = make_client(job_target=fake_jobs.sleepy_job, warmup=True, warmup_idle_s=0.3)
    manager = c.app.state.manager
    pid_file = tmp_path / "pids"
    manager.warmup.target, manager.warmup.args = fake_jobs.busy_warmup, (str(pid_file),)
    _wait(lambda: manager.warmup.running, timeout=10.0)
    pid, child, _, _ = _pids(pid_file)
    rid = c.post("/api/runs", json={"preset": "tiny_point_mass", "overrides": {"train.n_iterations": 100}}).json()["id"]
    wait_for(c, rid, "running", timeout=10.0)
    _wait(lambda: not _alive(pid) and not _alive(child), timeout=5.0)  # stopped for the run
    assert not manager.warmup.running
    wait_for(c, rid, "finished", timeout=30.0)
    _wait(lambda: manager.warmup.running, timeout=10.0)  # idle again
    assert manager.warmup.starts == 2


def test_a_worker_run_logs_its_training_path(make_client, tmp_path, monkeypatch) -> None:
    """A real worker with "auto" allowed: a 3-iteration run stays eager and its log says why."""
    monkeypatch.delenv("MOTORNET_CORE_AUTO_COMPILE", raising=False)  # the spawned worker inherits this
    monkeypatch.setenv("TORCHINDUCTOR_CACHE_DIR", str(tmp_path / "inductor"))
    c = make_client()
    body = {"preset": "tiny_point_mass", "overrides": {"train.n_iterations": 3}}
    rid = c.post("/api/runs", json=body).json()["id"]
    wait_for(c, rid, "finished", timeout=120.0)
    assert c.get(f"/api/runs/{rid}/spec").json()["train"]["compile"] == "auto"
    lines = [row["message"] for row in c.get(f"/api/runs/{rid}/logs").json()]
    path = [m for m in lines if m.startswith("training path:")]
    assert len(path) == 1 and path[0].startswith("training path: eager steps (train.compile auto): 2 iterations left"), lines
