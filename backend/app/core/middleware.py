"""Pure ASGI middleware: the access token (HTTP and websockets), the request-body size and JSON depth limits,
and the refusal of JSON strings that are not valid Unicode (lone UTF-16 surrogates)."""

from __future__ import annotations

import hmac
import json
import logging
import re
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import parse_qs

from backend.app.core.errors import safe_text

log = logging.getLogger(__name__)
Scope = dict[str, Any]
PROTECTED_PREFIXES = ("/api", "/ws", "/docs", "/openapi.json", "/redoc")
TOKEN_COOKIE = "motornet_token"


def _token_from(scope: Scope) -> str | None:
    headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
    auth = headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        return auth[7:].strip()
    if "x-access-token" in headers:
        return headers["x-access-token"]
    query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
    if query.get("token"):
        return query["token"][0]
    cookie = SimpleCookie(headers.get("cookie", ""))
    if TOKEN_COOKIE in cookie:
        return cookie[TOKEN_COOKIE].value
    return None


async def _send_json(send, status: int, body: dict[str, Any], extra: list[tuple[bytes, bytes]] | None = None) -> None:
    data = json.dumps(body).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(data)).encode()), *(extra or [])]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": data})


class AccessTokenMiddleware:
    """Requires the access token on the API, the sockets and the docs.

    The token may come as ``Authorization: Bearer``, ``X-Access-Token``, ``?token=`` or the
    ``motornet_token`` cookie; opening any page with ``?token=`` sets that cookie, so a browser
    that opened ``http://host:port/?token=...`` once needs nothing else.
    """

    def __init__(self, app: Any, token: str) -> None:
        self.app = app
        self.token = token

    async def __call__(self, scope: Scope, receive, send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        given = _token_from(scope)
        ok = given is not None and hmac.compare_digest(given.encode(), self.token.encode())
        path = scope.get("path", "")
        if not ok and path.startswith(PROTECTED_PREFIXES):
            if scope["type"] == "websocket":
                # accept, then close: a handshake refused before acceptance reaches the client as a
                # bare HTTP 403, and browsers then never see the 4401 that says why
                if (await receive())["type"] == "websocket.connect":
                    await send({"type": "websocket.accept"})
                    await send({"type": "websocket.close", "code": 4401, "reason": "access token required"})
            else:
                await _send_json(send, 401, {"detail": "access token required"})
            return
        if ok and scope["type"] == "http" and not path.startswith(PROTECTED_PREFIXES):
            cookie = f"{TOKEN_COOKIE}={self.token}; Path=/; HttpOnly; SameSite=Strict".encode()

            async def send_with_cookie(message: dict[str, Any]) -> None:
                if message["type"] == "http.response.start":
                    message = {**message, "headers": [*message.get("headers", []), (b"set-cookie", cookie)]}
                await send(message)

            await self.app(scope, receive, send_with_cookie)
            return
        await self.app(scope, receive, send)


class BodyLimitMiddleware:
    """Answers 413 to request bodies larger than ``max_bytes`` (declared or streamed).

    ``per_path`` gives other limits to exact paths (e.g. a checkpoint upload). JSON bodies nested
    deeper than ``max_depth`` get 422 before anything parses them, and so do JSON bodies with a
    string (or key) holding a lone UTF-16 surrogate such as ``"\\ud800"``: such a string is not
    Unicode, so no database, log or JSON answer could hold it (422 naming its path).
    """

    def __init__(self, app: Any, max_bytes: int, per_path: dict[str, int] | None = None, max_depth: int = 32) -> None:
        self.app = app
        self.default = max_bytes
        self.per_path = per_path or {}
        self.max_depth = max_depth

    async def __call__(self, scope: Scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.per_path.get(scope.get("path", "").rstrip("/"), self.default)
        headers = dict(scope.get("headers", []))
        if b"json" in headers.get(b"content-type", b"") and scope.get("method") in ("POST", "PUT", "PATCH"):
            await self._json(scope, receive, send, limit)
            return
        await _Limited(self.app, limit)(scope, receive, send)

    async def _json(self, scope: Scope, receive, send, limit: int) -> None:
        """Read the whole (bounded) JSON body, check its size and depth, then hand it on."""
        chunks, seen = [], 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return
            chunk = message.get("body", b"")
            seen += len(chunk)
            if seen > limit:
                await _send_json(send, 413, {"detail": f"request body larger than {limit} bytes"})
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        depth = json_depth(body)
        if depth > self.max_depth:
            msg = f"JSON nested {depth} levels deep; this server accepts at most {self.max_depth}"
            await _send_json(send, 422, {"detail": [{"loc": "", "msg": msg, "input": None}], "message": msg})
            return
        bad = lone_surrogate_in(body)
        if bad is not None:
            loc, value = bad
            detail = [{"loc": loc, "msg": NOT_UNICODE, "input": value}]
            await _send_json(send, 422, {"detail": detail, "message": f"{loc or '<root>'}: {NOT_UNICODE}"})
            return
        replayed = False

        async def replay() -> dict[str, Any]:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


_JSON_TOKENS = re.compile(rb'"(?:[^"\\]|\\.)*"|[\[\]{}]')


def json_depth(body: bytes) -> int:
    """Deepest nesting of arrays and objects in a JSON text (strings skipped; no parsing)."""
    if body.count(b"[") + body.count(b"{") == 0:
        return 0
    depth = deepest = 0
    for token in _JSON_TOKENS.finditer(body):
        c = token.group()[:1]
        if c in (b"[", b"{"):
            depth += 1
            deepest = max(deepest, depth)
        elif c in (b"]", b"}"):
            depth -= 1
    return deepest


_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")
NOT_UNICODE = "string holds a lone UTF-16 surrogate (e.g. \\ud800 without its pair), which is not valid Unicode"


_SURROGATE = re.compile("[\ud800-\udfff]")


def find_lone_surrogate(data: Any, path: tuple[str, ...] = ()) -> tuple[str, str] | None:
    """The dotted path and escaped text of the first string (or object key) in parsed JSON ``data``
    that holds a lone surrogate, or None when every string is valid Unicode."""
    if isinstance(data, str):
        return (".".join(path), safe_text(data)) if _SURROGATE.search(data) else None
    if isinstance(data, dict):
        for key, value in data.items():
            key = str(key)
            where = (*path, safe_text(key))
            if _SURROGATE.search(key):
                return ".".join(where), safe_text(key)
            found = find_lone_surrogate(value, where)
            if found:
                return found
    elif isinstance(data, list):
        for i, value in enumerate(data):
            found = find_lone_surrogate(value, (*path, str(i)))
            if found:
                return found
    return None


def lone_surrogate_in(body: bytes) -> tuple[str, str] | None:
    """:func:`find_lone_surrogate` of a JSON text (parsed only when it holds a ``\\uD8xx``-``\\uDFxx`` escape;
    None for text that is not JSON: the route reports that)."""
    if not _SURROGATE_ESCAPE.search(body):
        return None
    try:
        data = json.loads(body)
    except ValueError:
        return None
    return find_lone_surrogate(data)


class _Limited:
    def __init__(self, app: Any, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive, send) -> None:
        for key, value in scope.get("headers", []):
            if key == b"content-length" and value.isdigit() and int(value) > self.max_bytes:
                await _send_json(send, 413, {"detail": f"request body larger than {self.max_bytes} bytes"})
                return
        seen = 0
        answered = False

        async def limited_receive() -> dict[str, Any]:
            nonlocal seen, answered
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes and not answered:
                    answered = True
                    await _send_json(send, 413, {"detail": f"request body larger than {self.max_bytes} bytes"})
                    return {"type": "http.disconnect"}
            return message

        async def guarded_send(message: dict[str, Any]) -> None:
            if not answered:
                await send(message)

        try:
            await self.app(scope, limited_receive, guarded_send)
        except Exception as exc:
            if not answered:
                raise
            # the route saw the stream end early (e.g. starlette's ClientDisconnect): expected, not an error
            log.warning(
                "%s %s answered 413: streamed body larger than %d bytes (the route stopped reading: %s)",
                scope.get("method"),
                scope.get("path"),
                self.max_bytes,
                type(exc).__name__,
            )


class MethodNotAllowedMiddleware:
    """Answers 405 with an ``Allow`` header that lists exactly the methods a path is documented with.

    Starlette would hand a method that no route of a path takes to the next route whose path
    matches: the frontend's static files mounted at ``/`` (405 ``Allow: GET, HEAD`` for
    ``OPTIONS /api/runs``) or a templated route (``PATCH /api/runs/import`` read as run ``import``:
    422). Here the app's OpenAPI paths under ``prefix`` decide: a path that a template without
    parameters matches (``/api/runs/import``) is that resource alone, and a method that none of the
    matching paths documents gets 405 listing the ones they do.
    """

    METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")

    def __init__(self, app: Any, prefix: str = "/api/") -> None:
        self.app = app
        self.prefix = prefix
        self._paths: list[tuple[re.Pattern[str], bool, frozenset[str]]] | None = None

    def _documented(self, scope: Scope) -> list[tuple[re.Pattern[str], bool, frozenset[str]]]:
        if self._paths is None:
            paths = []
            for template, item in scope["app"].openapi().get("paths", {}).items():
                if not template.startswith(self.prefix):
                    continue
                methods = {m.upper() for m in item if m.upper() in self.METHODS}
                pattern = re.compile("^" + re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(template)) + "$")
                paths.append((pattern, "{" not in template, frozenset(methods)))
            self._paths = paths
        return self._paths

    async def __call__(self, scope: Scope, receive, send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or "app" not in scope or not path.startswith(self.prefix):
            await self.app(scope, receive, send)
            return
        matching = [(literal, methods) for pattern, literal, methods in self._documented(scope) if pattern.match(path)]
        candidates = [methods for literal, methods in matching if literal] or [methods for _, methods in matching]
        allowed: set[str] = set().union(*candidates)
        method = scope.get("method", "GET")
        if candidates and method not in allowed:
            allow = ", ".join(m for m in self.METHODS if m in allowed)
            msg = f"{method} is not allowed here; allowed: {allow}"
            await _send_json(send, 405, {"detail": msg}, [(b"allow", allow.encode())])
            return
        await self.app(scope, receive, send)
