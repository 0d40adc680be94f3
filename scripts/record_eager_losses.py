"""Record the eager loss histories of the loop before the functional rewrite (commit 88941a2) on this machine.

    git worktree add /tmp/old88 88941a2
    .venv/bin/python scripts/record_eager_losses.py --tree /tmp/old88

Float32 training is exact only for one machine type: PyTorch's CPU kernels (vectorised with AVX2 or
AVX-512, BLAS) round differently on different CPUs, so the loss of the same seeded run differs in the
last bits between machine types. ``tests/core/test_pure_transition.py`` requires today's loop to match
*one* of the recorded sets bit for bit. This script runs the old tree (not today's code) in a fresh
process on this machine and adds its results to ``tests/core/fixtures/eager_losses_88941a2.json``
under this machine's description, so the test holds here too. The cases (a preset and the full
updates of its small run) come from the fixture, which the test reads too.
"""

from __future__ import annotations

import argparse
import json
import logging
import platform
import subprocess
import sys
from pathlib import Path
from typing import Any

FIXTURE = Path(__file__).resolve().parents[1] / "tests" / "core" / "fixtures" / "eager_losses_88941a2.json"
log = logging.getLogger("record_eager_losses")

# runs inside the old tree: the test's calls, on the fixture's cases (preset and full updates)
_CHILD = r"""
import json, sys
import torch
torch.set_num_threads(1)
from motornet_core.run_presets import run_preset
from motornet_core.training import Trainer
cases = json.loads(sys.stdin.read())
out = {}
for name, case in cases.items():
    spec = run_preset(case["preset"]).with_updates(case["updates"])
    trainer = Trainer(spec)
    trainer.train()
    snap = trainer.evaluate()
    out[name] = {"history": trainer.history, "mean_endpoint_error": snap["mean_endpoint_error"], "hand": snap["hand"][0][-1]}
print(json.dumps(out))
"""


def machine() -> str:
    """This machine type as the numerics see it: CPU model and PyTorch's CPU capability."""
    import torch

    model = platform.processor() or "unknown CPU"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return f"{model}, {torch.backends.cpu.get_cpu_capability()}, torch {torch.__version__}"


def record(tree: Path) -> dict[str, Any]:
    """Run the cases in ``tree`` (a checkout of the old commit) and return their results by case."""
    fixture = json.loads(FIXTURE.read_text())
    proc = subprocess.run(
        [sys.executable, "-c", _CHILD],
        input=json.dumps(fixture["cases"]),
        capture_output=True,
        text=True,
        cwd=tree,
        env={"PYTHONPATH": str(tree), "PATH": "/usr/bin:/bin"},
        check=True,
    )
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--tree", type=Path, required=True, help="a checkout of commit 88941a2")
    args = ap.parse_args()
    results = record(args.tree.resolve())
    fixture = json.loads(FIXTURE.read_text())
    here = machine()
    if any(r["results"] == results for r in fixture["recorded"]):
        log.info("these results are already recorded (machine: %s)", here)
        return
    fixture["recorded"].append({"machine": here, "results": results})
    FIXTURE.write_text(json.dumps(fixture, indent=1) + "\n")
    log.info("recorded a set for %s (%d sets now)", here, len(fixture["recorded"]))


if __name__ == "__main__":
    main()
