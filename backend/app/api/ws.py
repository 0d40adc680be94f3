"""Websockets: ``/ws/runs/{id}`` (live run events) and ``/ws/sim`` (interactive playground)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import math
import time
from collections.abc import Mapping
from dataclasses import replace
from typing import Annotated, Any

from fastapi import APIRouter, Query, WebSocket, WebSocketDisconnect
from pydantic import TypeAdapter, ValidationError
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from backend.app.core.errors import Conflict, NotFound, jsonable_errors, safe_text
from backend.app.core.middleware import NOT_UNICODE, find_lone_surrogate, json_depth
from backend.app.models import Metric, Run
from backend.app.schemas import PathId, SimExcitation, SimInit, SimMessage, SimPerturb, SimReset, SimTarget
from backend.app.services.playground import Playground
from backend.app.streaming.hub import Published, Subscription
from backend.app.streaming.messages import MetricMessage, StatusMessage, status_message
from motornet_core import MotornetError, SpecError
from motornet_core.specs import spec_error_from_validation
from motornet_core.training.records import dumps

log = logging.getLogger(__name__)
router = APIRouter()
_sim_messages: TypeAdapter[Any] = TypeAdapter(SimMessage)
TOO_BIG, POLICY = 1009, 1008  # websocket close codes: message too big, policy violation
NOT_FOUND, GONE = 4404, 4410  # no such run; the run was deleted while the socket followed it


class Limiter:
    """Size and rate limits of the messages one websocket client sends (a token bucket of one second)."""

    def __init__(self, max_bytes: int, per_second: float) -> None:
        self.max_bytes, self.rate = max_bytes, per_second
        self.tokens, self.last = per_second, time.monotonic()

    def problem(self, message: Mapping[str, Any]) -> tuple[int, str] | None:
        """The close code and reason when ``message`` breaks a limit, else None."""
        text = message.get("text")
        data = text if text is not None else message.get("bytes") or b""
        if len(data) > self.max_bytes:
            return TOO_BIG, f"message larger than {self.max_bytes} bytes"
        now = time.monotonic()
        self.tokens = min(self.rate, self.tokens + (now - self.last) * self.rate)
        self.last = now
        if self.tokens < 1.0:
            return POLICY, f"more than {self.rate:g} messages per second"
        self.tokens -= 1.0
        return None


def _limiter(ws: WebSocket) -> Limiter:
    settings = ws.app.state.settings
    return Limiter(settings.max_ws_message_bytes, settings.ws_messages_per_second)


async def _refuse(ws: WebSocket, code: int, reason: str) -> None:
    with contextlib.suppress(WebSocketDisconnect, RuntimeError):
        await ws.send_json({"type": "error", "message": reason})
        await ws.close(code=code, reason=reason)


@router.websocket("/ws/runs/{run_id}")
async def run_socket(ws: WebSocket, run_id: PathId, after_step: Annotated[int | None, Query(ge=-1, le=2**53)] = None) -> None:
    """Current status first, then every live ``status``, ``metric``, ``snapshot`` and ``log`` message.

    With ``after_step`` (the last metric step the viewer holds, from REST), every metric row past
    that step comes first, exactly once: from the database, then from the hub's buffer of what the
    manager published (flushed or not), then live (docs/server.md, "Catching up").
    """
    state = ws.app.state
    await ws.accept()
    sub: Subscription | None = None
    try:
        if after_step is None:
            sub = state.hub.subscribe(run_id)
            first, rows = _read_run(state, run_id, None)
            backlog: list[Published] = []
        else:
            mark = state.hub.mark()  # statuses published up to here are in what the database says
            first, rows = await run_in_threadpool(_read_run, state, run_id, after_step)
            sub = state.hub.subscribe(run_id, replay=True)
            backlog = _backlog(sub, max([after_step, *(m.step for m in rows)]), mark)
        if first is None:
            await ws.send_json({"type": "error", "message": f"run {run_id} not found"})
            await ws.close(code=NOT_FOUND)
            return
        stream = [p.seq for p in backlog if p.kind != "status"]
        await ws.send_text(dumps(replace(first, seq=stream[0] - 1 if stream else sub.last_seq)))
        for row in rows:
            await ws.send_text(dumps(row))
        shown = (first.status, first.device)  # the last status this viewer was sent
        for entry in backlog:
            shown = await _send(ws, entry, shown)
        await _follow(ws, sub, shown)
    except (WebSocketDisconnect, RuntimeError):
        pass
    finally:
        if sub is not None:
            state.hub.unsubscribe(sub)


def _read_run(state: Any, run_id: int, after_step: int | None) -> tuple[StatusMessage | None, list[MetricMessage]]:
    """The run's status (None: no such run) and its stored metric rows past ``after_step``, one message a step."""
    with state.sessions() as session:
        run = session.get(Run, run_id)
        if run is None:
            return None, []
        first = status_message(run, state.manager.worker_pid(run_id))
        if after_step is None:
            return first, []
        query = select(Metric.step, Metric.key, Metric.value).where(Metric.run_id == run_id, Metric.step > after_step)
        steps: dict[int, dict[str, float]] = {}
        for step, key, value in session.execute(query.order_by(Metric.step, Metric.id)):
            steps.setdefault(step, {})[key] = value
    return first, [MetricMessage(run_id=run_id, step=step, values=values) for step, values in steps.items()]


def _backlog(sub: Subscription, held: int, mark: int) -> list[Published]:
    """What of the hub's buffer a viewer holding every metric up to step ``held`` still lacks.

    Everything after the last buffered metric at or before ``held`` (everything when there is none),
    and the statuses published after ``mark`` (those before are in the status read from the database).
    """
    buffered = sub.buffered
    start = next((i + 1 for i in range(len(buffered) - 1, -1, -1) if _metric_step(buffered[i]) <= held), 0)
    return [p for i, p in enumerate(buffered) if i >= start or (p.kind == "status" and p.index > mark)]


