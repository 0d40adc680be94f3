"""Schemathesis hooks for ``st run`` against the studio (``SCHEMATHESIS_HOOKS=benchmarks/st_hooks.py``).

One check, :func:`positive_data_acceptance_but_rules`, stands in for Schemathesis's
``positive_data_acceptance`` (ST202, "schema-valid request rejected"), which ``st run`` is then told
to exclude. It is the same check with two exceptions, both about what a JSON Schema cannot say:

* a 422 whose every error has ``"type": "rule"``: the request breaks a rule between fields
  (``freq_max >= freq_min``, a path segment of zero length, an onset after the episode's end), a
  limit of this server (memory budget, queue) or gives a simulation that is not finite. Every other
  422 to a schema-valid request, one that names a constraint the document could state (a bound, a
  type, a field not allowed), is still a failure;
* a request whose path parameters do not satisfy their own schema: Schemathesis's stateful phase
  infers links from response fields and fills a path from a field that was ``null`` (``POST
  /api/experiments/None/resume``); that request is not schema-valid, so its 422 is right.

The run is ``st run URL --checks all --exclude-checks positive_data_acceptance`` (see
``benchmarks/api_fuzz.py --st``).
"""

from __future__ import annotations

import re
from typing import Any

import schemathesis
from schemathesis.specs.openapi.checks import positive_data_acceptance

RULE = "rule"  # motornet_core.specs.base.RULE (this file is loaded by Schemathesis, outside the project)
_INTEGER = re.compile(r"-?\d+")


def only_rules(status_code: int, body: Any) -> bool:
    """Whether an answer is a 422 whose every error is a rule the schema cannot state."""
    if status_code != 422 or not isinstance(body, dict):
        return False
    detail = body.get("detail")
    return isinstance(detail, list) and bool(detail) and all(isinstance(e, dict) and e.get("type") == RULE for e in detail)


def path_parameters_valid(case: Any) -> bool:
    """Whether every path parameter of ``case`` satisfies its schema (integers read from the URL text)."""
    values = case.path_parameters or {}
    for parameter in case.operation.path_parameters:
        if parameter.name not in values:
            continue
        value = values[parameter.name]
        candidates = [value]
        if isinstance(value, str) and _INTEGER.fullmatch(value):
            candidates.append(int(value))
        if not any(parameter.is_valid(v) for v in candidates):
            return False
    return True


def _json(response: Any) -> Any:
    try:
        return response.json()
    except Exception:
        return None


@schemathesis.check
def positive_data_acceptance_but_rules(ctx: Any, response: Any, case: Any) -> bool | None:
    """Schemathesis's ``positive_data_acceptance``, except for rules JSON Schema cannot state (see above)."""
    if only_rules(response.status_code, _json(response)) or not path_parameters_valid(case):
        return None
    return positive_data_acceptance(ctx, response, case)
