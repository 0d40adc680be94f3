"""The Ray executor: each job (a run, or an experiment condition's replicate group) is one Ray task.

- The task asks for the resources its spec needs: one CPU (workers train on one thread), plus
  ``settings.ray_gpus_per_run`` GPU (a fraction allowed) when the spec's device is ``cuda``, or
  ``auto`` on a cluster that has GPUs.
- It reports the same typed messages as a local worker, pickled in batches to a long-lived channel
  actor (``ray_channel.ChannelActor``: per job key, the batches not yet drained and the job's stop
  flag; one actor per ``CHANNEL_JOBS`` concurrent jobs, on the server's node) that the manager
  drains; the manager stays the single database writer.
- Worker processes are reused across jobs (``max_calls=WORKER_CALLS`` for CPU jobs, then a fresh
  one; GPU jobs always get a fresh process, as CUDA pins a process to its device), and the executor
  warms one per concurrent job at start-up (torch and the trainer imported): a job costs no process
  start. A job's state lives in its own task (its channel object and stop flag, its temporary
  directory); what a process keeps is torch's imports and compile caches, and each job sets its
  own torch thread count again. No ``RLIMIT_AS`` is set in Ray's processes (see ``start``).
- Workers need no shared filesystem: a resumed run's checkpoint travels with the task, the worker
  writes checkpoints and a study's files in a temporary directory of its own node, and sends their
  bytes; the handle writes them (atomically) where a local worker would have, under the data dir.
- Cancel: the stop flag first; after the grace period ``ray.cancel(force=True)``. A worker that dies
  (killed, out of memory, node lost) ends its task with an error: the run fails with that reason
  and resumes from its last checkpoint. Tasks are never retried by Ray (``max_retries=0``): the
  studio decides.
- Tasks and the channel actors are owned by the server's driver; a server that stops takes them with it
  (Ray's fate sharing), so after a restart every run left ``running`` is ``interrupted``, resumable.

Ray's token authentication is made explicit: the studio sets ``RAY_AUTH_MODE`` and
``RAY_AUTH_TOKEN_PATH`` itself (``settings.ray_auth_token_path``; a local instance's token is kept in
the data directory, created with mode 0600, never under the home directory). See docs/scale-out.md.
"""

from __future__ import annotations

import contextlib
import ipaddress
import logging
import math
import os
import pickle
import secrets
import shutil
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from backend.app.core.config import Settings
from backend.app.status import WORKER_TERMINAL_STATUSES, RunKind
from backend.app.workers.executors import JobTarget, WorkerHandle
from backend.app.workers.protocol import CheckpointMsg, GroupMember, JobSpec, MetricMsg, StatusMsg, WorkerMessage, placed
from backend.app.workers.ray_channel import ChannelActor

log = logging.getLogger(__name__)
NAMESPACE = "motornet-studio"
FLUSH_SECONDS = 0.1  # a worker sends its messages (and reads its stop flag) at least this often while it trains
FLUSH_MESSAGES = 200
WORKER_CALLS = 50  # CPU jobs one Ray worker process trains before Ray replaces it (bounds what a process accumulates)
CHANNEL_JOBS = 64  # concurrent jobs per channel actor
WARM_TIMEOUT = 120.0  # [s] how long ``open`` waits for the warmed worker processes


@dataclass(frozen=True)
class FileMsg:
    """Bytes of a file a Ray worker wrote: a checkpoint (then ``step``) or a study's artifact ``name``."""

    run_id: int
    data: bytes
    step: int | None = None
    name: str | None = None


def _ray() -> Any:
    try:
        import ray
    except ModuleNotFoundError as exc:  # pragma: no cover - depends on the installation
        raise RuntimeError("--executor ray needs Ray: pip install 'motornet-studio[ray]'") from exc
    return ray


LOOPBACK_ENV = "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"  # Ray's switch: "0" keeps 127.0.0.1 as the node's address


def is_loopback(address: str | None) -> bool:
    """True for no address (a local instance started by the studio) or one whose host is loopback."""
    if not address:
        return True
    host = address.split("://", 1)[-1].rsplit(":", 1)[0].strip("[]")
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _write_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.part")
    tmp.write_bytes(data)
    os.replace(tmp, path)


