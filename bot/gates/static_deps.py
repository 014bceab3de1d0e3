"""Dependencies read from the source: Depends/Security calls, Annotated aliases, security scheme classes."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import replace

from bot.gates.app_model import DependencyInfo
from bot.gates.app_source import FUNCS
from bot.gates.static_index import (
    MAX_DEPTH,
    PARAM_FUNCTIONS,
    SECURITY_CLASSES,
    FunctionNode,
    Module,
    Ref,
    Scope,
    SourceNames,
)


class DependencyReader(SourceNames):
    """What FastAPI would call before an endpoint, as far as the source tells."""

    # -- dependencies ----------------------------------------------------------------------------
    def param_function(self, module: Module, expr: ast.expr, scope: Scope | None = None) -> str:
        """`Depends`, `Security`, `Query`, ... when `expr` calls one of FastAPI's parameter functions."""
        if not isinstance(expr, ast.Call):
            return ""
        ref = self.evaluate(module, expr.func, scope)
        dotted = ref.dotted if ref is not None and ref.kind == "external" else ""
        if not dotted and ref is None and isinstance(expr.func, ast.Name):
            dotted = f"?.{expr.func.id}"  # unresolvable (a star import of fastapi, say)
        last = dotted.rpartition(".")[2]
        return last if last in PARAM_FUNCTIONS and dotted.startswith(("fastapi", "?")) else ""

    def depends(
        self, module: Module, call: ast.expr, scope: Scope | None = None, *,
        annotation: ast.expr | None = None, param: str | None = None, depth: int = 0,
    ) -> DependencyInfo | None:  # fmt: skip
        """The dependency a `Depends(x)` / `Security(x, scopes=[...])` call declares."""
        kind = self.param_function(module, call, scope)
        if kind not in ("Depends", "Security") or not isinstance(call, ast.Call):
            return None
        kwargs = {k.arg: k.value for k in call.keywords if k.arg}
        target = call.args[0] if call.args else kwargs.get("dependency") or annotation
        scopes: tuple[str, ...] = ()
        listed = kwargs.get("scopes")
        if isinstance(listed, ast.List | ast.Tuple):
            scopes = tuple(s for s in (self.string(module, e, scope) for e in listed.elts) if s)
        info = self.callable_info(module, target, scope, depth)
        return replace(info, param=param, scopes=scopes)

    def callable_info(
        self, module: Module, expr: ast.expr | None, scope: Scope | None, depth: int
    ) -> DependencyInfo:
        """Name, security scheme and sub-dependencies of whatever FastAPI would call for `expr`."""
        ref = self.evaluate(module, expr, scope) if expr is not None else None
        text = ast.unparse(expr) if expr is not None else "?"
        if ref is None or depth > MAX_DEPTH:
            return DependencyInfo(text.rpartition(".")[2], text)
        if ref.kind == "def" and ref.module is not None:
            return DependencyInfo(
                ref.node.name, ref.dotted or f"{ref.module.name}.{ref.node.name}",
                children=tuple(d for _, d in self.parameters(ref.module, ref.node, depth=depth + 1)),
                file=ref.module.rel, line=ref.node.lineno,
            )  # fmt: skip
        if ref.kind == "class" and ref.module is not None:
            init = self.method(ref, "__init__", depth)
            children = tuple(d for _, d in self.parameters(init[0], init[1], True, depth + 1)) if init else ()
            return DependencyInfo(ref.node.name, ref.dotted, children=children, file=ref.module.rel,
                                  line=ref.node.lineno)  # fmt: skip
        if ref.kind == "instance" and ref.cls is not None:
            return self._instance(ref, depth)
        if ref.kind == "external":
            return DependencyInfo(ref.dotted.rpartition(".")[2], ref.dotted)
        return DependencyInfo(text.rpartition(".")[2], text)

    def _instance(self, ref: Ref, depth: int) -> DependencyInfo:
        cls = ref.cls
        if cls is None:
            return DependencyInfo("?")
        call = ref.node if isinstance(ref.node, ast.Call) else None
        scheme_kw = next((k.value for k in call.keywords if k.arg == "scheme_name"), None) if call else None
        scheme = self.string(ref.module, scheme_kw, None) if ref.module and scheme_kw is not None else None
        optional = any(
            k.arg == "auto_error" and isinstance(k.value, ast.Constant) and k.value.value is False
            for k in (call.keywords if call else ())
        )
        if cls.kind == "external":
            last = cls.dotted.rpartition(".")[2]
            if cls.dotted.startswith("fastapi.security") or (
                cls.dotted.startswith("?") and last in SECURITY_CLASSES
            ):
                name = scheme or last
                return DependencyInfo(name, cls.dotted, security=name, optional=optional)
            return DependencyInfo(last, cls.dotted)
        if self.is_security_class(cls, depth):
            name = scheme or cls.node.name
            where = cls.module.rel if cls.module else None
            return DependencyInfo(
                name, cls.dotted, security=name, optional=optional, file=where, line=cls.node.lineno
            )
        found = self.method(cls, "__call__", depth)
        children = tuple(d for _, d in self.parameters(found[0], found[1], True, depth + 1)) if found else ()
        return DependencyInfo(cls.node.name, cls.dotted, children=children,
                              file=cls.module.rel if cls.module else None, line=cls.node.lineno)  # fmt: skip

    def _bases(self, cls: Ref) -> Iterator[Ref]:
        if cls.module is None or not isinstance(cls.node, ast.ClassDef):
            return
        for base in cls.node.bases:
            found = self.evaluate(cls.module, base)
            if found is not None:
                yield found

    def is_security_class(self, cls: Ref, depth: int = 0) -> bool:
        """An app class deriving (at any distance) from a fastapi.security scheme class."""
        if depth > MAX_DEPTH:
            return False
        for base in self._bases(cls):
            if base.kind == "external" and base.dotted.startswith("fastapi.security"):
                return True
            if base.kind == "class" and self.is_security_class(base, depth + 1):
                return True
        return False

    def method(self, cls: Ref, name: str, depth: int = 0) -> tuple[Module, FunctionNode] | None:
        """A method defined by an app class or one of its app base classes."""
        if depth > MAX_DEPTH or cls.module is None or not isinstance(cls.node, ast.ClassDef):
            return None
        for node in cls.node.body:
            if isinstance(node, FUNCS) and node.name == name:
                return cls.module, node
        for base in self._bases(cls):
            if base.kind == "class":
                found = self.method(base, name, depth + 1)
                if found is not None:
                    return found
        return None

    def parameters(
        self, module: Module, node: FunctionNode, skip_self: bool = False, depth: int = 0
    ) -> list[tuple[str, DependencyInfo]]:
        """The dependencies a function's parameters declare, in signature order."""
        if depth > MAX_DEPTH or id(node) in self._walking:
            return []  # a dependency cycle (FastAPI itself would recurse forever on it)
        self._walking.add(id(node))
        try:
            return self._parameters(module, node, skip_self, depth)
        finally:
            self._walking.discard(id(node))

    def _parameters(
        self, module: Module, node: FunctionNode, skip_self: bool, depth: int
    ) -> list[tuple[str, DependencyInfo]]:
        args = node.args
        positional = [*args.posonlyargs, *args.args]
        defaults: list[ast.expr | None] = [None] * (len(positional) - len(args.defaults)) + list(
            args.defaults
        )
        pairs = list(zip(positional, defaults, strict=True)) + list(
            zip(args.kwonlyargs, args.kw_defaults, strict=True)
        )
        if skip_self:
            pairs = pairs[1:]
        found = []
        for arg, default in pairs:
            annotation = arg.annotation
            if isinstance(annotation, ast.Constant) and isinstance(annotation.value, str):
                try:
                    annotation = ast.parse(annotation.value, mode="eval").body
                except SyntaxError:
                    annotation = None
            dep = self._annotated(module, annotation, arg.arg, depth) if annotation is not None else None
            if dep is None and default is not None:
                dep = self.depends(module, default, annotation=annotation, param=arg.arg, depth=depth)
            if dep is not None:
                found.append((arg.arg, dep))
        return found

    def _annotated(
        self, module: Module, annotation: ast.expr, param: str, depth: int
    ) -> DependencyInfo | None:
        """The dependency in `Annotated[T, Depends(x)]`, written out or through an alias (any module)."""
        for _ in range(8):
            if isinstance(annotation, ast.Subscript):
                base = self.evaluate(module, annotation.value)
                if base is None or base.kind != "external" or not base.dotted.endswith("Annotated"):
                    return None
                items = (
                    annotation.slice.elts if isinstance(annotation.slice, ast.Tuple) else [annotation.slice]
                )
                # FastAPI uses the last of its own markers in the metadata.
                markers = [m for m in items[1:] if self.param_function(module, m)]
                if not markers:
                    return None
                return self.depends(module, markers[-1], annotation=items[0], param=param, depth=depth)
            if not isinstance(annotation, ast.Name | ast.Attribute):
                return None
            ref = self.evaluate(module, annotation)
            if ref is None or ref.kind != "value" or ref.module is None:
                return None
            module, annotation = ref.module, ref.node
        return None

    def dependency_list(
        self, module: Module, expr: ast.expr | None, scope: Scope | None, depth: int = 0
    ) -> list[tuple[Module, ast.expr, Scope | None]]:
        if expr is None or depth > MAX_DEPTH:
            return []
        if isinstance(expr, ast.List | ast.Tuple):
            return [(module, item, scope) for item in expr.elts]
        if isinstance(expr, ast.BinOp) and isinstance(expr.op, ast.Add):
            return self.dependency_list(module, expr.left, scope, depth + 1) + self.dependency_list(
                module, expr.right, scope, depth + 1
            )
        ref = (
            self.evaluate(module, expr, scope, depth + 1)
            if isinstance(expr, ast.Name | ast.Attribute)
            else None
        )
        if ref is not None and ref.kind == "value" and ref.module is not None:
            return self.dependency_list(ref.module, ref.node, None, depth + 1)
        return []
