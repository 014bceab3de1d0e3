"""Application factory: settings check, routers and error handlers.

Run with ``uvicorn src.main:app`` from ``backend/``.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from src.api import tasks
from src.config import get_settings

logger = logging.getLogger(__name__)

API_DESCRIPTION = (
    "Per-user to-do tasks. Every operation requires a Bearer JWT whose `sub` claim "
    "identifies the owner. Tasks owned by another user are reported as 404."
)


@asynccontextmanager
async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
    """Validate settings at startup, so a missing ``JWT_SECRET`` stops the server at once."""
    get_settings()
    yield


async def validation_error_handler(_request: Request, exc: Exception) -> JSONResponse:
    """Return 422 with ``loc``/``msg``/``type`` per offending field (FR-010).

    The submitted values are not echoed back, so a response never reflects request data.
    """
    errors = exc.errors() if isinstance(exc, RequestValidationError) else []
    detail = [{"loc": list(e["loc"]), "msg": e["msg"], "type": e["type"]} for e in errors]
    return JSONResponse(status_code=422, content={"detail": detail})


async def unhandled_error_handler(request: Request, exc: Exception) -> JSONResponse:
    """Log an unexpected error server-side and return a generic 500 without internals."""
    logger.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return JSONResponse(
        status_code=status.HTTP_500_INTERNAL_SERVER_ERROR,
        content={"detail": "Internal server error"},
    )


def create_app() -> FastAPI:
    """Build the FastAPI application with the ``/api/tasks`` router mounted."""
    app = FastAPI(
        title="Todo Backend - User Tasks",
        version="1.0.0",
        description=API_DESCRIPTION,
        lifespan=lifespan,
    )
    app.add_exception_handler(RequestValidationError, validation_error_handler)
    app.add_exception_handler(Exception, unhandled_error_handler)
    app.include_router(tasks.router, prefix="/api")
    return app


app = create_app()
