"""``motornet-studio serve --executor ray`` against a real local Ray cluster on loopback.

One Ray head for the module (``ray start --head`` on 127.0.0.1 only: 2 CPUs, a small object store,
no dashboard, token authentication with a token file in the test's directory), stopped at the end
through its own process group; one studio server connected to it through its settings (executor,
address, token file).
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import pytest
from backend_helpers import api_get as _get
from backend_helpers import api_post as _post
from backend_helpers import cancel_latency, run_async
from backend_helpers import follow_socket as _follow

from tests.conftest import free_port, start_live_server

TINY = {
    "preset": "tiny_point_mass",
    "overrides": {"train.n_iterations": 30, "train.eval_every": 10, "train.checkpoint_every": 10},
}
LONG = {"preset": "tiny_point_mass", "overrides": {"train.n_iterations": 100_000, "train.checkpoint_every": 5}}
CANCEL_GRACE = 1.5  # the server's default cancel_grace [s]; after grace + 2 s the worker is killed by force


@pytest.fixture(scope="module")
def ray_cluster(tmp_path_factory: pytest.TempPathFactory):
    """``ray start --head --block`` on 127.0.0.1 (its own session, stopped by its process group at the end).

    Yields ``(address, token_path)``.
    """
    root = tmp_path_factory.mktemp("ray")
    token = root / "ray_auth_token"
    token.write_text(secrets.token_hex(32))
    token.chmod(0o600)
    port = free_port()
    temp_dir = tempfile.mkdtemp(prefix="mnray")  # short: Ray's socket paths must fit in 107 bytes
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAY_AUTH")}
    env |= {"RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN_PATH": str(token), "HOME": str(root)}
    env["RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"] = "0"  # keep 127.0.0.1 (Ray swaps loopback for the machine's address)
    env["RAY_GRACEFUL_SHUTDOWN_DRAIN_TIMEOUT_S"] = "0"  # SIGTERM stops the head at once (Ray drains 30 s by default)
    ray_bin = Path(sys.executable).with_name("ray")
    cmd = [str(ray_bin), "start", "--head", "--block", "--node-ip-address", "127.0.0.1", "--port", str(port)]
    cmd += ["--num-cpus", "2", "--object-store-memory", str(80 * 1024 * 1024), "--include-dashboard", "false"]
    cmd += ["--temp-dir", temp_dir, "--disable-usage-stats"]
    log = open(root / "ray.log", "ab")  # noqa: SIM115  (owned by the child)
    proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    log.close()
    try:
        deadline = time.monotonic() + 60
        while not list(Path(temp_dir).glob("session_*/sockets/raylet*")):
            assert proc.poll() is None and time.monotonic() < deadline, (root / "ray.log").read_text()
            time.sleep(0.2)
        yield f"127.0.0.1:{port}", token
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)  # ray start --block stops its head processes
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(5)
        shutil.rmtree(temp_dir, ignore_errors=True)


@pytest.fixture(scope="module")
def ray_server(ray_cluster, tmp_path_factory: pytest.TempPathFactory):
    """A studio server using the cluster (``MOTORNET_STUDIO_EXECUTOR=ray``, its address and token file)."""
    address, token = ray_cluster
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAY_AUTH")}
    env |= {
        "MOTORNET_STUDIO_EXECUTOR": "ray",
        "MOTORNET_STUDIO_RAY_ADDRESS": address,
        "MOTORNET_STUDIO_RAY_AUTH_TOKEN_PATH": str(token),  # the studio sets Ray's authentication itself
        "MOTORNET_STUDIO_MAX_WORKERS": "2",
    }
    with start_live_server(tmp_path_factory.mktemp("studio"), env=env) as server:
        yield server


SLOW_CHANNEL_DRIVER = """
import json, sys, time
import ray
from backend.app.status import RunStatus
from backend.app.workers.protocol import JobSpec, LogMsg, StatusMsg
from backend.app.workers.ray_channel import ChannelActor
from backend.app.workers.ray_executor import RayHandle, _ray_job

class SlowChannel(ChannelActor):  # a channel actor whose worker process takes 7 s to come up (a loaded node)
    def __init__(self):
        time.sleep(7.0)
        super().__init__()

def target(job, queue, stop):
    queue.put(LogMsg(job.run_id, "info", "hello", time.time()))
    queue.put(StatusMsg(job.run_id, RunStatus.FINISHED, result={"ok": 1}))

