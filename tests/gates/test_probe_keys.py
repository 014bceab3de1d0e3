"""The app's signing key for the expired probe token: the app's modules first, then its environment."""

from __future__ import annotations

import sys
import types
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.gates.probe_keys import app_key, decodes_jwt, rank


class SecretStr:
    def __init__(self, value: str) -> None:
        self._value = value

    def get_secret_value(self) -> str:
        return self._value


@pytest.fixture
def app_module(tmp_path: Path) -> Iterator[types.ModuleType]:
    module = types.ModuleType("specship_keys_fixture")
    module.__file__ = str(tmp_path / "app" / "config.py")
    sys.modules[module.__name__] = module
    yield module
    del sys.modules[module.__name__]


def test_names_rank_most_specific_first() -> None:
    assert rank("JWT_SECRET_KEY") == 0
    assert rank("secret_key") == rank("SECRET_KEY")
    assert rank("AUTH_SECRET") is not None
    assert rank("CLIENT_SECRET") is None  # an OAuth client's secret signs nothing of the app's
    assert rank("POSTGRES_PASSWORD") is None
    assert rank("KEY") is None


def test_a_settings_field_beats_a_looser_constant_and_the_environment(
    app_module: types.ModuleType, tmp_path: Path
) -> None:
    settings = types.SimpleNamespace(SECRET_KEY=SecretStr("from-settings"), DEBUG=True)
    vars(app_module).update(settings=settings, AUTH_SECRET="loose")
    key, where = app_key(str(tmp_path / "app"), {"JWT_SECRET": "from-env"}, "fallback")
    assert (key, where) == ("from-settings", "specship_keys_fixture.settings.SECRET_KEY")


def test_class_attributes_of_a_plain_settings_object_count(
    app_module: types.ModuleType, tmp_path: Path
) -> None:
    class Config:
        JWT_SECRET = b"bytes-key"

    app_module.config = Config()
    found = app_key(str(tmp_path / "app"), {}, "fallback")
    assert found == ("bytes-key", "specship_keys_fixture.config.JWT_SECRET")


def test_modules_outside_the_app_are_not_searched(app_module: types.ModuleType, tmp_path: Path) -> None:
    app_module.SECRET_KEY = "not the app's"
    assert app_key(str(tmp_path / "elsewhere"), {}, "fallback") == ("fallback", "")


def test_the_environment_is_searched_when_the_modules_hold_none(tmp_path: Path) -> None:
    environ = {"PATH": "/usr/bin", "TOKEN_SECRET": "t", "JWT_SECRET": "j", "SECRET_KEY": " "}
    assert app_key(str(tmp_path), environ, "fallback") == ("j", "$JWT_SECRET")


def test_a_jwt_library_counts_once_loaded() -> None:
    import jwt  # noqa: F401 - PyJWT, a dev dependency

    assert decodes_jwt()


def test_a_settings_object_is_named_where_its_class_is_defined(tmp_path: Path) -> None:
    made = []
    for name in ("specship_keys_a_deps", "specship_keys_z_config"):
        module = types.ModuleType(name)
        module.__file__ = str(tmp_path / "app" / f"{name}.py")
        sys.modules[name] = module
        made.append(module)
    try:
        settings_class = type("Settings", (), {"__module__": "specship_keys_z_config"})
        settings = settings_class()
        settings.SECRET_KEY = "k"
        for module in made:  # the deps module imports the config's settings object
            module.settings = settings
        assert app_key(str(tmp_path / "app"), {}, "")[1] == "specship_keys_z_config.settings.SECRET_KEY"
    finally:
        for module in made:
            del sys.modules[module.__name__]
