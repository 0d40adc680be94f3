"""A small typed Python client for a running MotorNet Studio server (REST over httpx).

Importable after ``pip install`` as ``backend.client``; it needs only httpx (no torch, no
motornet_core)::

    from backend.client import StudioClient

    with StudioClient("http://127.0.0.1:8000") as studio:
        run = studio.create_run(preset="tiny_point_mass", overrides={"train.n_iterations": 200})
        done = studio.wait(run["id"], timeout=300)
        print(done["status"], done["last_metrics"]["loss"])
        loss = studio.metrics(run["id"], keys=["loss"])["loss"]  # {"step": [...], "value": [...], ...}

Runs are the server's JSON (``RunOut`` / ``RunSummary`` in ``docs/server.md``) as plain dicts.
Every HTTP error raises :class:`StudioError` with the status code and the server's ``detail``.
"""

from __future__ import annotations

import time
from types import TracebackType
from typing import Any

import httpx

TERMINAL = frozenset({"finished", "failed", "cancelled", "interrupted"})
"""Statuses after which a run does not change unless resumed."""


class StudioError(RuntimeError):
    """An HTTP error from the server: ``status_code`` and ``detail`` (the body's ``detail`` or text)."""

    def __init__(self, status_code: int, detail: Any, method: str, path: str) -> None:
        self.status_code = status_code
        self.detail = detail
        super().__init__(f"{method} {path} -> {status_code}: {detail}")


class StudioClient:
    """REST client of one studio server.

    Args:
        url: the server's base address, e.g. ``http://127.0.0.1:8000``.
        token: the API token when the server requires one (sent as a Bearer header).
        timeout: seconds per HTTP request.
    """

    def __init__(self, url: str = "http://127.0.0.1:8000", token: str | None = None, timeout: float = 30.0) -> None:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._http = httpx.Client(base_url=url.rstrip("/"), headers=headers, timeout=timeout)

    def __enter__(self) -> StudioClient:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        """Close the HTTP connection pool."""
        self._http.close()

    def _request(self, method: str, path: str, **kwargs: Any) -> Any:
        res = self._http.request(method, path, **kwargs)
        if res.status_code >= 400:
            try:
                detail = res.json().get("detail", res.text)
            except ValueError:
                detail = res.text
            raise StudioError(res.status_code, detail, method, path)
        if res.status_code == 204 or not res.content:
            return None
        return res.json()

    # runs
    def create_run(
        self,
        preset: str | None = None,
        overrides: dict[str, Any] | None = None,
        spec: dict[str, Any] | None = None,
        name: str | None = None,
        tags: list[str] | None = None,
        parent_id: int | None = None,
    ) -> dict[str, Any]:
        """Queue a training run from a ``preset`` with dotted ``overrides``, or from a full ``spec``.

        ``parent_id`` records the run this one reruns with changes. Returns the new run (status
        ``queued``). Raises StudioError (422 names the bad field).
        """
        body: dict[str, Any] = {}
        if preset is not None:
            body["preset"] = preset
        if overrides:
            body["overrides"] = overrides
        if spec is not None:
            body["spec"] = spec
        for key, value in (("name", name), ("tags", tags), ("parent_id", parent_id)):
            if value is not None:
                body[key] = value
        result: dict[str, Any] = self._request("POST", "/api/runs", json=body)
        return result

    def get_run(self, run_id: int) -> dict[str, Any]:
        """One run: status, step, progress, timings, last metrics, spec."""
        result: dict[str, Any] = self._request("GET", f"/api/runs/{run_id}")
        return result

    def list_runs(
        self, status: str | None = None, tag: str | None = None, name: str | None = None, sort: str = "-created"
    ) -> list[dict[str, Any]]:
        """Run summaries, filtered by status (comma separated), tag or name substring."""
        params = {k: v for k, v in (("status", status), ("tag", tag), ("name", name), ("sort", sort)) if v is not None}
        result: list[dict[str, Any]] = self._request("GET", "/api/runs", params=params)
        return result

    def metrics(self, run_id: int, keys: list[str] | None = None, max_points: int = 100_000) -> dict[str, dict[str, Any]]:
        """Metric series by key: ``{"loss": {"step": [...], "value": [...], "time": [...], "total": n}}``."""
        params: dict[str, Any] = {"max_points": max_points}
        if keys:
            params["keys"] = ",".join(keys)
        result: dict[str, dict[str, Any]] = self._request("GET", f"/api/runs/{run_id}/metrics", params=params)["series"]
        return result

    def metrics_csv(self, run_id: int) -> str:
        """Every stored metric row as CSV text (``step`` then one column per key)."""
        res = self._http.get(f"/api/runs/{run_id}/metrics.csv")
        if res.status_code >= 400:
            raise StudioError(res.status_code, res.text, "GET", f"/api/runs/{run_id}/metrics.csv")
        return res.text

    def update_run(self, run_id: int, notes: str | None = None, tags: list[str] | None = None) -> dict[str, Any]:
        """Set a run's notes and/or tags."""
        body = {k: v for k, v in (("notes", notes), ("tags", tags)) if v is not None}
        result: dict[str, Any] = self._request("PATCH", f"/api/runs/{run_id}", json=body)
        return result

    def cancel(self, run_id: int) -> dict[str, Any]:
        """Cancel a queued run or stop a running one (it keeps its last completed iteration)."""
        result: dict[str, Any] = self._request("POST", f"/api/runs/{run_id}/cancel")
        return result

    def resume(self, run_id: int) -> dict[str, Any]:
        """Queue a cancelled, failed or interrupted run to continue from its checkpoint (409 otherwise)."""
        result: dict[str, Any] = self._request("POST", f"/api/runs/{run_id}/resume")
        return result

    def delete(self, run_id: int) -> None:
        """Remove a run with its metrics and files."""
        self._request("DELETE", f"/api/runs/{run_id}")

    def wait(self, run_id: int, timeout: float = 600.0, poll: float = 0.5) -> dict[str, Any]:
        """Poll until the run's status is terminal (finished, failed, cancelled, interrupted).

        Args:
            run_id: the run.
            timeout: seconds to wait at most.
            poll: seconds between polls.

        Returns:
            The run as last fetched.

        Raises:
            TimeoutError: still queued or running after ``timeout`` seconds.
        """
        deadline = time.monotonic() + timeout
        while True:
            run = self.get_run(run_id)
            if run["status"] in TERMINAL:
                return run
            if time.monotonic() >= deadline:
                raise TimeoutError(f"run {run_id} still {run['status']} after {timeout} s")
            time.sleep(poll)