ray.init(address=sys.argv[1], log_to_driver=False)
job = JobSpec(1, {}, "/nonexistent/checkpoint.pt")
actor = ray.remote(num_cpus=0)(SlowChannel).remote()
handle = RayHandle(ray.remote(max_retries=0, num_cpus=1)(_ray_job).remote(target, job, actor, "1.1", {}), actor, "1.1", job)
got, deadline = [], time.monotonic() + 60
while handle.alive() and time.monotonic() < deadline:  # the manager's loop: receive, then reap
    got += handle.receive(0.0)
    time.sleep(0.05)
got += handle.receive(0.0)
print(json.dumps([type(m).__name__ + ":" + str(getattr(m, "status", "")) for m in got]))
"""


def test_a_channel_actor_slow_to_start_loses_no_message(ray_cluster):
    """Regression: a drain that took over 5 s (the actor's worker process still starting) closed the
    channel for good, so a job's final statuses were lost ("ended without reporting a result")."""
    address, token = ray_cluster
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAY_AUTH")}
    env |= {"RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN_PATH": str(token), "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0"}
    env["PYTHONPATH"] = str(Path(__file__).resolve().parents[2])
    cmd = [sys.executable, "-c", SLOW_CHANNEL_DRIVER, address]
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=90)
    assert out.returncode == 0, out.stderr[-3000:]
    assert json.loads(out.stdout.strip().splitlines()[-1]) == ["LogMsg:", "StatusMsg:finished"], out.stdout


REUSE_DRIVER = """
import json, sys, time
from pathlib import Path
from backend.app.core.config import Settings
from backend.app.workers.job import run_job
from backend.app.workers.protocol import JobSpec, MetricMsg, StatusMsg
from backend.app.workers.ray_executor import RayExecutor
from motornet_core.run_presets import tiny_point_mass

address, root, token = sys.argv[1], Path(sys.argv[2]), sys.argv[3]
settings = Settings(data_dir=root, executor="ray", ray_address=address, ray_auth_token_path=token, max_workers=1, warmup=False)
executor = RayExecutor(settings, run_job)
executor.open()  # one job at a time: one warm worker process, which every job below finds idle

def spec_of(iterations):
    return tiny_point_mass().with_updates({"train.n_iterations": iterations, "train.eval_every": 10, "train.checkpoint_every": 5})

def run(rid, iterations, stop_at_first_metric=False):
    spec = spec_of(iterations)
    (root / str(rid)).mkdir(parents=True)
    handle = executor.start(JobSpec(rid, spec.model_dump(mode="json"), str(root / str(rid) / "checkpoint.pt")))
    got, deadline = [], time.monotonic() + 120
    while handle.alive() and time.monotonic() < deadline:
        new = handle.receive(0.1)
        if stop_at_first_metric and any(isinstance(m, MetricMsg) for m in new):
            handle.request_stop()
            stop_at_first_metric = False
        got += new
    got += handle.receive(0.0)
    handle.close()
    end = [m for m in got if isinstance(m, StatusMsg) and m.status != "running"][-1]
    return {"pid": handle.pid, "status": str(end.status), "result": end.result}

jobs = [run(1, 100_000, True), run(2, 30), run(3, 30), run(4, 100_000, True), run(5, 30)]  # True: cancelled at its first metric
executor.close()
import torch
from motornet_core.training import Trainer
torch.set_num_threads(1)
fresh = Trainer(spec_of(30)).train().loss  # in this process, which trained nothing before
print(json.dumps({"jobs": jobs, "fresh": fresh}))
"""


def _drive(driver: str, ray_cluster, tmp_path) -> dict:
    """Run a driver script against the cluster in its own process; its last stdout line as JSON."""
    address, token = ray_cluster
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAY_AUTH")}
    env["PYTHONPATH"] = str(Path(__file__).resolve().parents[2])
    cmd = [sys.executable, "-c", driver, address, str(tmp_path), str(token)]
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=240)
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_a_reused_worker_process_starts_each_job_afresh(ray_cluster, tmp_path):
    """Worker processes train job after job (no process start per job): a job after a cancelled one
    in the same process is not stopped by the previous job's flag, and the same spec gives the same
    result in a process that trained other jobs before."""
    got = _drive(REUSE_DRIVER, ray_cluster, tmp_path)
    jobs = got["jobs"]
    assert [j["status"] for j in jobs] == ["cancelled", "finished", "finished", "cancelled", "finished"], jobs
    assert len({j["pid"] for j in jobs}) == 1, jobs  # all five in one process
    finished = [j["result"] for j in jobs if j["status"] == "finished"]
    assert all(r["step"] == 30 and not r["stopped"] for r in finished), finished
    assert finished[0]["loss"] == finished[1]["loss"] == finished[2]["loss"] == got["fresh"], (finished, got["fresh"])


