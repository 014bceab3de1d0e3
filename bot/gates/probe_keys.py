"""Which key the app signs its tokens with, found in its imported modules or its environment."""

# Standalone on purpose, like probe_auth.py: probe_script.py loads this file by path in the
# sandbox, after the app was imported. An expired token only tests expiry when it is signed with
# the app's own key: signed with any other key it is one more wrong-key token, and an app that
# checks the signature but not `exp` would pass. The key is looked up where apps keep it: a module
# constant or a settings object's field named like a signing secret, in the app's own modules,
# then an environment variable of such a name (apps that read it when a request comes). Only
# where it was found leaves this process, never the value.
from __future__ import annotations

import os
import re
import sys
from collections.abc import Mapping
from typing import Any

# Names a signing key goes by, most specific first; anything else ending in SECRET comes after.
PREFERRED = ("JWT_SECRET_KEY", "JWT_SECRET", "JWT_KEY", "SECRET_KEY", "SIGNING_KEY", "TOKEN_SECRET")
_LOOSE = re.compile(r"(?:^|_)(?:SECRET|SECRET_KEY|SIGNING_KEY)$", re.I)
_SETTINGS_NAME = re.compile(r"(?:^|_)(?:settings|config|conf)$", re.I)
# Libraries that decode JWTs: when the app loaded none, an expired JWT tests nothing it does.
JWT_LIBRARIES = ("jwt", "jose", "joserfc", "jwcrypto", "authlib.jose", "python_jwt")
MAX_FIELDS = 500


def _text(value: Any) -> str | None:
    reveal = getattr(value, "get_secret_value", None)  # pydantic SecretStr
    if callable(reveal):
        try:
            value = reveal()
        except Exception:  # not a secret after all
            return None
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    return value if isinstance(value, str) and value.strip() else None


def rank(name: str) -> int | None:
    """How surely a name is a signing key's (0 is surest); None when it is not one."""
    upper = name.upper()
    if upper in PREFERRED:
        return PREFERRED.index(upper)
    return len(PREFERRED) if _LOOSE.search(upper) and "CLIENT" not in upper else None


def _fields(obj: Any) -> list[str]:
    """A settings object's field names: pydantic's model_fields, else its instance attributes."""
    declared = getattr(type(obj), "model_fields", None) or getattr(type(obj), "__fields__", None)
    if isinstance(declared, dict):
        return [str(n) for n in declared][:MAX_FIELDS]
    names = [str(n) for n in getattr(obj, "__dict__", {})]
    for cls in type(obj).__mro__[:-1]:  # slots and class attributes too, not object's own
        slots = getattr(cls, "__slots__", ())
        names += [s for s in ((slots,) if isinstance(slots, str) else slots) if isinstance(s, str)]
        names += [n for n in vars(cls) if not n.startswith("__")]
    return list(dict.fromkeys(names))[:MAX_FIELDS]


def _is_settings(name: str, obj: Any) -> bool:
    if isinstance(obj, (str, bytes, int, float, type)) or callable(obj):
        return False
    bases = {c.__name__ for c in type(obj).__mro__}
    return "BaseSettings" in bases or bool(_SETTINGS_NAME.search(name))


def _own_modules(root: str) -> list[Any]:
    found = []
    for _, module in sorted(sys.modules.items()):
        path = getattr(module, "__file__", None)
        if isinstance(path, str) and os.path.realpath(path).startswith(root + os.sep):
            found.append(module)
    return found


def _in_modules(root: str) -> tuple[int, bool, str, str] | None:
    best: tuple[int, bool, str, str] | None = None
    for module in _own_modules(root):
        for name, value in list(vars(module).items()):
            places: list[tuple[str, Any]] = [(name, value)]
            # A settings object imported elsewhere is named where its class is defined.
            borrowed = True
            if _is_settings(name, value):
                places = [(f"{name}.{field}", getattr(value, field, None)) for field in _fields(value)]
                borrowed = type(value).__module__ != module.__name__
            for where, candidate in places:
                order, text = rank(where.rpartition(".")[2]), _text(candidate)
                if order is None or text is None:
                    continue
                found = (order, borrowed, f"{module.__name__}.{where}", text)
                if best is None or found[:3] < best[:3]:
                    best = found
    return best


def _in_environment(environ: Mapping[str, str]) -> tuple[int, bool, str, str] | None:
    ranked = [(rank(name), name, value) for name, value in environ.items() if value.strip()]
    found = sorted((order, False, f"${name}", value) for order, name, value in ranked if order is not None)
    return found[0] if found else None


def app_key(root: str, environ: Mapping[str, str], fallback: str) -> tuple[str, str]:
    """(key, where it was found) for the expired probe token; (fallback, "") when the app has none."""
    best = _in_modules(root) or _in_environment(environ)
    return (fallback, "") if best is None else (best[3], best[2])


def decodes_jwt() -> bool:
    """Whether a JWT library is loaded: whether an expired token means anything to the app."""
    return any(name in sys.modules for name in JWT_LIBRARIES)