class _WorkerChannel:
    """The worker's end: batches messages to its key on the channel actor; the stop flag comes back with each send.

    A checkpoint is sent as its bytes (and the message naming the server's path follows it); a
    study's artifact files are sent before the study's final status. Thread-safe: the training loop
    and its stop watcher (``workers/common.checkpoint_on_stop``) both send and read the flag.
    """

    def __init__(self, actor: Any, key: str, node: str, out_dirs: dict[int, Path]) -> None:
        self.actor, self.key, self.node, self.out_dirs = actor, key, node, out_dirs
        self.batch: list[Any] = []
        self.last = time.monotonic()
        self.stopped = False
        self._lock = threading.RLock()

    def put(self, message: WorkerMessage) -> None:
        message = placed(message, self.node)
        with self._lock:
            if isinstance(message, CheckpointMsg):
                self.batch.append(FileMsg(message.run_id, Path(message.path).read_bytes(), step=message.step))
            if isinstance(message, StatusMsg) and message.status in WORKER_TERMINAL_STATUSES and message.run_id in self.out_dirs:
                out = self.out_dirs[message.run_id]
                for f in sorted(p for p in out.rglob("*") if p.is_file()):
                    self.batch.append(FileMsg(message.run_id, f.read_bytes(), name=str(f.relative_to(out))))
            self.batch.append(message)
            urgent = not isinstance(message, MetricMsg)
            if urgent or len(self.batch) >= FLUSH_MESSAGES or time.monotonic() - self.last >= FLUSH_SECONDS:
                self.flush()

    def flush(self) -> None:
        """Send the batch (one send at a time: back-pressure from a busy manager) and read the stop flag."""
        import ray

        with self._lock:
            batch, self.batch = self.batch, []
            self.last = time.monotonic()
            blob = pickle.dumps(batch, protocol=pickle.HIGHEST_PROTOCOL)
            self.stopped = bool(ray.get(self.actor.put.remote(self.key, blob))) or self.stopped

    def is_set(self) -> bool:
        """The stop flag (read from the channel actor at most every ``FLUSH_SECONDS``)."""
        with self._lock:
            if not self.stopped and time.monotonic() - self.last >= FLUSH_SECONDS:
                self.flush()
            return self.stopped

    def wait(self, timeout: float) -> bool:
        """Block up to ``timeout`` s for the stop flag (``threading.Event.wait``'s contract)."""
        deadline = time.monotonic() + timeout
        while not self.is_set():
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            time.sleep(min(left, FLUSH_SECONDS))
        return True

    def set(self) -> None:
        self.stopped = True


def _node_label() -> str:
    import ray

    ctx = ray.get_runtime_context()
    return f"ray {ray.util.get_node_ip_address()} ({ctx.get_node_id()[:8]})"


def _ray_job(target: JobTarget, job: JobSpec, actor: Any, key: str, resume: dict[int, bytes]) -> None:
    """Body of the Ray task: run ``target`` on node-local copies of the job's files.

    Everything of the job is made here (its channel and stop flag, its temporary directory) and
    dropped when it returns: the next job of a reused worker process starts from none of it.
    """
    work = Path(tempfile.mkdtemp(prefix=f"motornet-run-{job.run_id}-"))
    try:
        local = _localise(job, work, resume)
        out_dirs = {job.run_id: Path(local.out_dir)} if local.out_dir else {}
        channel = _WorkerChannel(actor, key, _node_label(), out_dirs)
        try:
            target(local, channel, channel)
        finally:
            channel.flush()
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _ray_gpu_job(target: JobTarget, job: JobSpec, actor: Any, key: str, resume: dict[int, bytes]) -> None:
    """:func:`_ray_job` for a job that may use a GPU (its own remote function: one job per process)."""
    _ray_job(target, job, actor, key, resume)


def _warm_worker() -> int:
    """Import what a job needs (torch, the trainer, the worker entries) in this worker process; its pid."""
    import importlib

    import torch

    for module in ("backend.app.workers.job", "backend.app.workers.group_job", "motornet_core.training.ensemble"):
        importlib.import_module(module)
    torch.set_num_threads(1)
    return os.getpid()