LOST_CHANNEL_DRIVER = """
import json, sys, time
from pathlib import Path
from backend.app.core.config import Settings
from backend.app.workers.job import run_job
from backend.app.workers.protocol import JobSpec, MetricMsg, StatusMsg
from backend.app.workers.ray_executor import RayExecutor
from motornet_core.run_presets import tiny_point_mass

address, root, token = sys.argv[1], Path(sys.argv[2]), sys.argv[3]
settings = Settings(data_dir=root, executor="ray", ray_address=address, ray_auth_token_path=token, max_workers=1, warmup=False)
executor = RayExecutor(settings, run_job)
executor.open()

def start(rid, iterations):
    spec = tiny_point_mass().with_updates({"train.n_iterations": iterations, "train.eval_every": 10, "train.checkpoint_every": 5})
    (root / str(rid)).mkdir(parents=True)
    return executor.start(JobSpec(rid, spec.model_dump(mode="json"), str(root / str(rid) / "checkpoint.pt")))

def follow(handle, on_metric=None):
    got, deadline = [], time.monotonic() + 120
    while handle.alive() and time.monotonic() < deadline:
        new = handle.receive(0.1)
        if on_metric and any(isinstance(m, MetricMsg) for m in new):
            on_metric()
            on_metric = None
        got += new
    return got

import ray  # after open: Ray reads its authentication settings once, at import

first = start(1, 100_000)
lost = executor._channels[0]
follow(first, on_metric=lambda: ray.kill(lost))  # the shared channel actor dies under a running job
reason = first.exit_reason()
first.close()
second = start(2, 30)  # started after the loss: a new channel actor
ends = [str(m.status) for m in follow(second) if isinstance(m, StatusMsg)]
second.close()
print(json.dumps({"alive": first.alive(), "reason": reason, "replaced": executor._channels[0] != lost, "second": ends}))
executor.close()
"""


def test_a_lost_channel_actor_fails_its_jobs_with_a_reason_and_is_replaced(ray_cluster, tmp_path):
    """The channel actor is shared by many jobs: when it dies, a running job ends with a reason
    (never hangs) and jobs started afterwards get a new actor."""
    got = _drive(LOST_CHANNEL_DRIVER, ray_cluster, tmp_path)
    assert got["alive"] is False and "Ray task failed" in got["reason"], got
    assert got["replaced"] is True and got["second"] == ["running", "finished"], got


def _until(server, rid: int, ok, timeout: float = 60, allowed=("queued", "running")) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run = _get(server, f"/api/runs/{rid}")
        if ok(run):
            return run
        assert run["status"] in allowed, run
        time.sleep(0.1)
    raise AssertionError(f"run {rid}: condition not met in {timeout} s: {run}")


def test_run_trains_on_ray_with_live_metrics_snapshots_and_checkpoint_back_home(ray_server):
    rid = _post(ray_server, "/api/runs", TINY)["id"]
    messages = run_async(_follow(f"{ray_server.ws_url}/ws/runs/{rid}", {"finished", "failed"}, timeout=90))
    assert messages[-1]["status"] == "finished", messages[-1]
    metrics = [m for m in messages if m["type"] == "metric"]
    snapshots = [m for m in messages if m["type"] == "snapshot"]
    assert metrics and metrics[-1]["step"] == 30 and "loss" in metrics[-1]["values"]
    assert [s["step"] for s in snapshots][-1] == 30 and "hand" in snapshots[-1]["data"]
    run = _get(ray_server, f"/api/runs/{rid}")
    assert run["node"].startswith("ray 127.0.0.1 ("), run
    assert run["device"] == "cpu"
    # the checkpoint came back to the server's data dir from the worker's temporary directory
    ckpt = ray_server.data_dir / "runs" / str(rid) / "checkpoint.pt"
    assert ckpt.is_file() and run["checkpoint_step"] == 30
    from motornet_core.training import read_checkpoint

    assert read_checkpoint(ckpt).step == 30
    assert [s["step"] for s in _get(ray_server, f"/api/runs/{rid}/snapshots")] == [10, 20, 30]
    assert httpx.get(f"{ray_server.url}/api/runs/{rid}/checkpoint", timeout=30).status_code == 200


