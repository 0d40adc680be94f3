"""``motornet-studio train``: train a run preset or a RunSpec file and write its results to a folder.

Writes ``DIR/spec.json``, ``DIR/metrics.jsonl`` (one JSON object per iteration: ``step``, ``loss``,
each ``loss/<term>`` of a non-zero weight, ``lr``, ``grad_norm``, ``seconds`` since this invocation
started), ``DIR/snapshots/step_<N>.json``, ``DIR/checkpoint.pt`` and ``DIR/summary.json``.

* A fresh run (``--preset`` or ``--spec``) refuses a DIR that already holds a run's files unless
  ``--force`` is given, which deletes those files (and only those) first.
* ``--resume`` continues DIR's checkpoint. Rows and snapshots after the checkpoint's step (written
  before a kill) are dropped first, so every step appears exactly once in ``metrics.jsonl``.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import sys
import time
from pathlib import Path
from typing import Any

import torch
from tqdm import tqdm

from motornet_core.errors import MotornetError, SpecError
from motornet_core.open_loop import prefer_scalar_cpu_kernels
from motornet_core.specs.run import RunSpec
from motornet_core.training.loop import RESUME_FIELDS, Trainer
from motornet_core.training.records import Snapshot, dumps
from motornet_core.training.sinks import NullSink

log = logging.getLogger(__name__)


def parse_value(text: str) -> Any:
    """A ``--set`` value: JSON when it parses (numbers, true, null, lists), else the string itself."""
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def parse_sets(items: list[str]) -> dict[str, Any]:
    """``["train.lr=0.01", ...]`` -> ``{"train.lr": 0.01}``; SpecError for an item without '='."""
    updates: dict[str, Any] = {}
    for item in items:
        path, sep, value = item.partition("=")
        if not sep or not path:
            raise SpecError([{"loc": "--set", "msg": "expected PATH=VALUE", "input": item}])
        updates[path.strip()] = parse_value(value)
    return updates


RUN_FILES = ("spec.json", "metrics.jsonl", "checkpoint.pt", "summary.json")
_SNAPSHOT = re.compile(r"^step_(\d+)\.json$")


def run_files(out: Path) -> list[Path]:
    """The files of a run that ``train`` wrote in ``out`` (its own names only; other files are not listed)."""
    files = [out / name for name in RUN_FILES if (out / name).is_file()]
    snapshots = out / "snapshots"
    if snapshots.is_dir():
        files += sorted(p for p in snapshots.iterdir() if p.is_file() and _SNAPSHOT.match(p.name))
    return files


def truncate_run(out: Path, step: int) -> None:
    """Drop what a run in ``out`` wrote after ``step``: later ``metrics.jsonl`` rows and snapshot files.

    A row that does not parse (a write cut short by a kill) is dropped too. The metrics file is
    replaced atomically.
    """
    metrics = out / "metrics.jsonl"
    if metrics.is_file():
        kept, dropped = [], 0
        for line in metrics.read_text(encoding="utf-8").splitlines():
            try:
                row_step = int(json.loads(line)["step"])
            except (ValueError, KeyError, TypeError):
                row_step = None
            if row_step is not None and row_step <= step:
                kept.append(line + "\n")
            else:
                dropped += 1
        if dropped:
            log.info("dropping %d metric rows after the checkpoint's step %d", dropped, step)
            tmp = metrics.with_name(".metrics.jsonl.tmp")
            tmp.write_text("".join(kept), encoding="utf-8")
            os.replace(tmp, metrics)
    for path in run_files(out):
        match = _SNAPSHOT.match(path.name)
        if match and path.parent.name == "snapshots" and int(match.group(1)) > step:
            path.unlink()


class FileSink(NullSink):
    """Writes metrics, snapshots and log lines under a run folder and drives a progress bar.

    Args:
        out: the run folder.
        bar: the progress bar (None: none).
        resume_step: None for a fresh run (``metrics.jsonl`` is started empty); the step of the
            checkpoint a resumed run continues (rows and snapshots after it are dropped, then new
            rows are appended).
    """

    def __init__(self, out: Path, bar: tqdm | None, resume_step: int | None = None) -> None:
        self.out = out
        self.bar = bar
        (out / "snapshots").mkdir(parents=True, exist_ok=True)
        if resume_step is not None:
            truncate_run(out, resume_step)
        mode = "w" if resume_step is None else "a"
        self._metrics = open(out / "metrics.jsonl", mode, encoding="utf-8")  # noqa: SIM115
        self._t0 = time.perf_counter()

    def on_metric(self, step: int, values: dict[str, float]) -> None:
        """Append one JSON line and advance the bar."""
        row = {"step": step, **values, "seconds": round(time.perf_counter() - self._t0, 3)}
        self._metrics.write(json.dumps(row) + "\n")
        self._metrics.flush()
        if self.bar is not None:
            self.bar.update(1)
            self.bar.set_postfix(loss=f"{values['loss']:.4f}")

    def on_snapshot(self, step: int, snapshot: Snapshot) -> None:
        """Write the snapshot as JSON."""
        (self.out / "snapshots" / f"step_{step:07d}.json").write_text(dumps(snapshot), encoding="utf-8")
        if self.bar is not None:
            self.bar.write(f"step {step}: mean endpoint error {snapshot.mean_endpoint_error * 100:.2f} cm")

    def on_log(self, level: str, message: str) -> None:
        """Forward to :mod:`logging`."""
        log.log(logging.getLevelName(level.upper()), message)

    def close(self) -> None:
        """Close the metrics file."""
        self._metrics.close()


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``motornet-studio train``."""
    p = argparse.ArgumentParser(prog="motornet-studio train", description="Train a policy for a run spec.")
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--preset", help="a run preset name (see `motornet-studio presets`)")
    src.add_argument("--spec", help="a RunSpec JSON file")
    src.add_argument("--resume", action="store_true", help="continue from OUT/checkpoint.pt (--iterations extends the run)")
    p.add_argument(
        "--set",
        dest="sets",
        action="append",
        default=[],
        metavar="PATH=VALUE",
        help="override a spec field; with --resume only train.{" + ", ".join(sorted(RESUME_FIELDS)) + "}",
    )
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument("--iterations", type=int, help="shortcut for --set train.n_iterations=N")
    p.add_argument("--device", choices=["cpu", "cuda", "auto"], help="override train.device")
    p.add_argument("--threads", type=int, default=1, help="CPU threads for torch (default 1: fastest for small recurrent nets)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument(
        "--force",
        action="store_true",
        help="a fresh run into an OUT that holds a run: delete that run's files first "
        "(spec.json, metrics.jsonl, checkpoint.pt, summary.json, snapshots/step_*.json); without it, such an OUT is refused",
    )
    return p


