"""Where a job's time goes through an executor: the phases of 8 tiny jobs, 2 at a time.

Drives an executor the way the manager does (``start``, then ``receive`` / ``alive`` every
``wait(0.1)``) with the real worker entry (``run_job``) wrapped to stamp, in the worker, when the
task body began, when torch was imported and when the trainer returned. Prints, per executor, the
median of each phase [s] over the jobs:

- ``start``: ``executor.start`` itself (task submission; no actor or process is created per job),
- ``to_body``: from ``start`` returning to the task body running (a worker process's start-up),
- ``import``: importing torch and the trainer in the worker,
- ``train``: the trainer (what the job is for),
- ``to_first``: from ``start`` to the first message the driver received,
- ``to_end``: from the trainer returning to the handle no longer ``alive`` (the last drains),
- ``total``: from ``start`` to no longer ``alive``,

and the wall time of the 8 jobs.

    python benchmarks/ray_job_phases.py --executor ray --iterations 80
    python benchmarks/ray_job_phases.py --executor local [--cold]   # the local executor with(out) its warm worker

For the local executor, ``to_body`` includes the worker's imports when it starts cold (``--cold``: a
fresh process per job, as before the warm worker); with the warm worker (the default) a job's process
was started ahead and its imports are done.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from backend.app.core.config import Settings
from backend.app.workers.executors import make_executor
from backend.app.workers.protocol import GroupMember, JobSpec, LogMsg


def stamped_job(job: JobSpec, queue: Any, stop: Any) -> None:
    """``run_job`` with the worker's own timestamps sent first and last (as log messages)."""
    t_body = time.time()
    import torch  # noqa: F401

    from backend.app.workers.job import run_job
    from motornet_core.training import Trainer  # noqa: F401

    t_import = time.time()
    queue.put(LogMsg(job.run_id, "info", f"phase body={t_body} import={t_import}", t_import))
    run_job(job, queue, stop)
    queue.put(LogMsg(job.run_id, "info", f"phase trained={time.time()}", time.time()))


def make_job(run_id: int, iterations: int, root: Path) -> JobSpec:
    from motornet_core.run_presets import tiny_point_mass

    every = {"train.n_iterations": iterations, "train.eval_every": iterations, "train.checkpoint_every": iterations}
    spec = tiny_point_mass().with_updates({**every, "train.lr": 0.001 * run_id})
    d = root / str(run_id)
    d.mkdir(parents=True)
    member = GroupMember(run_id, spec.model_dump(mode="json"), str(d / "checkpoint.pt"))
    return JobSpec(run_id, member.spec, member.checkpoint_path, members=(member,))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--executor", choices=("local", "ray"), default="ray")
    p.add_argument("--iterations", type=int, default=80)
    p.add_argument("--jobs", type=int, default=8)
    p.add_argument("--slots", type=int, default=2)
    p.add_argument("--cold", action="store_true", help="local executor without its warm worker")
    p.add_argument("--settle", type=float, default=0.0, help="seconds between open and the first job (an idle studio)")
    a = p.parse_args()
    with tempfile.TemporaryDirectory(prefix="phases-") as tmp:
        root = Path(tmp)
        settings = Settings(
            data_dir=root / "data", executor=a.executor, ray_num_cpus=a.slots, warmup=False, warm_worker=not a.cold
        )
        executor = make_executor(settings, stamped_job)
        t_open = time.time()
        executor.open()
        print(f"{a.executor}{' (cold)' if a.cold else ''}: open {time.time() - t_open:.2f} s")
        time.sleep(a.settle)
        queue = [make_job(k + 1, a.iterations, root / "runs") for k in range(a.jobs)]
        active: dict[int, dict[str, Any]] = {}
        done: list[dict[str, float]] = []
        t0 = time.time()
        while queue or active:
            while queue and len(active) < a.slots:
                job = queue.pop(0)
                t = time.time()
                handle = executor.start(job)
                active[job.run_id] = {"h": handle, "start": t, "started": time.time()}
            executor.wait([r["h"] for r in active.values()], 0.1)
            for rid, r in list(active.items()):
                for msg in r["h"].receive(0.0):
                    r.setdefault("first", time.time())
                    if isinstance(msg, LogMsg) and msg.message.startswith("phase "):
                        for kv in msg.message.split()[1:]:
                            k, v = kv.split("=")
                            r[k] = float(v)
                if not r["h"].alive():
                    r["h"].receive(0.0)
                    r["h"].close()
                    r["gone"] = time.time()
                    done.append(r)
                    del active[rid]
        wall = time.time() - t0
        executor.close()
    phases = {
        "start": lambda r: r["started"] - r["start"],
        "to_body": lambda r: r["body"] - r["started"],
        "import": lambda r: r["import"] - r["body"],
        "train": lambda r: r["trained"] - r["import"],
        "to_first": lambda r: r["first"] - r["start"],
        "to_end": lambda r: r["gone"] - r["trained"],
        "total": lambda r: r["gone"] - r["start"],
    }
    print("  ".join(f"{name} {statistics.median(f(r) for r in done):.2f}" for name, f in phases.items()))
    print(f"{a.jobs} jobs x {a.iterations} iterations, {a.slots} at a time: {wall:.1f} s ({a.jobs * 60 / wall:.1f} jobs/min)")


if __name__ == "__main__":
    main()