def test_cancel_on_ray_keeps_the_promise(ray_server):
    rid = _post(ray_server, "/api/runs", LONG)["id"]
    _until(ray_server, rid, lambda r: r["status"] == "running" and r["step"] >= 1)

    # the promise: stopped by its flag within the grace period, else by force right after it
    assert run_async(cancel_latency(ray_server, rid, timeout=15)) < CANCEL_GRACE + 2.0
    assert _get(ray_server, f"/api/runs/{rid}")["status"] == "cancelled"


def test_killed_ray_worker_fails_its_run_with_a_reason_then_it_resumes(ray_server):
    rid = _post(ray_server, "/api/runs", LONG)["id"]
    run = _until(ray_server, rid, lambda r: r["status"] == "running" and (r["checkpoint_step"] or 0) >= 5 and r["worker_pid"])
    pid = run["worker_pid"]
    assert pid != ray_server.process.pid
    reached = _get(ray_server, f"/api/runs/{rid}")["step"]
    os.kill(pid, signal.SIGKILL)  # the Ray worker process that trains the run
    failed = _until(ray_server, rid, lambda r: r["status"] == "failed", timeout=30, allowed=("running", "failed"))
    assert "Ray worker died" in failed["error"], failed
    step = failed["checkpoint_step"]
    # resumable from a checkpoint at most checkpoint_every (5) iterations before the kill
    assert step >= max(5, reached - 5), (step, reached)
    assert (ray_server.data_dir / "runs" / str(rid) / "checkpoint.pt").is_file()
    _post(ray_server, f"/api/runs/{rid}/resume")
    resumed = _until(ray_server, rid, lambda r: r["status"] == "running" and r["step"] > step + 5, allowed=("queued", "running"))
    assert resumed["worker_pid"] != pid and resumed["node"].startswith("ray ")
    logs = _get(ray_server, f"/api/runs/{rid}/logs")
    assert any("resumed from" in (e["message"]) for e in (logs["logs"] if isinstance(logs, dict) else logs))
    _post(ray_server, f"/api/runs/{rid}/cancel")
    _until(ray_server, rid, lambda r: r["status"] == "cancelled", allowed=("running", "cancelled"))


def test_experiment_fans_out_over_the_cluster_and_completes(ray_server):
    body = {
        "preset": "tiny_point_mass",
        "overrides": {"train.n_iterations": 6, "train.eval_every": 3, "train.checkpoint_every": 3},
        "grid": {"train.lr": [0.001, 0.01]},
        "seeds": 2,
        "name": "on ray",
    }
    eid = _post(ray_server, "/api/experiments", body)["id"]
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        exp = _get(ray_server, f"/api/experiments/{eid}")
        if exp["status"] in ("finished", "failed", "cancelled"):
            break
        time.sleep(0.3)
    runs = [r for r in _get(ray_server, "/api/runs") if r["experiment_id"] == eid]
    assert exp["status"] == "finished", [(r["status"], r["error"]) for r in runs]
    runs = [r for r in _get(ray_server, "/api/runs") if r["experiment_id"] == eid]
    assert len(runs) == 4 and {r["status"] for r in runs} == {"finished"}
    assert all(r["node"].startswith("ray 127.0.0.1") and r["device"] == "cpu" for r in runs)
    for r in runs:
        assert Path(ray_server.data_dir / "runs" / str(r["id"]) / "checkpoint.pt").is_file()


def test_server_restart_finds_its_cluster_again_and_the_run_is_interrupted_then_resumes(ray_server):
    rid = _post(ray_server, "/api/runs", LONG)["id"]
    _until(ray_server, rid, lambda r: r["status"] == "running" and (r["checkpoint_step"] or 0) >= 5)
    log_before = len(ray_server.log())
    ray_server.restart()  # SIGTERM: the server's graceful shutdown (Ray's own SIGTERM handler would exit at once)
    assert "Traceback" not in ray_server.log()[log_before:], ray_server.log()[log_before:][-3000:]
    run = _get(ray_server, f"/api/runs/{rid}")
    assert run["status"] == "interrupted" and run["checkpoint_step"] >= 5, run
    step = run["checkpoint_step"]
    _post(ray_server, f"/api/runs/{rid}/resume")
    resumed = _until(ray_server, rid, lambda r: r["status"] == "running" and r["step"] > step, allowed=("queued", "running"))
    assert resumed["node"].startswith("ray 127.0.0.1"), resumed
    _post(ray_server, f"/api/runs/{rid}/cancel")
    _until(ray_server, rid, lambda r: r["status"] == "cancelled", allowed=("running", "cancelled"))
