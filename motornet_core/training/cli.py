"""``motornet-studio train``: train a run preset or a RunSpec file and write its results to a folder.

Writes ``DIR/spec.json``, ``DIR/metrics.jsonl`` (one JSON object per iteration: ``step``, ``loss``,
each ``loss/<term>``, ``lr``, ``grad_norm``, ``seconds`` since this invocation started), ``DIR/snapshots/step_<N>.json`` and
``DIR/checkpoint.pt``. With an existing checkpoint in DIR and ``--resume`` it continues that run.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from pathlib import Path
from typing import Any

import torch
from tqdm import tqdm

from motornet_core.errors import MotornetError, SpecError
from motornet_core.specs.run import RunSpec
from motornet_core.training.loop import RESUME_FIELDS, Trainer
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


class FileSink(NullSink):
    """Writes metrics, snapshots and log lines under a run folder and drives a progress bar."""

    def __init__(self, out: Path, bar: tqdm) -> None:
        self.out = out
        self.bar = bar
        (out / "snapshots").mkdir(parents=True, exist_ok=True)
        self._metrics = open(out / "metrics.jsonl", "a", encoding="utf-8")  # noqa: SIM115
        self._t0 = time.perf_counter()

    def on_metric(self, step: int, values: dict[str, float]) -> None:
        """Append one JSON line and advance the bar."""
        row = {"step": step, **values, "seconds": round(time.perf_counter() - self._t0, 3)}
        self._metrics.write(json.dumps(row) + "\n")
        self._metrics.flush()
        self.bar.update(1)
        self.bar.set_postfix(loss=f"{values['loss']:.4f}")

    def on_snapshot(self, step: int, snapshot: dict[str, Any]) -> None:
        """Write the snapshot as JSON."""
        (self.out / "snapshots" / f"step_{step:07d}.json").write_text(json.dumps(snapshot), encoding="utf-8")
        self.bar.write(f"step {step}: mean endpoint error {snapshot['mean_endpoint_error'] * 100:.2f} cm")

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
    try:
        if args.resume:
            updates = parse_sets(args.sets)
            if args.iterations is not None:  # e.g. train further: --resume --iterations 2000
                updates["train.n_iterations"] = args.iterations
            trainer = Trainer.from_checkpoint(out / "checkpoint.pt", device=args.device, updates=updates)
        else:
            trainer = Trainer(_load_spec(args), device=args.device)
    except (MotornetError, OSError) as exc:
        sys.stderr.write(f"error: {exc}\n")
        return 2
    out.mkdir(parents=True, exist_ok=True)
    (out / "spec.json").write_text(trainer.spec.model_dump_json(indent=2), encoding="utf-8")
    total = trainer.spec.train.n_iterations
    with tqdm(total=total, initial=trainer.step, disable=args.quiet, desc=trainer.spec.name, file=sys.stderr) as bar:
        sink = FileSink(out, bar)
        try:
            summary = trainer.train(sink, checkpoint_path=out / "checkpoint.pt")
        except MotornetError as exc:
            sys.stderr.write(f"error: {exc}\n")
            return 1
        finally:
            sink.close()
    (out / "summary.json").write_text(json.dumps(summary, indent=2), encoding="utf-8")
    sys.stdout.write(json.dumps(summary) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
