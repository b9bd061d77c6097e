"""Schemathesis fuzzes every documented operation (ingest included, with the token).

Bounded: at most 50 valid and 50 invalid generated requests per operation. Each must get a
non-5xx answer whose body matches the documented schema and content type.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from pydantic import SecretStr
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
)

TOKEN = "fuzz-token"
CHECKS = [not_a_server_error, response_schema_conformance, content_type_conformance]
OPERATIONS = [
    "GET /", "POST /api/ask", "POST /api/feedback", "GET /healthz", "GET /readyz",
    "GET /metrics", "POST /api/accounts", "POST /api/contacts", "POST /api/usage",
    "GET /api/metrics/cs", "GET /api/examples", "POST /api/handoff", "GET /api/handoffs",
]
# Documented but not fuzzed: Slack signs every request, so without Slack settings it is a
# documented 503 and with them an unsigned request is a 401 (tests/banso/web/test_wiring.py).
NOT_FUZZED = {"POST /slack/events"}


@pytest.fixture
def fuzz_schema(make_app: Callable[..., FastAPI]) -> schemathesis.BaseSchema:
    # A high rate limit: otherwise the fuzzer mostly sees 429s and tests nothing behind them.
    app = make_app(api_token=SecretStr(TOKEN), ask_rate_limit_per_minute=1_000_000,
                   handoff_rate_limit_per_minute=1_000_000,
                   feedback_rate_limit_per_minute=1_000_000)
    return schemathesis.openapi.from_asgi("/openapi.json", app)


def _operations(schema: schemathesis.BaseSchema) -> dict[str, Any]:
    # Driven by hand rather than @schema.parametrize: its fixture mode does not run on pytest 9.
    results = schema.get_all_operations()
    return {op.label: op for op in (result.ok() for result in results)}  # type: ignore[union-attr]


def test_every_operation_is_fuzzed(fuzz_schema: schemathesis.BaseSchema) -> None:
    documented = set(_operations(fuzz_schema)) - NOT_FUZZED
    assert documented == set(OPERATIONS), "add new operations to OPERATIONS"


@pytest.mark.parametrize("label", OPERATIONS)
def test_operation_never_answers_5xx_or_off_schema(
    fuzz_schema: schemathesis.BaseSchema, label: str
) -> None:
    operation = _operations(fuzz_schema)[label]
    for mode in GenerationMode:  # valid requests, then deliberately invalid ones
        _fuzz(operation, mode)


def _fuzz(operation: Any, mode: GenerationMode) -> None:
    @given(case=operation.as_strategy(mode))
    @settings(
        max_examples=50, deadline=None, database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )
    def run(case: schemathesis.Case) -> None:
        case.call_and_validate(
            headers={"Authorization": f"Bearer {TOKEN}"},
            checks=CHECKS,
        )

    try:
        run()
    except Unsatisfiable:
        # An operation without parameters or body (GET /healthz) has nothing to make invalid.
        if mode is GenerationMode.POSITIVE:
            raise
