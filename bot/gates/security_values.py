"""Security rules that follow the value: JWT verification options and secret defaults, through names."""

from __future__ import annotations

import ast
import re
from collections.abc import Callable
from dataclasses import dataclass, field

SECRET_NAME = re.compile(
    r"(secret|passw(or)?d|token|(api|secret|private|signing|jwt|access|encryption|auth|master|client)_?key"
    r"|credentials?)$",
    re.I,
)
ENV_NAME = re.compile(r"^[A-Z][A-Z0-9_]*$")
JWT_MODULES = frozenset({"jwt", "jose.jwt", "authlib.jose.jwt"})
JWT_DECODERS = frozenset({"decode", "decode_complete"})
GETENV = frozenset({"getenv", "get", "setdefault"})
MAX_HOPS = 8
# Verification switches of jwt.decode(options=...): False turns the check off.
VERIFY_OPTIONS = {
    "verify_signature": "accepts forged tokens",
    "verify_exp": "accepts expired tokens",
}
# Resolves a name or attribute to the expression it is bound to elsewhere in the app (or None).
Resolver = Callable[[ast.expr], ast.expr | None]


def call_name(node: ast.AST) -> str:
    """The last component of a called name: `a.b.HTTPException` -> HTTPException."""
    if isinstance(node, ast.Call):
        node = node.func
    if isinstance(node, ast.Attribute):
        return node.attr
    return node.id if isinstance(node, ast.Name) else ""


def dotted(node: ast.AST) -> str:
    if isinstance(node, ast.Attribute):
        inner = dotted(node.value)
        return f"{inner}.{node.attr}" if inner else ""
    return node.id if isinstance(node, ast.Name) else ""


def is_literal_secret(node: ast.AST | None) -> bool:
    if not isinstance(node, ast.Constant) or not isinstance(node.value, str | bytes):
        return False
    value = node.value.decode("utf-8", "replace") if isinstance(node.value, bytes) else node.value
    return bool(value.strip()) and not ENV_NAME.match(value)


@dataclass
class Scope:
    """Names of one function (or the module): exceptions caught, and every value assigned to a name."""

    exception_names: set[str] = field(default_factory=set)
    assignments: dict[str, list[ast.AST]] = field(default_factory=dict)


def _unwrap(node: ast.AST) -> ast.AST:
    """A settings field's value: `Field(default=x)` / `Field(x)` stands for x."""
    if isinstance(node, ast.Call) and call_name(node) in ("Field", "field"):
        default = next((k.value for k in node.keywords if k.arg == "default"), None)
        return default or (node.args[0] if node.args else node)
    return node


