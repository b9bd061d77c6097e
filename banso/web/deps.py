"""FastAPI dependencies shared by every router: the one `Services`, a session, the ingest token."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from fastapi.security.utils import get_authorization_scheme_param
from sqlalchemy.orm import Session

from core.services import Services
from core.settings import Settings

_bearer = HTTPBearer(auto_error=False)


# async: FastAPI runs a plain `def` dependency in the threadpool, a thread hop per request for
# reading one attribute.
async def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]


def get_session(services: ServicesDep) -> Iterator[Session]:
    with services.session_factory() as session:
        yield session


def require_api_token(
    services: ServicesDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> None:
    """Ingest endpoints need `Authorization: Bearer <BANSO_API_TOKEN>`; unset token = closed."""
    refusal = api_token_refusal(services.settings, credentials.credentials if credentials else "")
    if refusal is not None:
        raise refusal


def api_token_refusal(settings: Settings, given: str) -> HTTPException | None:
    """Why a caller presenting bearer token `given` may not use the ingest API, or None."""
    token = settings.api_token
    expected = token.get_secret_value() if token else None
    if expected is None:
        return HTTPException(status.HTTP_403_FORBIDDEN, "ingest API disabled: set BANSO_API_TOKEN")
    if not secrets.compare_digest(given.encode(), expected.encode()):
        return HTTPException(
            status.HTTP_401_UNAUTHORIZED, "missing or wrong bearer token",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return None


def bearer_token(authorization: str | None) -> str:
    """The credentials of an `Authorization: Bearer …` header ("" for any other header)."""
    scheme, credentials = get_authorization_scheme_param(authorization)
    return credentials if scheme.lower() == "bearer" else ""


SessionDep = Annotated[Session, Depends(get_session)]
