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


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("OPTIONS", "/api/runs", "GET, POST"),
        ("OPTIONS", "/api/runs/3/cancel", "POST"),
        ("PATCH", "/api/runs/import", "POST"),  # not run "import": the literal path is its own resource
        ("PATCH", "/api/experiments/estimate", "POST"),
        ("HEAD", "/api/runs", "GET, POST"),
    ],
)
def test_an_undocumented_method_is_405_listing_the_documented_ones(client, method, path, allow):
    r = client.request(method, path)
    assert r.status_code == 405 and r.headers["allow"] == allow
    assert method == "HEAD" or r.json()["detail"]  # a HEAD answer has no body


def test_discriminator_tags_and_list_filters_are_documented(client):
    doc = client.get("/openapi.json").json()
    assert "kind" in doc["components"]["schemas"]["PointMassSpec"]["required"]
    params = {p["name"]: p["schema"] for p in doc["paths"]["/api/runs"]["get"]["parameters"]}
    assert params["kind"]["enum"] == ["training", "study", "all"] and "-created" in params["sort"]["enum"]
    assert client.get("/api/runs", params={"status": "queued,running"}).status_code == 200