def _metric_step(p: Published) -> float:
    return p.step if p.kind == "metric" and p.step is not None else math.inf


async def _send(ws: WebSocket, entry: Published, shown: tuple[Any, Any]) -> tuple[Any, Any]:
    """Send one published message (a status the viewer already shows is left out); returns what it shows."""
    if entry.kind == "status":
        status = json.loads(entry.text)
        if (status.get("status"), status.get("device")) == shown:
            return shown  # published while this socket read the same status from the database
        shown = (status.get("status"), status.get("device"))
    await ws.send_text(entry.text)  # JSON encoded once by the manager for every viewer
    return shown


async def _follow(ws: WebSocket, sub: Subscription, shown: tuple[Any, Any]) -> None:
    """Forward live messages until the viewer leaves or the run is deleted."""
    reader = asyncio.create_task(_until_disconnect(ws, _limiter(ws)))
    try:
        while not reader.done():
            getter = asyncio.ensure_future(sub.get())
            done, _ = await asyncio.wait({getter, reader}, return_when=asyncio.FIRST_COMPLETED)
            if getter not in done:
                getter.cancel()
                break
            entry = getter.result()
            if entry is None:  # the run was deleted (its last message, "deleted", went before)
                await ws.close(code=GONE, reason=f"run {sub.run_id} deleted")
                break
            shown = await _send(ws, entry, shown)
    finally:
        reader.cancel()


async def _until_disconnect(ws: WebSocket, limiter: Limiter) -> None:
    """Read (and ignore) what a viewer sends until it leaves or breaks a limit (then close the socket)."""
    with contextlib.suppress(WebSocketDisconnect, RuntimeError):
        while True:
            message = await ws.receive()
            if message["type"] == "websocket.disconnect":
                return
            problem = limiter.problem(message)
            if problem:
                await _refuse(ws, *problem)
                return


def _error(message: str, errors: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """An ``error`` reply as strict JSON (echoed inputs may be NaN or hold lone surrogates)."""
    out: dict[str, Any] = {"type": "error", "message": safe_text(message)}
    if errors:
        out["errors"] = jsonable_errors(errors)
    return out


def _spec_error_reply(errors: list[dict[str, Any]]) -> dict[str, Any]:
    return _error("; ".join(f"{e['loc'] or '<root>'}: {e['msg']}" for e in errors), errors)


def _handle(ws: WebSocket, pg: Playground | None, msg: Any) -> tuple[Playground | None, dict[str, Any]]:
    settings = ws.app.state.settings
    if isinstance(msg, SimInit):
        if msg.run_id is not None:
            with ws.app.state.sessions() as session:
                pg = Playground.for_run(session, msg.run_id, settings.max_sim_steps, msg.perturbations)
        else:
            pg = Playground.for_effector(msg.effector, msg.position, settings.max_sim_steps, msg.perturbations)
        return pg, pg.describe()
    if pg is None:
        return None, _error("send an init message first")
    if isinstance(msg, SimExcitation):
        return pg, pg.excite(msg.values, msg.steps)
    if isinstance(msg, SimTarget):
        return pg, pg.reach(msg.xy, msg.steps)
    if isinstance(msg, SimPerturb):
        return pg, pg.perturb(msg.perturbations)
    if isinstance(msg, SimReset):
        pg.reset(msg.position)
        return pg, pg.message()
    return pg, _error("unknown message")


@router.websocket("/ws/sim")
async def sim_socket(ws: WebSocket) -> None:
    """Playground: ``init`` then ``excitation`` (open loop) or ``target`` (a run's policy), ``perturb`` and ``reset`` messages."""
    await ws.accept()
    pg: Playground | None = None
    limiter = _limiter(ws)
    while True:
        try:
            message = await ws.receive()
        except (WebSocketDisconnect, RuntimeError):
            return
        if message["type"] == "websocket.disconnect":
            return
        problem = limiter.problem(message)
        if problem:
            await _refuse(ws, *problem)
            return
        text = message.get("text") or (message.get("bytes") or b"").decode("utf-8", "replace")
        data: Any = None
        try:
            depth, most = json_depth(text.encode("utf-8", "replace")), ws.app.state.settings.max_json_depth
            if depth > most:  # bounded before parsing: the decoder recurses once per level
                raise SpecError(
                    [{"loc": "", "msg": f"message too deeply nested ({depth} levels; at most {most})", "input": None}]
                )
            data = json.loads(text)
            bad = find_lone_surrogate(data)
            if bad is not None:
                raise SpecError([{"loc": bad[0], "msg": NOT_UNICODE, "input": bad[1]}])
            msg = _sim_messages.validate_python(data)
            pg, reply = await run_in_threadpool(_handle, ws, pg, msg)
        except json.JSONDecodeError as exc:
            reply = _error(f"invalid JSON: {exc}")
        except ValidationError as exc:  # paths into the message sent (no union tags such as "init.")
            reply = _spec_error_reply(spec_error_from_validation(exc, data).errors)
        except SpecError as exc:
            reply = _spec_error_reply(exc.errors)
        except (NotFound, Conflict, MotornetError) as exc:
            reply = _error(str(exc))
        except Exception as exc:  # keep the socket alive whatever one message did
            log.exception("playground message failed")
            reply = _error(f"internal error: {type(exc).__name__}: {exc}")
        try:
            await ws.send_json(reply)
        except (WebSocketDisconnect, RuntimeError):
            return
