"""Unit tests for settings: required variables fail loudly, and the secret stays private."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from src.config import Settings, SettingsError, get_settings
from src.main import create_app
from tests.conftest import TEST_JWT_SECRET

VALID = {"DATABASE_URL": "sqlite://", "JWT_SECRET": TEST_JWT_SECRET}


def test_reads_values_and_defaults_algorithm_to_hs256() -> None:
    settings = Settings.from_env(VALID)
    assert settings.database_url == "sqlite://"
    assert settings.jwt_secret == TEST_JWT_SECRET
    assert settings.jwt_algorithm == "HS256"


@pytest.mark.parametrize("missing", ["DATABASE_URL", "JWT_SECRET"])
@pytest.mark.parametrize("value", [None, "", "   "])
def test_missing_required_variable_names_it(missing: str, value: str | None) -> None:
    env = dict(VALID)
    if value is None:
        del env[missing]
    else:
        env[missing] = value
    with pytest.raises(SettingsError, match=missing):
        Settings.from_env(env)


@pytest.mark.parametrize(("algorithm", "min_bytes"), [("HS256", 32), ("HS384", 48), ("HS512", 64)])
def test_secret_shorter_than_the_hash_is_refused(algorithm: str, min_bytes: int) -> None:
    env = {**VALID, "JWT_ALGORITHM": algorithm}
    assert Settings.from_env({**env, "JWT_SECRET": "k" * min_bytes}).jwt_algorithm == algorithm
    with pytest.raises(SettingsError, match=f"at least {min_bytes} bytes"):
        Settings.from_env({**env, "JWT_SECRET": "k" * (min_bytes - 1)})


@pytest.mark.parametrize("algorithm", ["none", "RS256", "hs256"])
def test_algorithm_outside_the_hmac_allow_list_is_refused(algorithm: str) -> None:
    with pytest.raises(SettingsError, match="JWT_ALGORITHM"):
        Settings.from_env({**VALID, "JWT_ALGORITHM": algorithm})


def test_secret_is_not_in_repr() -> None:
    assert TEST_JWT_SECRET not in repr(Settings.from_env(VALID))


def test_app_refuses_to_start_without_jwt_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("JWT_SECRET")
    get_settings.cache_clear()
    with pytest.raises(SettingsError, match="JWT_SECRET"), TestClient(create_app()):
        pass
