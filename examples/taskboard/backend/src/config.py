"""Settings read from the environment.

There is deliberately no default for ``JWT_SECRET`` or ``DATABASE_URL``: a service that
silently fell back to a built-in key would accept tokens anyone can forge.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache

DEFAULT_JWT_ALGORITHM = "HS256"
# Only HMAC algorithms: the service verifies tokens with one shared secret, and pinning
# the family keeps "none" or an asymmetric/symmetric confusion out of reach. Values are the
# minimum key sizes in bytes: RFC 7518 section 3.2 wants a key at least as long as the hash.
MIN_SECRET_BYTES_BY_ALGORITHM = {"HS256": 32, "HS384": 48, "HS512": 64}


class SettingsError(RuntimeError):
    """The environment does not describe a usable configuration."""


def _required(environ: Mapping[str, str], name: str) -> str:
    """Return the value of ``name`` or raise ``SettingsError`` naming it when unset or blank."""
    value = environ.get(name, "")
    if not value.strip():
        raise SettingsError(f"missing required environment variable {name} (see .env.example)")
    return value


def database_url_from_env(environ: Mapping[str, str] | None = None) -> str:
    """Return ``DATABASE_URL``; used by the app and by Alembic (which needs no JWT secret)."""
    return _required(os.environ if environ is None else environ, "DATABASE_URL").strip()


@dataclass(frozen=True, slots=True)
class Settings:
    """Validated runtime configuration."""

    database_url: str
    jwt_secret: str = field(repr=False)  # kept out of repr so it never reaches a log line
    jwt_algorithm: str = DEFAULT_JWT_ALGORITHM

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Build settings from ``environ`` (default ``os.environ``); raise when invalid."""
        env = os.environ if environ is None else environ
        database_url = database_url_from_env(env)
        # Not stripped: the secret must be byte-identical to the identity provider's.
        secret = _required(env, "JWT_SECRET")
        algorithm = env.get("JWT_ALGORITHM", "").strip() or DEFAULT_JWT_ALGORITHM
        if algorithm not in MIN_SECRET_BYTES_BY_ALGORITHM:
            allowed = ", ".join(sorted(MIN_SECRET_BYTES_BY_ALGORITHM))
            raise SettingsError(f"JWT_ALGORITHM must be one of {allowed}")
        min_bytes = MIN_SECRET_BYTES_BY_ALGORITHM[algorithm]
        if len(secret.encode()) < min_bytes:
            raise SettingsError(
                f"JWT_SECRET must be at least {min_bytes} bytes long for {algorithm}"
            )
        return cls(database_url=database_url, jwt_secret=secret, jwt_algorithm=algorithm)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Return the process-wide settings (read once; tests call ``get_settings.cache_clear()``)."""
    return Settings.from_env()
