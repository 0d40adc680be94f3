"""Schemathesis against the studio's own ``/openapi.json``: in process (ASGI, no network at all) or,
with ``--live``, against a real ``motornet-studio serve`` on 127.0.0.1 (real training workers).

Every operation of the API gets generated requests, valid (positive) and invalid (negative), and
the answers are checked: no 5xx, every 4xx carries a useful message (a JSON body with a
non-empty ``detail`` or ``message``), and Schemathesis's own checks pass on every answer (a
documented status code, content type, headers and a body that matches the documented schema).
Prints the request count, the status histogram and each problem found. Bounded by ``--examples``
per operation and mode, and by ``--seconds``::

    nice -n 10 .venv/bin/python benchmarks/api_fuzz.py --examples 40 --seconds 300
    nice -n 10 .venv/bin/python benchmarks/api_fuzz.py --live --examples 40 --seconds 300

With ``--st``, Schemathesis's own command runs against a live server with every check it has
(``st run --checks all``: examples, coverage, fuzzing and stateful phases), the one substitution
being :mod:`st_hooks`'s ``positive_data_acceptance_but_rules`` for ``positive_data_acceptance``
(rules between fields that no JSON Schema states); its report is printed and its exit status
returned::

    nice -n 10 .venv/bin/python benchmarks/api_fuzz.py --st --seconds 300

The pytest versions (``tests/backend/test_api_fuzz.py``, ``tests/backend/test_st_live.py``) run
smaller counts.
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode

REPO = Path(__file__).resolve().parents[1]


@dataclass
class FuzzReport:
    """What the fuzzing saw."""

    requests: int = 0
    statuses: Counter = field(default_factory=Counter)
    per_operation: Counter = field(default_factory=Counter)
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def lines(self) -> list[str]:
        """A printable summary."""
        hist = ", ".join(f"{code}: {n}" for code, n in sorted(self.statuses.items()))
        out = [f"requests: {self.requests} in {self.seconds:.1f} s over {len(self.per_operation)} operations"]
        out.append(f"status histogram: {hist}")
        out += [f"  {op}: {n}" for op, n in sorted(self.per_operation.items())]
        out.append(f"problems: {len(self.problems)}")
        out += [f"  {p}" for p in self.problems[:50]]
        out += [f"note: {n}" for n in self.notes]
        return out


def problem_of(status: int, body: Any) -> str | None:
    """Why an answer is unacceptable, or None: 5xx, or a 4xx without a message."""
    if status >= 500:
        return f"server error {status}: {str(body)[:300]}"
    if 400 <= status < 500 and (not isinstance(body, dict) or not (body.get("detail") or body.get("message"))):
        return f"{status} without a detail/message: {str(body)[:300]}"
    return None


# Schemathesis's own checks of every answer against the documented schema: status codes (ST103),
# content types, headers and bodies (ST108).
SCHEMA_CHECKS = (
    schemathesis.checks.not_a_server_error,
    schemathesis.checks.status_code_conformance,
    schemathesis.checks.content_type_conformance,
    schemathesis.checks.response_headers_conformance,
    schemathesis.checks.response_schema_conformance,
)


def schema_failures(case: Any, response: Any) -> list[str]:
    """The failures of :data:`SCHEMA_CHECKS` on one answer (code, title and the first line)."""
    try:
        case.validate_response(response, checks=list(SCHEMA_CHECKS))
    except (Exception, BaseExceptionGroup) as exc:  # schemathesis raises a group of failures
        failures = getattr(exc, "exceptions", None) or [exc]
        out = []
        for f in failures:
            code, title = getattr(f, "code", type(f).__name__), getattr(f, "title", "")
            text = str(getattr(f, "message", "") or f).strip().splitlines()
            out.append(f"{code} {title}: {text[0][:200] if text else ''}")
        return out
    return []


def _json(response: Any) -> Any:
    try:
        return response.json()
    except Exception:
        return response.text if hasattr(response, "text") else None


def fuzz_app(
    app: FastAPI,
    examples: int,
    seconds: float,
    skip: Callable[[str], bool] = lambda label: False,
    existing: dict[str, Any] | None = None,
) -> FuzzReport:
    """Generate and send requests to every operation of ``app`` (positive and negative modes).

    Args:
        app: the FastAPI app (its lifespan should already be running, e.g. inside a TestClient).
        examples: generated requests per operation and mode (at most).
        seconds: overall time budget; operations left when it runs out get no more requests.
        skip: labels (``"POST /api/runs"``) to leave out.
        existing: path parameters naming stored objects (``{"run_id": 1, "item_id": 1}``); operations
            with such a parameter get a third, positive pass with it fixed, so that they reach past 404.
    """
    return fuzz_schema(schemathesis.openapi.from_asgi("/openapi.json", app), examples, seconds, skip, existing)


def fuzz_schema(
    schema: Any,
    examples: int,
    seconds: float,
    skip: Callable[[str], bool] = lambda label: False,
    existing: dict[str, Any] | None = None,
) -> FuzzReport:
    """:func:`fuzz_app` for any loaded schemathesis schema (``from_asgi`` or ``from_url``)."""
    report = FuzzReport()
    t0 = time.monotonic()
    deadline = t0 + seconds
    for result in schema.get_all_operations():
        op = result.ok()
        label = f"{op.method.upper()} {op.path}"
        if skip(label):
            continue
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            if time.monotonic() > deadline:
                break
            _fuzz_operation(op, mode, label, examples, deadline, report)
        names = {p.name for p in op.path_parameters}  # the operation's own path parameters
        fixed = {k: v for k, v in (existing or {}).items() if k in names}
        if fixed and time.monotonic() < deadline:
            _fuzz_operation(op, GenerationMode.POSITIVE, label, examples, deadline, report, fixed)
    report.seconds = time.monotonic() - t0
    return report


def _fuzz_operation(
    op: Any,
    mode: GenerationMode,
    label: str,
    examples: int,
    deadline: float,
    report: FuzzReport,
    path_parameters: dict[str, Any] | None = None,
) -> None:
    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=op.as_strategy(generation_mode=mode, path_parameters=path_parameters))
    def send(case: Any) -> None:
        if time.monotonic() > deadline:
            return
        response = case.call()
        report.requests += 1
        report.statuses[response.status_code] += 1
        report.per_operation[label] += 1
        where = f"{label} [{mode.value}] {case.path_parameters or ''} {case.query or ''}"
        problem = problem_of(response.status_code, _json(response))
        if problem:
            report.problems.append(f"{where}: {problem}")
        for failure in schema_failures(case, response):
            report.problems.append(f"{where}: {failure}")

    try:
        send()
    except Unsatisfiable:  # nothing invalid to generate (no parameters, no body): not a server problem
        report.notes.append(f"{label} [{mode.value}]: nothing to generate")


def seed(client: Any) -> dict[str, Any]:
    """Store a run, an effector and a task; returns their ids as path parameters."""
    run = client.post("/api/runs", json={"preset": "tiny_point_mass", "overrides": {"train.n_iterations": 5}}).json()
    presets = client.get("/api/presets").json()
    name, spec = next(iter(presets["effectors"].items()))
    eff = client.post("/api/effectors", json={"name": name, "spec": spec}).json()
    name, spec = next(iter(presets["tasks"].items()))
    client.post("/api/tasks", json={"name": name, "spec": spec})
    return {"run_id": run["id"], "item_id": eff["id"]}


def main(argv: list[str] | None = None) -> int:
    """Fuzz a fresh studio on a temporary data directory; exit status 1 when problems were found."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--examples", type=int, default=40, help="requests per operation and mode")
    parser.add_argument("--seconds", type=float, default=300.0, help="overall time budget")
    parser.add_argument("--live", action="store_true", help="a real server on 127.0.0.1 instead of the app in process")
    parser.add_argument("--st", action="store_true", help="Schemathesis's st run --checks all against a real server")
    parser.add_argument("--seed", type=int, default=1, help="Schemathesis's seed (--st)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.CRITICAL)
    if args.st:
        rc, output = st_live(args.seconds, st_seed=args.seed)
        sys.stdout.write(output)
        return rc
    if args.live:
        report = fuzz_live(args.examples, args.seconds)
    else:
        report = fuzz_in_process(args.examples, args.seconds)
    for line in report.lines():
        sys.stdout.write(line + "\n")
    return 1 if report.problems else 0


def fuzz_in_process(examples: int, seconds: float) -> FuzzReport:
    """The app in process with light fake worker jobs (the fuzzing creates many runs)."""
    sys.path.insert(0, str(REPO / "tests" / "backend"))
    import fake_jobs
    from fastapi.testclient import TestClient

    from backend.app.core.config import Settings
    from backend.app.main import create_app

    with tempfile.TemporaryDirectory() as tmp:
        app = create_app(Settings(data_dir=Path(tmp), max_workers=1), job_target=fake_jobs.sleepy_job)
        with TestClient(app) as client:
            existing = seed(client)
            return fuzz_app(app, examples, seconds, existing=existing)


def fuzz_live(examples: int, seconds: float) -> FuzzReport:
    """A ``motornet-studio serve`` subprocess on a free loopback port, one real training worker."""
    import httpx

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from load import studio

    with tempfile.TemporaryDirectory() as tmp, studio(Path(tmp)) as url:
        with httpx.Client(base_url=url, timeout=30) as client:
            existing = seed(client)
        schema = schemathesis.openapi.from_url(f"{url}/openapi.json")
        report = fuzz_schema(schema, examples, seconds, existing=existing)
        report.notes.append(f"live server at {url}")
        return report


ST_HOOKS = Path(__file__).resolve().parent / "st_hooks.py"


def st_command(url: str, seconds: float, workers: int = 1, st_seed: int = 1) -> list[str]:
    """``st run`` with every check (ST202 by way of :mod:`st_hooks`), bounded to ``seconds``."""
    st = Path(sys.executable).with_name("st")
    return [
        str(st),
        "run",
        f"{url}/openapi.json",
        "--checks",
        "all",
        "--exclude-checks",
        "positive_data_acceptance",
        "--max-time",
        str(max(1, int(seconds))),
        "--workers",
        str(workers),
        "--request-timeout",
        "120",  # a valid dynamics analysis (fixed-point search) takes more than the default 10 s on 2 cores
        "--max-response-time",
        "120",  # and the response-time check (ST112) then holds answers to the same bound
        "--continue-on-failure",
        "--seed",
        str(st_seed),
        "--no-color",
    ]


def st_live(seconds: float, st_seed: int = 1) -> tuple[int, str]:
    """``st run`` against a fresh ``motornet-studio serve`` (one stored run, effector and task first);
    returns its exit status and output."""
    import os
    import subprocess

    import httpx

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from load import studio

    with tempfile.TemporaryDirectory() as tmp, studio(Path(tmp)) as url:
        with httpx.Client(base_url=url, timeout=30) as client:
            seed(client)
        env = {**os.environ, "SCHEMATHESIS_HOOKS": str(ST_HOOKS)}
        command = st_command(url, seconds, st_seed=st_seed)
        done = subprocess.run(command, cwd=tmp, env=env, capture_output=True, text=True, timeout=seconds + 600)
        return done.returncode, done.stdout + done.stderr


if __name__ == "__main__":
    raise SystemExit(main())
