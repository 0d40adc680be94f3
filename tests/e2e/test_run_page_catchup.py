"""The run page's loss curve ends with every step when its socket drops and reconnects mid-run."""

from __future__ import annotations

import httpx
import pytest

pytestmark = pytest.mark.slow

N = 300
RUN = {"preset": "tiny_point_mass", "overrides": {"train.n_iterations": N, "train.eval_every": 50}}
STEPS = "() => (document.querySelector('[data-testid=loss-plot]')?.data?.find((t) => t.name === 'loss')?.x ?? []).slice()"


def test_loss_curve_has_every_step_after_the_socket_drops(live_server, page) -> None:  # type: ignore[no-untyped-def]
    sockets: list = []

    def route(ws) -> None:  # type: ignore[no-untyped-def]
        ws.connect_to_server()  # forwards both ways
        sockets.append(ws)

    page.route_web_socket("**/ws/runs/**", route)
    rid = httpx.post(f"{live_server.url}/api/runs", json=RUN, timeout=10).json()["id"]
    page.goto(f"{live_server.url}/#/run?id={rid}")
    page.wait_for_function(f"() => ({STEPS})().length >= 20", timeout=120_000)
    sockets[-1].close()  # connectivity lost mid-run: the page reconnects from the last step it holds
    finished = "() => document.querySelector('[data-testid=run-status]')?.textContent === 'finished'"
    page.wait_for_function(finished, timeout=180_000)
    page.wait_for_function(f"() => ({STEPS})().length >= {N}", timeout=30_000)
    steps = page.evaluate(STEPS)
    assert steps == list(range(1, N + 1)), f"missing {sorted(set(range(1, N + 1)) - set(steps))[:10]}"
    assert len(sockets) >= 2, "the page did not reconnect"
