"""Websockets: ``/ws/runs/{id}`` (live run events) and ``/ws/sim`` (interactive playground)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Mapping
from typing import Any

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from pydantic import TypeAdapter, ValidationError
from starlette.concurrency import run_in_threadpool

from backend.app.core.errors import Conflict, NotFound, jsonable_errors, safe_text
from backend.app.core.middleware import NOT_UNICODE, find_lone_surrogate, json_depth
from backend.app.models import Run
from backend.app.schemas import PathId, SimExcitation, SimInit, SimMessage, SimReset, SimTarget
from backend.app.services.playground import Playground
from backend.app.streaming.messages import status_message
from motornet_core import MotornetError, SpecError
from motornet_core.specs import spec_error_from_validation

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
async def run_socket(ws: WebSocket, run_id: PathId) -> None:
    """Current status first, then every live ``status``, ``metric``, ``snapshot`` and ``log`` message."""
    state = ws.app.state
    await ws.accept()
    sub = state.hub.subscribe(run_id)
    try:
        with state.sessions() as session:
            run = session.get(Run, run_id)
            first = None if run is None else status_message(run, state.manager.worker_pid(run_id))
        if first is None:
            await ws.send_json({"type": "error", "message": f"run {run_id} not found"})
            await ws.close(code=NOT_FOUND)
            return
        await ws.send_json(first)
        shown = (first.get("status"), first.get("device"))  # the last status this viewer was sent
        reader = asyncio.create_task(_until_disconnect(ws, _limiter(ws)))
        try:
            while not reader.done():
                getter = asyncio.ensure_future(sub.get())
                done, _ = await asyncio.wait({getter, reader}, return_when=asyncio.FIRST_COMPLETED)
                if getter not in done:
                    getter.cancel()
                    break
                text = getter.result()
                if text is None:  # the run was deleted (its last message, "deleted", went before)
                    await ws.close(code=GONE, reason=f"run {run_id} deleted")
                    break
                if text.startswith('{"type":"status"'):
                    status = json.loads(text)
                    if (status.get("status"), status.get("device")) == shown:
                        continue  # published while this socket read the same status from the database
                    shown = (status.get("status"), status.get("device"))
                await ws.send_text(text)  # JSON encoded once by the hub for every viewer
        finally:
            reader.cancel()
    except (WebSocketDisconnect, RuntimeError):
        pass
    finally:
        state.hub.unsubscribe(sub)


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
                pg = Playground.for_run(session, msg.run_id, settings.max_sim_steps)
        else:
            pg = Playground.for_effector(msg.effector, msg.position, settings.max_sim_steps)
        return pg, pg.describe()
    if pg is None:
        return None, _error("send an init message first")
    if isinstance(msg, SimExcitation):
        return pg, pg.excite(msg.values, msg.steps)
    if isinstance(msg, SimTarget):
        return pg, pg.reach(msg.xy, msg.steps)
    if isinstance(msg, SimReset):
        pg.reset(msg.position)
        return pg, pg.message()
    return pg, _error("unknown message")


@router.websocket("/ws/sim")
async def sim_socket(ws: WebSocket) -> None:
    """Playground: ``init`` then ``excitation`` (open loop) or ``target`` (a run's policy) messages."""
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