def _load_spec(args: argparse.Namespace) -> RunSpec:
    from motornet_core.run_presets import run_preset

    if args.preset:
        spec = run_preset(args.preset)
    else:
        spec = RunSpec.parse(Path(args.spec).read_text(encoding="utf-8"))
    updates = parse_sets(args.sets)
    if args.iterations is not None:
        updates["train.n_iterations"] = args.iterations
    return spec.with_updates(updates) if updates else spec


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns 0 on success, 1 if training diverged, 2 for bad arguments or specs."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    out = Path(args.out)
    if args.force and args.resume:
        sys.stderr.write("error: --force starts a fresh run; it cannot be combined with --resume\n")
        return 2
    try:
        if args.resume:
            updates = parse_sets(args.sets)
            if args.iterations is not None:  # e.g. train further: --resume --iterations 2000
                updates["train.n_iterations"] = args.iterations
            trainer = Trainer.from_checkpoint(out / "checkpoint.pt", device=args.device, updates=updates)
        else:
            trainer = Trainer(_load_spec(args), device=args.device)
            existing = run_files(out)
            if existing and not args.force:
                names = ", ".join(str(p.relative_to(out)) for p in existing[:5]) + (", ..." if len(existing) > 5 else "")
                sys.stderr.write(
                    f"error: {out} already holds a run ({names}): continue it with --resume, "
                    "or start afresh with --force (deletes those files)\n"
                )
                return 2
            for path in existing:
                path.unlink()
    except (MotornetError, OSError) as exc:
        sys.stderr.write(f"error: {exc}\n")
        return 2
    out.mkdir(parents=True, exist_ok=True)
    (out / "spec.json").write_text(trainer.spec.model_dump_json(indent=2), encoding="utf-8")
    if trainer.spec.train.compile is not False:  # this process compiles only training chunks ("auto" may)
        prefer_scalar_cpu_kernels()
    total = trainer.spec.train.n_iterations
    with tqdm(total=total, initial=trainer.step, disable=args.quiet, desc=trainer.spec.name, file=sys.stderr) as bar:
        sink = FileSink(out, bar, resume_step=trainer.step if args.resume else None)
        try:
            summary = trainer.train(sink, checkpoint_path=out / "checkpoint.pt")
        except MotornetError as exc:
            sys.stderr.write(f"error: {exc}\n")
            return 1
        finally:
            sink.close()
    (out / "summary.json").write_text(dumps(summary, indent=2), encoding="utf-8")
    sys.stdout.write(dumps(summary) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
