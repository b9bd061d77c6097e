"""Strict JSON bodies and 422 answers that never echo their input.

Python's json module reads more than JSON: `NaN`, `Infinity` and `1e999` (as float inf), and
`"\\ud800"` as text holding a lone surrogate that can never be encoded to UTF-8 again. Any of
them reached the 422 handler (which echoed it and then failed to encode its own answer) or
the database, as a 500 with a traceback. `StrictJsonRoute` reads bodies as RFC 8259 JSON only;
FastAPI turns the refusal into its usual 422 `json_invalid`.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from starlette.responses import JSONResponse


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"number {text[:20]} is out of range")
    return value


def strict_loads(body: bytes) -> Any:
    """The JSON value of `body`; json.JSONDecodeError for anything RFC 8259 does not allow."""
    text = body.decode("utf-8")  # undecodable bytes: FastAPI answers 400, as before
    try:
        value = json.loads(text, parse_constant=_no_constant, parse_float=_finite)
        # One C-speed pass finds a lone surrogate anywhere, keys included.
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    except json.JSONDecodeError:
        raise
    except UnicodeEncodeError:
        raise json.JSONDecodeError("text holds a lone surrogate", text, 0) from None
    except ValueError as exc:  # the hooks above, or an integer of more than 4,300 digits
        raise json.JSONDecodeError(str(exc), text, 0) from None
    return value


class StrictJsonRequest(Request):
    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            self._json = strict_loads(await self.body())
        return self._json


class StrictJsonRoute(APIRoute):
    """A route whose JSON body is read by `strict_loads` (FastAPI's custom route class)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def strict_handler(request: Request) -> Response:
            return await handler(StrictJsonRequest(request.scope, request.receive))

        return strict_handler


async def validation_error(_request: Request, exc: Exception) -> Response:
    """422 with each error's type, location and message — never the input, which may be what
    could not be encoded (and is the visitor's text either way)."""
    assert isinstance(exc, RequestValidationError)
    detail = []
    for error in exc.errors():
        msg = str(error.get("msg", ""))
        reason = (error.get("ctx") or {}).get("error")
        if error.get("type") == "json_invalid" and reason:
            msg = f"{msg}: {reason}"
        detail.append({"type": str(error.get("type", "")), "loc": _loc(error), "msg": msg})
    return JSONResponse({"detail": detail}, status_code=422)


def _loc(error: dict[str, Any]) -> list[str | int]:
    return [part if isinstance(part, int) else str(part) for part in error.get("loc", ())]
