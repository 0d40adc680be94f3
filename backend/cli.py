"""The ``motornet-studio`` console command.

Each subcommand lives with the code it drives and is imported lazily, so ``replay`` does not pay
for the web stack. A subcommand module exposes ``main(argv: list[str] | None) -> int``.
"""

from __future__ import annotations

import importlib
import sys

SUBCOMMANDS: dict[str, tuple[str, str]] = {
    "serve": ("backend.app.main", "start the studio server (--host, --port, --data-dir)"),
    "replay": ("motornet_core.replay", "replay a MotorNet reference scenario: replay SCENARIO.json -o OUT.json"),
    "train": ("motornet_core.training.cli", "train a run: train (--preset NAME | --spec RUN.json) --out DIR"),
    "presets": ("motornet_core.presets_cli", "list the effector, task, run and study presets"),
    "study": ("motornet_core.studies.cli", "run a study: study NAME --out DIR"),
    "experiment": ("motornet_core.experiments.cli", "train an experiment (conditions x seeds): experiment SPEC.json --out DIR"),
}


def version() -> str:
    """The package version: ``motornet_core.__version__`` (pyproject.toml reads it from there too)."""
    import motornet_core

    return motornet_core.__version__


def _usage() -> str:
    lines = ["usage: motornet-studio [--version] <command> [options]", "", "commands:"]
    lines += [f"  {name:8s} {text}" for name, (_, text) in SUBCOMMANDS.items()]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Dispatch ``motornet-studio <command> ...``."""
    args = sys.argv[1:] if argv is None else argv
    if not args or args[0] in ("-h", "--help"):
        sys.stdout.write(_usage() + "\n")
        return 0
    if args[0] == "--version":
        sys.stdout.write(f"motornet-studio {version()}\n")
        return 0
    name, rest = args[0], args[1:]
    if name not in SUBCOMMANDS:
        sys.stderr.write(f"unknown command {name!r}\n{_usage()}\n")
        return 2
    module_name = SUBCOMMANDS[name][0]
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name and module_name.startswith(exc.name):
            sys.stderr.write(f"command {name!r} is not available in this version\n")
            return 2
        raise
    return int(module.main(rest) or 0)


if __name__ == "__main__":
    sys.exit(main())
