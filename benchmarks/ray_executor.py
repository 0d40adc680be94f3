"""The same 8-run experiment through the local executor and through a local Ray cluster.

Each round starts one ``motornet-studio serve`` per executor on 127.0.0.1 (fresh data dir; with
``--executor ray`` the studio starts its own local Ray instance of ``--cpus`` CPUs), launches an
experiment of 8 independent runs (8 learning rates, one seed: 8 jobs), and times it from the POST
to the experiment's ``finished`` (server and Ray start-up excluded). Rounds alternate local, ray,
local, ray, ... so that the machine's load drifts on both alike. Prints each round, the median
throughput [runs/min] of each executor and Ray's overhead in % of the local throughput.

    python benchmarks/ray_executor.py            # 3 rounds, 60 iterations per run
    python benchmarks/ray_executor.py --quick    # 1 round, 20 iterations per run
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[1]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _serve(executor: str, data_dir: Path, cpus: int) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    env = {**os.environ, "PYTHONPATH": str(REPO), "MOTORNET_STUDIO_EXECUTOR": executor, "MOTORNET_STUDIO_MAX_WORKERS": str(cpus)}
    env |= {"MOTORNET_STUDIO_WARMUP": "0", "MOTORNET_CORE_AUTO_COMPILE": "0", "MOTORNET_STUDIO_RAY_NUM_CPUS": str(cpus)}
    cmd = [sys.executable, "-m", "backend.cli", "serve", "--host", "127.0.0.1", "--port", str(port), "--data-dir", str(data_dir)]
    log = open(data_dir / "server.log", "ab")  # noqa: SIM115  (owned by the child)
    proc = subprocess.Popen([*cmd, "--log-level", "warning"], cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)
    log.close()
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/api/health", timeout=2).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            pass
        if proc.poll() is not None:
            break
        time.sleep(0.2)
    proc.kill()
    raise RuntimeError((data_dir / "server.log").read_text()[-3000:])


def _stop(proc: subprocess.Popen[bytes]) -> None:
    proc.send_signal(signal.SIGTERM)  # a local Ray instance stops with the server
    try:
        proc.wait(60)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)


def one_round(executor: str, iterations: int, cpus: int) -> float:
    """Seconds for the 8-run experiment through ``executor``."""
    with tempfile.TemporaryDirectory(prefix=f"bench-{executor}-") as tmp:
        proc, url = _serve(executor, Path(tmp), cpus)
        try:
            body = {
                "preset": "tiny_point_mass",
                "overrides": {
                    "train.n_iterations": iterations,
                    "train.eval_every": iterations,
                    "train.checkpoint_every": iterations,
                },
                "grid": {"train.lr": [0.001 * (k + 1) for k in range(8)]},
                "seeds": 1,
                "name": f"bench {executor}",
            }
            t0 = time.monotonic()
            r = httpx.post(f"{url}/api/experiments", json=body, timeout=30)
            r.raise_for_status()
            eid = r.json()["id"]
            while True:
                exp = httpx.get(f"{url}/api/experiments/{eid}", timeout=30).json()
                if exp["status"] in ("finished", "failed", "cancelled"):
                    break
                time.sleep(0.1)
            elapsed = time.monotonic() - t0
            if exp["status"] != "finished":
                raise RuntimeError(f"{executor}: experiment {exp['status']}")
            return elapsed
        finally:
            _stop(proc)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="1 round, 20 iterations per run")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--iterations", type=int, default=60)
    p.add_argument("--cpus", type=int, default=2, help="concurrent jobs (local workers = Ray CPUs)")
    a = p.parse_args()
    rounds, iterations = (1, 20) if a.quick else (a.rounds, a.iterations)
    times: dict[str, list[float]] = {"local": [], "ray": []}
    for k in range(rounds):
        for executor in ("local", "ray") if k % 2 == 0 else ("ray", "local"):
            t = one_round(executor, iterations, a.cpus)
            times[executor].append(t)
            print(f"round {k + 1} {executor:5s}: 8 runs x {iterations} iterations in {t:6.1f} s ({8 * 60 / t:5.1f} runs/min)")
    thr = {e: 8 * 60 / statistics.median(ts) for e, ts in times.items()}
    print(f"local executor: {thr['local']:.1f} runs/min (median of {rounds})")
    print(f"Ray executor:   {thr['ray']:.1f} runs/min (median of {rounds})")
    print(f"Ray's overhead: {100 * (1 - thr['ray'] / thr['local']):.1f}% of the local throughput")


if __name__ == "__main__":
    main()
