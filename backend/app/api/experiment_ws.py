"""``/ws/experiments/{id}``: an experiment's state, live.

On connect: ``{"type": "experiment", ...ExperimentOut...}``; then one such message whenever a
network's status or progress changes (at most 4 a second, the manager's
:class:`~backend.app.workers.experiment_watch.ExperimentWatcher`), the last one when the experiment
ends. A deleted experiment's viewers get ``{"type": "experiment", "id", "status": "deleted"}`` and
their socket closes (4410); an unknown id is answered ``{"type": "error"}`` and closed (4404).
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from starlette.concurrency import run_in_threadpool

from backend.app.api.ws import GONE, NOT_FOUND, _limiter, _until_disconnect
from backend.app.experiment_state import experiment_view
from backend.app.models import Experiment
from backend.app.schemas import PathId
from backend.app.streaming.hub import Subscription
from motornet_core.training.records import dumps

router = APIRouter()


def _read(state: Any, experiment_id: int) -> str | None:
    with state.sessions() as session:
        exp = session.get(Experiment, experiment_id)
        if exp is None:
            return None
        view = experiment_view(session, exp, state.manager.steps())
    return dumps({"type": "experiment", **view.model_dump(mode="json")})


@router.websocket("/ws/experiments/{experiment_id}")
async def experiment_socket(ws: WebSocket, experiment_id: PathId) -> None:
    """The experiment's state first, then every update the manager publishes for it."""
    state = ws.app.state
    await ws.accept()
    sub: Subscription | None = None
    try:
        sub = state.experiment_hub.subscribe(experiment_id)  # before reading: no update falls in between
        first = await run_in_threadpool(_read, state, experiment_id)
        if first is None:
            await ws.send_json({"type": "error", "message": f"experiment {experiment_id} not found"})
            await ws.close(code=NOT_FOUND)
            return
        await ws.send_text(first)
        await _follow(ws, sub)
    except (WebSocketDisconnect, RuntimeError):
        pass
    finally:
        if sub is not None:
            state.experiment_hub.unsubscribe(sub)


async def _follow(ws: WebSocket, sub: Subscription) -> None:
    reader = asyncio.create_task(_until_disconnect(ws, _limiter(ws)))
    try:
        while not reader.done():
            getter = asyncio.ensure_future(sub.get())
            done, _ = await asyncio.wait({getter, reader}, return_when=asyncio.FIRST_COMPLETED)
            if getter not in done:
                getter.cancel()
                break
            entry = getter.result()
            if entry is None:  # deleted (its last message went before)
                with contextlib.suppress(WebSocketDisconnect, RuntimeError):
                    await ws.close(code=GONE, reason=f"experiment {sub.run_id} deleted")
                break
            await ws.send_text(entry.text)
    finally:
        reader.cancel()
