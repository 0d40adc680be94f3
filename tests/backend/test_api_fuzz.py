"""Schemathesis against ``/openapi.json`` in process: no 5xx, every 4xx with a message.

The full count (1000+ requests) runs in ``benchmarks/api_fuzz.py``; this test sends a few hundred.
"""

from __future__ import annotations

import sys
from pathlib import Path

import fake_jobs
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
import api_fuzz

pytestmark = pytest.mark.slow


def test_generated_requests_get_no_5xx_and_useful_4xx(make_client):
    client = make_client(job_target=fake_jobs.sleepy_job, max_workers=1)
    existing = api_fuzz.seed(client)
    report = api_fuzz.fuzz_app(client.app, examples=5, seconds=120, existing=existing)
    print("\n".join(report.lines()))
    assert report.requests >= 250, report.lines()
    assert not report.problems, "\n".join(report.problems)
    assert set(report.statuses) & {200, 201} and 422 in report.statuses and 404 in report.statuses


@pytest.mark.parametrize(
    ("status", "body", "bad"),
    [(500, {"detail": "x"}, True), (404, {"detail": "run 1 not found"}, False), (422, {"detail": []}, True), (400, "oops", True)],
)
def test_problem_of(status, body, bad):
    assert (api_fuzz.problem_of(status, body) is not None) == bad


def test_the_documented_errors_are_the_ones_sent(client):
    doc = client.get("/openapi.json").json()
    item = doc["components"]["schemas"]["ValidationError"]
    assert item["properties"]["loc"]["type"] == "string" and "type" not in item["required"]
    paths = doc["paths"]
    assert {"404", "422"} <= set(paths["/api/runs/{run_id}"]["get"]["responses"])
    assert {"409", "429"} <= set(paths["/api/runs/{run_id}/resume"]["post"]["responses"])
    assert "429" in paths["/api/runs"]["post"]["responses"] and "413" in paths["/api/runs"]["post"]["responses"]
    r = client.get("/api/runs/0")
    assert r.status_code == 422 and isinstance(r.json()["detail"][0]["loc"], str) and r.json()["message"]
