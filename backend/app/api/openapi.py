"""The OpenAPI document as the server really answers.

FastAPI documents validation errors with its own ``HTTPValidationError`` (``loc`` an array,
``type`` required), while :mod:`backend.app.core.errors` sends ``{"detail": [{"loc": "a.b.0",
"msg", "input"}], "message"}``; and the 404, 409, 413 and 429 answers that services raise are not
declared by the routes. :func:`install_openapi` rewrites the generated document once, so that every
documented status code and error body is the one sent.
"""

from __future__ import annotations

import re
from typing import Any

from fastapi import FastAPI

ERROR_ITEM = {
    "title": "ErrorItem",
    "type": "object",
    "required": ["loc", "msg"],
    "properties": {
        "loc": {"type": "string", "description": "dotted path into what was sent, e.g. spec.muscles.2.optimal_length"},
        "msg": {"type": "string"},
        "input": {"description": "the offending value as sent (NaN and infinities as strings)"},
        "type": {
            "type": "string",
            "description": "the constraint broken: pydantic's error type (e.g. greater_than_equal, missing, "
            "extra_forbidden, bool_type) where this document states it; rule where it cannot (a rule between "
            "fields, the server's limits, a simulation that is not finite)",
        },
    },
}
VALIDATION_ERRORS = {
    "title": "ValidationErrors",
    "type": "object",
    "required": ["detail", "message"],
    "properties": {
        "detail": {"type": "array", "items": {"$ref": "#/components/schemas/ValidationError"}},
        "message": {"type": "string", "description": "every problem on one line"},
    },
}
PROBLEM = {
    "title": "Problem",
    "type": "object",
    "required": ["detail"],
    "properties": {"detail": {"type": "string", "description": "what went wrong, in words"}},
}
REASONS = {
    "400": "the body is not what the content type says (e.g. malformed JSON)",
    "404": "no such run, saved spec, snapshot, study or file",
    "409": "the run is in a state (or of a kind) that forbids this",
    "413": "request body larger than this server accepts",
    "422": "validation error, with the path to each problem",
    "429": "the run queue is full; retry after Retry-After seconds",
}
# (method, path) -> status codes its service raises beyond the generic ones (see errors.py)
RAISES: dict[tuple[str, str], tuple[str, ...]] = {
    ("post", "/api/runs"): ("429",),
    ("post", "/api/simulate"): ("404", "409"),  # a closed-loop run_id: unknown, or no checkpoint yet / unusable
    ("get", "/api/runs/{run_id}/spec"): ("409",),
    ("post", "/api/runs/{run_id}/cancel"): ("409",),
    ("post", "/api/runs/{run_id}/resume"): ("409", "429"),
    ("delete", "/api/runs/{run_id}"): ("409",),
    ("post", "/api/studies/{name}/runs"): ("429",),  # also each study's own /api/studies/<name>/runs
    ("post", "/api/runs/{run_id}/interventions"): ("409",),  # a study run, or an unusable checkpoint
    ("post", "/api/runs/{run_id}/dynamics"): ("409", "429"),  # no checkpoint yet; analyses already running
    ("post", "/api/experiments"): ("429",),
    ("post", "/api/experiments/{experiment_id}/resume"): ("409", "429"),
    ("get", "/api/studies/{name}"): ("404",),
    ("get", "/api/runs/{run_id}/result"): ("409",),
    ("get", "/api/runs/{run_id}/result/{filename}"): ("409",),
    ("get", "/api/runs/{run_id}/checkpoint"): ("409",),  # no checkpoint yet
}


def _matches(template: str, path: str) -> bool:
    """Whether a documented ``path`` is ``template`` or one of its instances (``/api/studies/pmd/runs``)."""
    if template == path:
        return True
    pattern = "^" + re.sub(r"\\\{[^/]+?\\\}", "[^/{}]+", re.escape(template)) + "$"
    return "{" not in path and re.match(pattern, path) is not None


def _response(code: str) -> dict[str, Any]:
    ref = "ValidationErrors" if code == "422" else "Problem"
    return {"description": REASONS[code], "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{ref}"}}}}


def document_errors(schema: dict[str, Any]) -> dict[str, Any]:
    """Rewrite ``schema`` (FastAPI's generated document) in place so that its errors are the ones sent."""
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components["ValidationError"] = ERROR_ITEM
    components["ValidationErrors"] = VALIDATION_ERRORS
    components["HTTPValidationError"] = {**VALIDATION_ERRORS, "title": "HTTPValidationError"}
    components["Problem"] = PROBLEM
    for path, item in schema.get("paths", {}).items():
        for method, op in item.items():
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            codes = set().union(*(c for (m, template), c in RAISES.items() if m == method and _matches(template, path)))
            params = op.get("parameters", [])
            if any(p.get("in") == "path" for p in params):
                codes |= {"404", "422"}
            if params:
                codes.add("422")
            if "requestBody" in op:
                codes |= {"400", "413", "422"}
            responses = op.setdefault("responses", {})
            for code in sorted(codes):
                if code == "422" or code not in responses:
                    responses[code] = _response(code)
    return schema


def require_discriminators(schema: dict[str, Any]) -> dict[str, Any]:
    """Mark each discriminated union's tag (``kind``) required in its members, in place.

    The members give their tag a default (``"kind": "point_mass"``), so pydantic's schema leaves it
    optional, but a union member is only recognised by its tag: without it the server answers 422
    ("Unable to extract tag"). Every member component is used only inside its union.
    """
    components = schema.get("components", {}).get("schemas", {})

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            disc = node.get("discriminator")
            if isinstance(disc, dict) and "propertyName" in disc:
                for ref in disc.get("mapping", {}).values():
                    member = components.get(ref.rsplit("/", 1)[-1])
                    if member is not None and disc["propertyName"] not in member.setdefault("required", []):
                        member["required"].append(disc["propertyName"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(schema)
    return schema


def install_openapi(app: FastAPI) -> None:
    """Serve :func:`document_errors` of the generated document at ``/openapi.json`` (built once)."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = require_discriminators(document_errors(generate()))
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
