"""FastAPI dependencies shared by every router: the one `Services`, a session, the ingest token."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from core.services import Services

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
    token = services.settings.api_token
    expected = token.get_secret_value() if token else None
    if expected is None:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "ingest API disabled: set BANSO_API_TOKEN")
    given = credentials.credentials if credentials else ""
    if not secrets.compare_digest(given.encode(), expected.encode()):
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED, "missing or wrong bearer token",
            headers={"WWW-Authenticate": "Bearer"},
        )


SessionDep = Annotated[Session, Depends(get_session)]
