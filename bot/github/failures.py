"""PyGithub and requests exceptions seen as neutral Failures, so the retry policy never imports PyGithub."""

from __future__ import annotations

from bot.github.retry import Failure, error_message


def failure_of(exc: BaseException) -> Failure | None:
    """A neutral view of a PyGithub / requests error; None for anything else."""
    import requests
    from github import GithubException

    if isinstance(exc, GithubException):
        status, data = exc.status, exc.data
        errors = data.get("errors") if isinstance(data, dict) else None
        kinds = {e.get("type") for e in errors if isinstance(e, dict)} if isinstance(errors, list) else set()
        if kinds & {"FORBIDDEN", "RATE_LIMITED"}:  # GraphQL answers 200 + errors; PyGithub says 400
            status = 403
        headers = {str(k).lower(): str(v) for k, v in (exc.headers or {}).items()}
        return Failure(status, error_message(data, exc.message) or f"HTTP {exc.status}", headers)
    if isinstance(exc, requests.exceptions.RetryError):  # only if a transport retry is configured
        return Failure(0, "GitHub kept failing (transport retries exhausted)", exhausted=True)
    if isinstance(exc, requests.exceptions.RequestException):
        return Failure(0, f"no answer from GitHub ({type(exc).__name__})")
    return None