def _localise(job: JobSpec, work: Path, resume: dict[int, bytes]) -> JobSpec:
    """``job`` with its paths in ``work`` and its resume checkpoints written there."""

    def paths(run_id: int) -> tuple[str, str | None]:
        d = work / str(run_id)
        d.mkdir(parents=True, exist_ok=True)
        start = None
        if run_id in resume:
            (d / "resume.pt").write_bytes(resume[run_id])
            start = str(d / "resume.pt")
        return str(d / "checkpoint.pt"), start

    members = []
    for m in job.members:
        ckpt, start = paths(m.run_id)
        members.append(GroupMember(m.run_id, m.spec, ckpt, start))
    ckpt, start = paths(job.run_id)
    out_dir = str(work / str(job.run_id) / "artifacts") if job.out_dir else None
    if out_dir:
        Path(out_dir).mkdir(parents=True)
    return replace(job, checkpoint_path=ckpt, resume_from=start, out_dir=out_dir, members=tuple(members))


class RayHandle:
    """A job's Ray task, its key on a channel actor, and where its files go on the server.

    The manager never blocks on Ray: :meth:`receive` keeps one ``drain`` call in flight and returns
    what it brought once it is back (an actor busy or still starting on a loaded machine answers
    late; a drain still under way is no sign of a dead actor). The handle stays :meth:`alive` after
    its task ended until a drain sent after the end came back with nothing left behind it: the
    worker's last words (final statuses, last checkpoint) always reach the manager before it looks
    for a reason.
    """

    def __init__(self, ref: Any, actor: Any, key: str, job: JobSpec, on_lost: Callable[[Any], None] | None = None) -> None:
        self.ref, self.actor, self.key = ref, actor, key
        self.on_lost = on_lost  # told when the channel actor died (the executor replaces it for later jobs)
        self.pid: int | None = None
        self.checkpoints = {m.run_id: Path(m.checkpoint_path) for m in job.members} or {job.run_id: Path(job.checkpoint_path)}
        self.out_dir = Path(job.out_dir) if job.out_dir else None
        self._task_done = False  # the task's result (or error) is in
        self._drained = False  # a drain sent after the task ended left nothing behind: nothing more will arrive
        self._pending: Any = None  # the drain call in flight
        self._pending_after_done = False
        self._closed = False  # the channel is gone (closed here, or its actor died)

    def receive(self, wait: float = 0.0, limit: int = 5000) -> list[WorkerMessage]:
        if self._closed or self._drained:
            return []
        ray = _ray()
        if self._pending is None:
            self._pending_after_done = self._poll_task()
            self._pending = self.actor.drain.remote(self.key, max(1, limit // FLUSH_MESSAGES))
        ready, _ = ray.wait([self._pending], timeout=wait)
        if not ready:
            return []
        pending, self._pending = self._pending, None
        try:
            blobs, more = ray.get(pending)
        except ray.exceptions.RayActorError as exc:  # the actor died (its node was lost)
            log.warning("the Ray channel of a job is gone: %s", exc)
            self._closed = True
            if self.on_lost is not None:
                self.on_lost(self.actor)
            return []
        if self._pending_after_done and not more:
            self._drained = True
        out: list[WorkerMessage] = []
        for blob in blobs:
            for msg in pickle.loads(blob):  # batches of this studio's own workers, through its own actor
                if isinstance(msg, FileMsg):
                    self._store(msg)
                elif isinstance(msg, CheckpointMsg):
                    out.append(replace(msg, path=str(self.checkpoints[msg.run_id])))
                else:
                    if isinstance(msg, StatusMsg) and msg.pid:
                        self.pid = msg.pid
                    out.append(msg)
        return out

    def _store(self, msg: FileMsg) -> None:
        if msg.name is None:
            _write_atomic(self.checkpoints[msg.run_id], msg.data)
        elif self.out_dir is not None:
            target = (self.out_dir / msg.name).resolve()
            if self.out_dir.resolve() in target.parents:  # a study's own file names only
                _write_atomic(target, msg.data)

    def _poll_task(self) -> bool:
        if not self._task_done:
            ready, _ = _ray().wait([self.ref], timeout=0)
            self._task_done = bool(ready)
        return self._task_done

    def alive(self) -> bool:
        done = self._poll_task()
        return not (done and (self._drained or self._closed))

    def request_stop(self) -> None:
        with contextlib.suppress(Exception):
            self.actor.stop.remote(self.key)

    def terminate(self) -> None:
        self.kill()

    def kill(self) -> None:
        if not self._poll_task():
            with contextlib.suppress(Exception):
                _ray().cancel(self.ref, force=True)

    def join(self, timeout: float) -> None:
        with contextlib.suppress(Exception):
            _ray().wait([self.ref], timeout=timeout)

    def exit_reason(self) -> str:
        ray = _ray()
        try:
            ray.get(self.ref, timeout=1.0)
        except ray.exceptions.TaskCancelledError:
            return "the Ray task was cancelled before it reported a result"
        except (ray.exceptions.WorkerCrashedError, ray.exceptions.NodeDiedError, ray.exceptions.OutOfMemoryError) as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            return f"the Ray worker died before finishing ({type(exc).__name__}: {first})"
        except Exception as exc:
            first = str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__
            return f"the Ray task failed without reporting a result ({type(exc).__name__}: {first})"
        return "the Ray task ended without reporting a result"

    def close(self) -> None:
        if not self._closed:
            with contextlib.suppress(Exception):
                self.actor.close.remote(self.key)  # a worker still running (a deleted run's) is told to stop
        self._closed = True


class RayExecutor:
    """Jobs as Ray tasks on ``settings.ray_address``, or on a local Ray instance the studio starts and stops."""

    name = "ray"

    def __init__(self, settings: Settings, target: JobTarget) -> None:
        self.settings, self.target = settings, target
        self._remote: Any = None
        self._remote_gpu: Any = None
        self._channel_cls: Any = None
        self._channels: list[Any] = []
        self._jobs = 0  # jobs started: a job's channel key is unique for the executor's life
        self._lock = threading.Lock()
        self._started_here = False
        self._gpus = 0.0

    def open(self) -> None:
        if is_loopback(self.settings.ray_address):
            # Ray swaps a loopback address (and node IP) for the machine's network address unless
            # clustering is off; a cluster on loopback (or the local instance started here, which
            # then listens on 127.0.0.1 only) is a single-node cluster, so it is switched off.
            if "ray" in sys.modules and os.environ.get(LOOPBACK_ENV) != "0":
                log.warning("Ray was imported before the executor opened: %s=0 may come too late", LOOPBACK_ENV)
            os.environ[LOOPBACK_ENV] = "0"
        self._configure_auth()  # before Ray is imported: it reads RAY_AUTH_* once
        ray = _ray()
        s = self.settings
        # ray.init replaces the process's SIGTERM handler with one that exits at once; the server's
        # own (uvicorn's graceful shutdown: running runs become interrupted) is put back after it
        sigterm = signal.getsignal(signal.SIGTERM) if threading.current_thread() is threading.main_thread() else None
        try:
            self._init(ray, s)
        finally:
            if sigterm is not None:
                signal.signal(signal.SIGTERM, sigterm)
        self._gpus = float(ray.cluster_resources().get("GPU", 0.0))
        # a CPU job's worker process trains the next jobs too (no process start per job; each job's
        # state is its task's own); a GPU job's process ends with it (CUDA binds a process to its device)
        self._remote = ray.remote(max_retries=0, max_calls=WORKER_CALLS)(_ray_job)
        self._remote_gpu = ray.remote(max_retries=0, max_calls=1)(_ray_gpu_job)
        self._channel_cls = ray.remote(num_cpus=0, max_restarts=0)(ChannelActor)
        t0 = time.monotonic()
        self._channels = [self._new_channel() for _ in range(math.ceil(s.max_workers / CHANNEL_JOBS))]
        warm = [ray.remote(num_cpus=1, max_retries=0)(_warm_worker).remote() for _ in range(self._warm_count(ray))]
        probes = [c.pid.remote() for c in self._channels] + warm
        ready, _ = ray.wait(probes, num_returns=len(probes), timeout=WARM_TIMEOUT)
        pids = {ray.get(r) for r in ready if r in warm}
        if len(ready) < len(probes):  # a busy cluster: the jobs start anyway, the first ones warm their processes
            late = len(probes) - len(ready)
            log.warning("Ray executor: %d of %d warm-up probes not back after %.0f s", late, len(probes), WARM_TIMEOUT)
        log.info(
            "Ray executor ready in %.1f s: %d channel actor(s), %d warm worker process(es)",
            time.monotonic() - t0,
            len(self._channels),
            len(pids),
        )

    def _warm_count(self, ray: Any) -> int:
        """Worker processes to warm at start-up: one per job that may run at once, at most one per CPU."""
        return max(0, min(self.settings.max_workers, int(ray.cluster_resources().get("CPU", 0))))

    def _new_channel(self) -> Any:
        """A channel actor, on this server's node where it is a Ray node (else where Ray puts it)."""
        from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

        here = _ray().get_runtime_context().get_node_id()
        return self._channel_cls.options(scheduling_strategy=NodeAffinitySchedulingStrategy(here, soft=True)).remote()

    def _channel_lost(self, actor: Any) -> None:
        """Replace a dead channel actor for the jobs started from now on."""
        with self._lock:
            for k, c in enumerate(self._channels):
                if c == actor:
                    log.warning("replacing a lost Ray channel actor")
                    self._channels[k] = self._new_channel()

    def _init(self, ray: Any, s: Settings) -> None:
        if s.ray_address:
            ray.init(address=s.ray_address, namespace=NAMESPACE, log_to_driver=False)
            log.info("connected to the Ray cluster at %s", s.ray_address)
        else:
            ray.init(
                namespace=NAMESPACE,
                num_cpus=s.ray_num_cpus,
                object_store_memory=s.ray_object_store_bytes,
                include_dashboard=False,
                log_to_driver=False,
            )
            self._started_here = True
            log.info("started a local Ray instance (%s CPUs)", ray.cluster_resources().get("CPU"))

    def _configure_auth(self) -> None:
        """Set Ray's token authentication explicitly for this process (and the Ray processes it starts)."""
        path = self.settings.ray_auth_token_path
        if path is None and not self.settings.ray_address:
            path = self.settings.data_dir / "ray_auth_token"  # a local instance's token: the studio's own
            if not path.is_file():
                path.parent.mkdir(parents=True, exist_ok=True)
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                with os.fdopen(fd, "w") as f:
                    f.write(secrets.token_hex(32))
        if path is not None:
            os.environ["RAY_AUTH_MODE"] = "token"
            os.environ["RAY_AUTH_TOKEN_PATH"] = str(Path(path).resolve())
            os.environ.pop("RAY_AUTH_TOKEN", None)
        # else: an existing cluster, its token from RAY_AUTH_TOKEN / RAY_AUTH_TOKEN_PATH / ~/.ray/auth_token (Ray's rules)

    def resources(self, job: JobSpec) -> dict[str, float]:
        """The Ray resources of ``job``: one CPU, and a GPU (fraction) when its device asks for CUDA."""
        device = str(job.spec.get("train", {}).get("device", "cpu")) if job.kind == RunKind.TRAINING else "cpu"
        wants_gpu = device.startswith("cuda") or (device == "auto" and self._gpus > 0)
        return {"num_cpus": 1.0, "num_gpus": self.settings.ray_gpus_per_run if wants_gpu else 0.0}

    def start(self, job: JobSpec) -> RayHandle:
        if self._remote is None:
            raise RuntimeError("the Ray executor is not open")
        starts = {m.run_id: m.resume_from for m in job.members} if job.members else {job.run_id: job.resume_from}
        resume = {rid: Path(p).read_bytes() for rid, p in starts.items() if p}
        # A Ray worker's process belongs to Ray (its address space holds Ray's own mappings), so the
        # local RLIMIT_AS cap is not applied there: Ray's memory monitor guards its nodes instead (a
        # task it kills fails its run with Ray's OutOfMemoryError, resumable like any dead worker).
        job = replace(job, memory_limit=None)
        with self._lock:
            self._jobs += 1
            key, actor = f"{job.run_id}.{self._jobs}", self._channels[self._jobs % len(self._channels)]
        resources = self.resources(job)
        remote = self._remote_gpu if resources["num_gpus"] else self._remote
        ref = remote.options(**resources, name=f"motornet-run-{job.run_id}").remote(self.target, job, actor, key, resume)
        return RayHandle(ref, actor, key, job, on_lost=self._channel_lost)

    def wait(self, handles: Sequence[WorkerHandle], timeout: float) -> None:
        if handles:
            time.sleep(min(timeout, 0.05))

    def close(self) -> None:
        ray = _ray()
        if ray.is_initialized():
            ray.shutdown()  # disconnects; a local instance started here stops with it
        self._remote = self._remote_gpu = self._channel_cls = None
        self._channels = []
