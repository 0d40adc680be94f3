"""Domain errors -> HTTP responses, in one place.

* :class:`motornet_core.SpecError` and request validation errors -> 422 with
  ``{"detail": [{"loc": "muscles.2.optimal_length", "msg": ..., "input": ..., "type": ...}], "message": ...}``
  (dotted paths into the submitted body, the core's own convention; ``type`` is pydantic's error
  type where the OpenAPI document states the rule broken, ``rule`` where it cannot);
* :class:`motornet_core.SimulationError` -> 422; :class:`NotFound` -> 404; :class:`Conflict` -> 409;
* :class:`Overloaded` (the run queue is full) -> 429; a database that stays locked or unreachable
  (``sqlalchemy.exc.OperationalError``) -> 503; both with ``Retry-After``;
* a websocket whose path does not validate (e.g. ``/ws/runs/{id}`` with an id outside
  1..2^63-1) is accepted, sent ``{"type": "error", "message", "errors"}`` and closed with 1008;
* anything unexpected -> 500 with a generic message (and a logged traceback).
"""

from __future__ import annotations

import logging
import math
from typing import Any

from fastapi import FastAPI, Request, WebSocket, WebSocketDisconnect
from fastapi.exceptions import RequestValidationError, WebSocketRequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from motornet_core import MotornetError, SimulationError, SpecError
from motornet_core.specs import spec_error_from_validation
from motornet_core.specs.base import RULE

log = logging.getLogger(__name__)


class NotFound(Exception):
    """An id that does not exist."""


class Conflict(Exception):
    """The resource is in a state that forbids the action."""


class Overloaded(Exception):
    """The server is at a configured limit (e.g. the run queue is full); try again later."""


def spec_error(loc: str, msg: str, value: Any = None) -> SpecError:
    """A one-problem :class:`SpecError` (for checks the API adds, such as server limits)."""
    return SpecError([{"loc": loc, "msg": msg, "input": value}])


def as_rules(errors: list[dict[str, Any]]) -> SpecError:
    """``errors`` typed ``rule``: they depend on more than the request's own schema (an override's dotted
    path and value are checked against the preset they change, which the OpenAPI document cannot state)."""
    return SpecError([{**e, "type": RULE} for e in errors])


class _RequestErrors:
    """Adapts FastAPI's error list to the interface the core's converter reads."""

    def __init__(self, errors: list[dict[str, Any]]) -> None:
        self._errors = errors

    def errors(self, include_url: bool = False) -> list[dict[str, Any]]:
        return self._errors


def request_errors(exc: RequestValidationError | WebSocketRequestValidationError) -> list[dict[str, Any]]:
    """Request validation errors as ``[{loc, msg, input}]`` with dotted paths into what the client sent.

    The ``body``/``query``/``path`` prefix is dropped, and body paths are resolved against the
    submitted body so that the tags pydantic adds for union members are not part of them
    (``spec.muscles.2.optimal_length``, never ``spec.muscles.2.rigid_hill.optimal_length``).
    """
    out: list[dict[str, Any]] = []
    for err in exc.errors():
        loc = tuple(err.get("loc", ()))
        source = loc[0] if loc and loc[0] in ("body", "query", "path") else None
        data = getattr(exc, "body", None) if source == "body" else None
        one = {**err, "loc": loc[1:] if source else loc}
        out += spec_error_from_validation(_RequestErrors([one]), data).errors  # type: ignore[arg-type]
    return out


def _unprocessable(errors: list[dict[str, Any]]) -> JSONResponse:
    detail = jsonable_errors(errors)
    message = "; ".join(f"{e['loc'] or '<root>'}: {e['msg']}" for e in detail)
    return JSONResponse(status_code=422, content={"detail": detail, "message": message})


def safe_text(text: str) -> str:
    """``text`` encodable as UTF-8: lone surrogates become ``\\udXXX`` escapes."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text


def json_safe(value: Any) -> Any:
    """``value`` as strict JSON data: NaN and infinities become the strings ``"NaN"``,
    ``"Infinity"`` and ``"-Infinity"``, lone surrogates are escaped, anything else that JSON
    cannot hold becomes its ``repr``."""
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    if isinstance(value, str):
        return safe_text(value)
    if value is None or isinstance(value, (bool, int, float)):
        return value
    if isinstance(value, dict):
        return {safe_text(str(k)): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    return safe_text(repr(value))


def jsonable_errors(errors: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Error items as strict JSON (the echoed ``input`` is whatever the client sent, NaN included)."""
    return [
        {
            "loc": safe_text(str(e.get("loc", ""))),
            "msg": safe_text(str(e.get("msg", ""))),
            "input": json_safe(e.get("input")),
            "type": safe_text(str(e.get("type") or RULE)),
        }
        for e in errors
    ]


def install_error_handlers(app: FastAPI) -> None:
    """Register every mapping on ``app``."""

    @app.exception_handler(SpecError)
    async def _spec(_: Request, exc: SpecError) -> JSONResponse:
        return _unprocessable(exc.errors)

    @app.exception_handler(RequestValidationError)
    async def _request(_: Request, exc: RequestValidationError) -> JSONResponse:
        return _unprocessable(request_errors(exc))

    @app.exception_handler(WebSocketRequestValidationError)
    async def _socket_request(ws: WebSocket, exc: WebSocketRequestValidationError) -> None:
        errors = jsonable_errors(request_errors(exc))
        message = "; ".join(f"{e['loc'] or '<root>'}: {e['msg']}" for e in errors)
        try:
            await ws.accept()  # accepted first: a refused handshake would reach the client as a bare HTTP 403
            await ws.send_json({"type": "error", "message": message, "errors": errors})
            await ws.close(code=1008, reason=message.encode("utf-8")[:120].decode("utf-8", "ignore"))
        except (WebSocketDisconnect, RuntimeError):
            pass

    @app.exception_handler(SimulationError)
    async def _simulation(_: Request, exc: SimulationError) -> JSONResponse:
        return _unprocessable([{"loc": "", "msg": str(exc), "input": None}])

    @app.exception_handler(MotornetError)
    async def _core(_: Request, exc: MotornetError) -> JSONResponse:
        return _unprocessable([{"loc": "", "msg": str(exc), "input": None}])

    @app.exception_handler(NotFound)
    async def _not_found(_: Request, exc: NotFound) -> JSONResponse:
        return JSONResponse(status_code=404, content={"detail": str(exc)})

    @app.exception_handler(Conflict)
    async def _conflict(_: Request, exc: Conflict) -> JSONResponse:
        return JSONResponse(status_code=409, content={"detail": str(exc)})

    @app.exception_handler(Overloaded)
    async def _overloaded(_: Request, exc: Overloaded) -> JSONResponse:
        return JSONResponse(status_code=429, content={"detail": str(exc)}, headers={"Retry-After": "5"})

    @app.exception_handler(OperationalError)
    async def _database(request: Request, exc: OperationalError) -> JSONResponse:
        log.warning("database unavailable on %s %s: %s", request.method, request.url.path, exc.orig)
        detail = f"database busy or unavailable ({exc.orig}); try again shortly"
        return JSONResponse(status_code=503, content={"detail": detail}, headers={"Retry-After": "2"})

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        return JSONResponse(status_code=exc.status_code, content={"detail": exc.detail}, headers=exc.headers)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return JSONResponse(status_code=500, content={"detail": f"internal error: {type(exc).__name__}"})
