"""Domain errors -> HTTP responses, in one place.

* :class:`motornet_core.SpecError` and request validation errors -> 422 with
  ``{"detail": [{"loc": "muscles.2.optimal_length", "msg": ..., "input": ...}], "message": ...}``
  (dotted paths into the submitted body, the core's own convention);
* :class:`motornet_core.SimulationError` -> 422; :class:`NotFound` -> 404; :class:`Conflict` -> 409;
* :class:`Overloaded` (the run queue is full) -> 429; a database that stays locked or unreachable
  (``sqlalchemy.exc.OperationalError``) -> 503; both with ``Retry-After``;
* anything unexpected -> 500 with a generic message (and a logged traceback).
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from motornet_core import MotornetError, SimulationError, SpecError
from motornet_core.specs import spec_error_from_validation

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


class _RequestErrors:
    """Adapts FastAPI's error list to the interface the core's converter reads."""

    def __init__(self, errors: list[dict[str, Any]]) -> None:
        self._errors = errors

    def errors(self, include_url: bool = False) -> list[dict[str, Any]]:
        out = []
        for err in self._errors:
            loc = tuple(err.get("loc", ()))
            if loc and loc[0] in ("body", "query", "path"):
                loc = loc[1:]
            out.append({**err, "loc": loc})
        return out


def request_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    """Request validation errors as ``[{loc, msg, input}]`` with dotted paths."""
    return spec_error_from_validation(_RequestErrors(list(exc.errors()))).errors  # type: ignore[arg-type]


def _unprocessable(errors: list[dict[str, Any]]) -> JSONResponse:
    message = "; ".join(f"{e['loc'] or '<root>'}: {e['msg']}" for e in errors)
    return JSONResponse(status_code=422, content={"detail": _jsonable(errors), "message": message})


def _jsonable(errors: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for e in errors:
        value = e.get("input")
        if not isinstance(value, (str, int, float, bool, list, dict, type(None))):
            value = repr(value)
        out.append({"loc": str(e.get("loc", "")), "msg": str(e.get("msg", "")), "input": value})
    return out


def install_error_handlers(app: FastAPI) -> None:
    """Register every mapping on ``app``."""

    @app.exception_handler(SpecError)
    async def _spec(_: Request, exc: SpecError) -> JSONResponse:
        return _unprocessable(exc.errors)

    @app.exception_handler(RequestValidationError)
    async def _request(_: Request, exc: RequestValidationError) -> JSONResponse:
        return _unprocessable(request_errors(exc))

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