class ValueRules:
    """The rules of the scanner that need a name's value: it holds scopes, hits and a resolver."""

    scopes: list[Scope]
    resolver: Resolver | None
    jwt_modules: set[str]
    jwt_functions: set[str]

    def hit(self, node: ast.AST, rule: str, message: str, anchor: ast.AST | None = None) -> None:
        raise NotImplementedError

    def value_of(self, node: ast.AST | None, hops: int = 0) -> ast.AST | None:
        """What `node` stands for: itself, or the value a name or attribute is bound to."""
        if node is None or hops > MAX_HOPS or not isinstance(node, ast.Name | ast.Attribute):
            return _unwrap(node) if node is not None else None
        if isinstance(node, ast.Name):
            for scope in reversed(self.scopes):
                values = scope.assignments.get(node.id)
                if values:
                    # A name assigned more than once stays unknown: it may hold any of them.
                    return self.value_of(values[0], hops + 1) if len(values) == 1 else None
        found = self.resolver(node) if self.resolver is not None else None
        return self.value_of(found, hops + 1) if found is not None else None

    def _is_jwt_decode(self, node: ast.Call) -> bool:
        func = node.func
        if isinstance(func, ast.Attribute) and func.attr in JWT_DECODERS | {"get_unverified_claims"}:
            return dotted(func.value) in self.jwt_modules
        return isinstance(func, ast.Name) and func.id in self.jwt_functions

    def _check_jwt(self, node: ast.Call) -> None:
        if any(k.arg is None for k in node.keywords):
            return  # **kwargs: cannot tell
        if call_name(node) == "get_unverified_claims":
            self.hit(
                node, "jwt-unverified", "jwt.get_unverified_claims() reads claims without verifying the token"
            )
            return
        keywords = {k.arg: k.value for k in node.keywords if k.arg}
        given = keywords.get("algorithms", node.args[2] if len(node.args) > 2 else None)
        algorithms = self.value_of(given)
        if given is None:
            self.hit(
                node,
                "jwt-verify",
                "jwt.decode() without algorithms= accepts the algorithm the token names; "
                "pin it, e.g. algorithms=['HS256']",
            )
        elif (culprit := self._none_in(algorithms)) is not None:
            where = _via(given) or _via(culprit)
            self.hit(node, "jwt-verify", "jwt.decode() allows the 'none' algorithm (unsigned tokens)" + where)
        options = self.value_of(keywords.get("options"))
        if isinstance(options, ast.Dict):
            for key, value in zip(options.keys, options.values, strict=False):
                key_value = self.value_of(key) if key is not None else None
                name = key_value.value if isinstance(key_value, ast.Constant) else None
                resolved = self.value_of(value)
                if name in VERIFY_OPTIONS and isinstance(resolved, ast.Constant) and not resolved.value:
                    self.hit(
                        node,
                        "jwt-verify",
                        f"jwt.decode() with {name} False {VERIFY_OPTIONS[str(name)]}" + _via(value),
                    )
        verify = self.value_of(keywords.get("verify"))
        if isinstance(verify, ast.Constant) and verify.value is False:
            self.hit(
                node,
                "jwt-verify",
                "jwt.decode(verify=False) accepts forged tokens" + _via(keywords["verify"]),
            )

    def _none_in(self, algorithms: ast.AST | None) -> ast.AST | None:
        """The item of `algorithms` that is (or is bound to) the 'none' algorithm."""
        items = algorithms.elts if isinstance(algorithms, ast.List | ast.Tuple | ast.Set) else [algorithms]
        for item in items:
            value = self.value_of(item)
            if isinstance(value, ast.Constant) and str(value.value).lower() == "none":
                return item
        return None

    def _check_getenv(self, node: ast.Call) -> None:
        """os.getenv("JWT_SECRET", "dev-secret"): the default stands in for the secret when unset."""
        name = dotted(node.func)
        if not (name.endswith(("os.getenv", "environ.get", "environ.setdefault")) or name == "getenv"):
            return
        key = self.value_of(node.args[0])
        given = (
            node.args[1]
            if len(node.args) > 1
            else next((k.value for k in node.keywords if k.arg == "default"), None)
        )
        if (
            not isinstance(key, ast.Constant)
            or not isinstance(key.value, str)
            or not SECRET_NAME.search(key.value)
        ):
            return
        if is_literal_secret(self.value_of(given)):
            self.hit(
                node,
                "secret-default",
                f"{name}({key.value!r}, ...) falls back to a hard-coded secret{_via(given)}; "
                "fail when it is unset",
            )

    def check_or_default(self, node: ast.BoolOp) -> None:
        """os.getenv("SECRET_KEY") or "changeme": the literal is the secret whenever the variable is unset."""
        if not isinstance(node.op, ast.Or) or len(node.values) < 2:
            return
        first, fallback = node.values[0], self.value_of(node.values[-1])
        if not (isinstance(first, ast.Call) and call_name(first) in GETENV and first.args):
            return
        key = self.value_of(first.args[0])
        name = key.value if isinstance(key, ast.Constant) and isinstance(key.value, str) else ""
        reads_env = dotted(first.func).endswith(("getenv", "environ.get"))
        if name and SECRET_NAME.search(name) and reads_env and is_literal_secret(fallback):
            self.hit(
                node,
                "secret-default",
                f"{name} falls back to a hard-coded secret (`or` a literal); fail when it is unset",
            )


def _via(given: ast.AST | None) -> str:
    """Where the value came from, when a name stood in for it."""
    return f" (through `{ast.unparse(given)}`)" if isinstance(given, ast.Name | ast.Attribute) else ""
