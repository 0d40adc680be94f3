"""What the studio's live streaming costs a training run (issue 7: <= 5 % of throughput).

Trains the tutorial set-up (point mass 24, random reach, GRU 32, batch 32; the preset's
``eval_every`` of 50) two ways, alternating, for ``--seconds`` each:

* **alone**: a :class:`~motornet_core.training.Trainer` in this process, ``train_step`` in a loop:
  no sink, no evaluation snapshots, no checkpoints — the bare training throughput;
* **studio**: the same run launched over REST on a live ``motornet-studio serve`` (one worker),
  with ``--viewers`` websocket viewers attached: every metric row and every evaluation snapshot
  (a deterministic evaluation rollout each 50 iterations, turned into JSON) goes from the worker
  through the manager's recorder (SQLite) and hub to each viewer. Its throughput comes from the
  worker's metric timestamps.

Prints both rates and the cost ``1 - studio / alone`` (alone: the mean of the runs before and
after), on one torch thread as in the workers::

    nice -n 10 .venv/bin/python benchmarks/streaming.py --seconds 30 --viewers 1 [--compile]

The server process and the viewers share the machine's cores with the worker: on a 2-core machine
their CPU use is part of the cost measured here.
"""

from __future__ import annotations

import argparse
import asyncio
import platform
import sys
import tempfile
import time
from pathlib import Path

import httpx
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from load import LoadResult, _say, _viewer, studio, throughput, wait_until_training

from motornet_core import prefer_scalar_cpu_kernels
from motornet_core.run_presets import run_preset
from motornet_core.training import Trainer

PRESET = "tutorial_point_mass"


def _overrides(compile: bool) -> dict:
    return {"train.n_iterations": 100_000, "train.compile": compile}


def alone(seconds: float, compile: bool = False) -> float:
    """Iterations/s of a bare in-process Trainer over ``seconds`` (after 2 warm-up iterations)."""
    trainer = Trainer(run_preset(PRESET).with_updates(_overrides(compile)))
    for _ in range(2):
        trainer.train_step()
    n, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        trainer.train_step()
        n += 1
    return n / (time.perf_counter() - t0)


async def _watch(ws_url: str, run_id: int, viewers: int, seconds: float) -> LoadResult:
    result = LoadResult()
    stop = asyncio.Event()
    tasks = [asyncio.create_task(_viewer(ws_url, run_id, stop, result, i)) for i in range(viewers)]
    await asyncio.sleep(seconds)
    stop.set()
    await asyncio.wait_for(asyncio.gather(*tasks), timeout=15)
    return result


def in_studio(seconds: float, viewers: int, compile: bool = False) -> tuple[float, LoadResult]:
    """Iterations/s of the same run in a live studio with ``viewers`` websocket viewers, and what they saw."""
    with tempfile.TemporaryDirectory() as tmp, studio(Path(tmp)) as url:
        body = {"preset": PRESET, "name": "streaming", "overrides": _overrides(compile)}
        run_id = httpx.post(f"{url}/api/runs", json=body, timeout=30).json()["id"]
        wait_until_training(url, run_id)
        t0 = time.time()
        seen = asyncio.run(_watch(url.replace("http://", "ws://"), run_id, viewers, seconds))
        t1 = time.time()
        time.sleep(1.0)  # one metric flush
        rate = throughput(url, run_id, t0, t1)
        httpx.post(f"{url}/api/runs/{run_id}/cancel", timeout=10)
    return rate, seen


def main(argv: list[str] | None = None) -> int:
    """Alone, studio, alone, studio, alone; prints the rates and the cost. Exit 1 on a viewer error."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--seconds", type=float, default=30.0, help="length of each phase")
    p.add_argument("--viewers", type=int, default=1)
    p.add_argument("--rounds", type=int, default=2, help="studio phases (each between two alone phases)")
    p.add_argument("--compile", action="store_true", help="both with train.compile (the alone phase warms the cache)")
    args = p.parse_args(argv)
    torch.set_num_threads(1)
    if args.compile:  # like the studio's training worker, so that both phases compile the same kernels
        prefer_scalar_cpu_kernels()
    mode = "compiled" if args.compile else "eager"
    lines = [f"# {platform.machine()}, torch {torch.__version__}, 1 torch thread, {PRESET} ({mode}), {args.seconds:g} s phases"]
    alone_rates, studio_rates, errors = [alone(args.seconds, args.compile)], [], 0
    for _ in range(args.rounds):
        _say(f"alone: {alone_rates[-1]:.2f} it/s; now the studio with {args.viewers} viewer(s)")
        rate, seen = in_studio(args.seconds, args.viewers, args.compile)
        studio_rates.append(rate)
        errors += seen.viewer_errors
        lines.append(f"studio: {rate:.2f} it/s, messages per viewer {seen.viewer_messages}, viewer errors {seen.viewer_errors}")
        alone_rates.append(alone(args.seconds, args.compile))
    base = sum(alone_rates) / len(alone_rates)
    live = sum(studio_rates) / len(studio_rates)
    lines.append("alone: " + ", ".join(f"{r:.2f}" for r in alone_rates) + f" it/s (mean {base:.2f})")
    lines.append(f"studio: mean {live:.2f} it/s; streaming cost {100 * (1 - live / base):.1f} % of throughput")
    sys.stdout.write("\n".join(lines) + "\n")
    return 1 if errors else 0


if __name__ == "__main__":
    raise SystemExit(main())
