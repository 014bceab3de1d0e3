"""Code that tampers with the test runner or proves nothing: outcome-changing hooks, exits, hollow tests."""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterable, Iterator

from bot import parsed
from bot.gates import Finding
from bot.gates.diffs import FileDiff, is_test_file

# Hooks that can only serve to skip, deselect or rewrite results: any new definition is refused.
ALWAYS_REFUSED = frozenset({
    "pytest_runtest_makereport", "pytest_runtest_protocol", "pytest_runtest_call",
    "pytest_runtest_setup", "pytest_runtest_logreport", "pytest_report_teststatus",
    "pytest_ignore_collect", "pytest_deselected", "pytest_pycollect_makeitem", "pytest_collect_file",
    "pytest_itemcollected", "pytest_collection_finish", "pytest_runtestloop", "pytest_collectreport",
    "pytest_make_collect_report", "pytest_runtest_logfinish", "pytest_collection",
})  # fmt: skip
HOOK = "adds the pytest hook {name}, which can skip, deselect or rewrite test results"
MODIFYITEMS = "pytest_collection_modifyitems {what}, so tests would not run or their failures would not count"
CONFIGURE = "pytest_configure {what}, which changes how pytest runs and reports"
EXITSTATUS = "sets pytest's exit status ({text}), which decides whether the run passed"
PLUGINS = "loads pytest plugins from the test code (pytest_plugins), which can rewrite results"
EXIT = "calls {name}, which ends the test process before or instead of pytest's own finish"
HANDLER = "registers {name}, which runs code after pytest has reported (or instead of it)"
INTERNALS = "uses pytest's internals ({name}), which can change how results are recorded"
CHANNEL = "{what}, where the test results are written; tests may not touch the report or its channel"
HOLLOW = "test {name} asserts nothing: it passes whatever the code does"
SWALLOW = "test {name} catches its own failure ({what}): it passes whatever the code does"

_PLUGIN_CALLS = frozenset({"register", "import_plugin", "consider_module", "consider_pluginarg"})
_HANDLERS = {
    ("atexit", "register"),
    ("signal", "signal"),
    ("signal", "setitimer"),
    ("faulthandler", "register"),
}
_RAW_FD = {("os", "write"), ("os", "dup2"), ("os", "fdopen"), ("os", "writev")}
_BROAD = frozenset({"AssertionError", "Exception", "BaseException"})
_CHECK_PREFIXES = ("assert", "check", "expect", "verify", "ensure")
_CHANNEL_WORDS = ("junit", "specship", "/proc/self/fd", "/dev/fd")
Funcs = ast.FunctionDef | ast.AsyncFunctionDef


def _dotted(node: ast.AST) -> tuple[str, ...]:
    if isinstance(node, ast.Attribute):
        return (*_dotted(node.value), node.attr)
    return (node.id,) if isinstance(node, ast.Name) else ()


def _own_nodes(function: Funcs) -> Iterator[ast.AST]:
    """The function's nodes, not those of functions or classes nested in it."""
    stack: list[ast.AST] = list(function.body)
    while stack:
        node = stack.pop()
        yield node
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef | ast.Lambda):
            stack.extend(ast.iter_child_nodes(node))


class _Reader:
    """One changed Python file: findings on what its added lines introduce."""

    def __init__(self, path: str, tree: ast.Module, added: set[int]) -> None:
        self.path, self.tree, self.added = path, tree, added
        self.test = is_test_file(path)
        self.findings: list[Finding] = []

    def hit(self, line: int, message: str, rule: str) -> None:
        self.findings.append(Finding(message, self.path, line, rule=rule))

    def new(self, node: ast.AST) -> bool:
        first = getattr(node, "lineno", 0)
        last = getattr(node, "end_lineno", None) or first
        return any(n in self.added for n in range(first, last + 1))

    def read(self) -> list[Finding]:
        for node in ast.walk(self.tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                self._function(node)
            elif isinstance(node, ast.Call) and self.new(node):
                self._call(node)
            elif isinstance(node, ast.Import | ast.ImportFrom) and self.new(node):
                self._import(node)
            elif isinstance(node, ast.Assign | ast.AugAssign | ast.AnnAssign) and self.new(node):
                self._assign(node)
            elif (
                isinstance(node, ast.Constant)
                and isinstance(node.value, str | bytes)
                and self.new(node)
                and self.test
            ):
                text = node.value.decode("utf-8", "replace") if isinstance(node.value, bytes) else node.value
                word = next((w for w in _CHANNEL_WORDS if w in text.lower()), None)
                if word:
                    self.hit(node.lineno, CHANNEL.format(what=f"names {word!r}"), "report-tamper")
        if self.test:
            self._module_exits()
        return self.findings

    # -- definitions ---------------------------------------------------------------------------------
    def _function(self, node: Funcs) -> None:
        header = {node.lineno, *(d.lineno for d in node.decorator_list)}
        name = node.name
        if name.startswith("pytest_") and self.new(node):
            self._hook(node)  # a new hook, or a change to an existing one
        if self.test and header & self.added and name.startswith("test"):
            self._test(node)

    def _hook(self, node: Funcs) -> None:
        name = node.name
        if name in ALWAYS_REFUSED:
            self.hit(node.lineno, HOOK.format(name=name), "pytest-hook")
        elif name == "pytest_collection_modifyitems":
            what = self._modifies_items(node)
            if what:
                self.hit(node.lineno, MODIFYITEMS.format(what=what), "pytest-hook")
        elif name == "pytest_configure":
            for sub in ast.walk(node):
                if (
                    isinstance(sub, ast.Call)
                    and isinstance(sub.func, ast.Attribute)
                    and sub.func.attr in _PLUGIN_CALLS
                ):
                    self.hit(sub.lineno, CONFIGURE.format(what="registers a plugin"), "pytest-hook")
                    return
                if isinstance(sub, ast.Assign) and any("option" in _dotted(t) for t in sub.targets):
                    self.hit(
                        sub.lineno, CONFIGURE.format(what="rewrites command-line options"), "pytest-hook"
                    )
                    return

    def _modifies_items(self, node: Funcs) -> str:
        for sub in ast.walk(node):
            if isinstance(sub, ast.Call) and isinstance(sub.func, ast.Attribute):
                text = ast.unparse(sub)
                if sub.func.attr == "add_marker" and ("skip" in text or "xfail" in text):
                    return "adds skip/xfail markers"
                if sub.func.attr in ("remove", "pop", "clear") and _dotted(sub.func.value)[-1:] == ("items",):
                    return "removes collected tests"
                if sub.func.attr == "pytest_deselected":
                    return "deselects tests"
            if isinstance(sub, ast.Assign | ast.Delete):
                targets = sub.targets
                if any(isinstance(t, ast.Subscript) and _dotted(t.value)[-1:] == ("items",) for t in targets):
                    return "replaces the collected tests"
        return ""

    def _test(self, node: Funcs) -> None:
        asserts = False
        for sub in _own_nodes(node):
            if isinstance(sub, ast.Assert | ast.Raise):
                asserts = True
            elif isinstance(sub, ast.Call):
                dotted = _dotted(sub.func)
                last = dotted[-1] if dotted else ""
                if dotted[:1] == ("pytest",) and last in ("raises", "warns", "fail", "deprecated_call"):
                    asserts = True
                if last.lower().lstrip("_").startswith(_CHECK_PREFIXES):
                    asserts = True
            if isinstance(sub, ast.Try):
                self._swallow(node.name, sub)
            if isinstance(sub, ast.With):
                for item in sub.items:
                    text = ast.unparse(item.context_expr)
                    broad = "suppress" in text and any(b in text for b in _BROAD)
                    if broad or ("raises" in text and "AssertionError" in text):
                        self.hit(
                            sub.lineno,
                            SWALLOW.format(name=node.name, what=text[:60]),
                            "test-swallows-failure",
                        )
        if not asserts:
            self.hit(node.lineno, HOLLOW.format(name=node.name), "test-asserts-nothing")

    def _swallow(self, name: str, node: ast.Try) -> None:
        checks = any(isinstance(n, ast.Assert) for stmt in node.body for n in ast.walk(stmt))
        for handler in node.handlers if checks else ():
            caught = handler.type
            names = {n.id for n in ast.walk(caught) if isinstance(n, ast.Name)} if caught else {"everything"}
            reraises = any(
                isinstance(n, ast.Raise)
                or (isinstance(n, ast.Call) and _dotted(n.func) == ("pytest", "fail"))
                for n in ast.walk(handler)
            )
            if (caught is None or names & _BROAD) and not reraises:
                what = f"except {ast.unparse(caught)}" if caught else "a bare except"
                self.hit(handler.lineno, SWALLOW.format(name=name, what=what), "test-swallows-failure")

    # -- statements --------------------------------------------------------------------------------
    def _call(self, node: ast.Call) -> None:
        dotted = _dotted(node.func)
        pair = dotted[-2:] if len(dotted) >= 2 else ()
        if pair == ("os", "_exit"):
            self.hit(node.lineno, EXIT.format(name="os._exit"), "runner-exit")
        elif not self.test:
            return
        elif pair in _HANDLERS:
            self.hit(node.lineno, HANDLER.format(name=".".join(pair)), "runner-handler")
        elif pair in _RAW_FD:
            self.hit(
                node.lineno,
                CHANNEL.format(what=f"writes to a raw file descriptor ({'.'.join(pair)})"),
                "report-tamper",
            )
        elif pair == ("os", "kill") and any(
            _dotted(getattr(a, "func", a))[-1:] in (("getpid",), ("getppid",)) for a in node.args
        ):
            self.hit(node.lineno, EXIT.format(name="os.kill on the test process"), "runner-exit")

    def _import(self, node: ast.Import | ast.ImportFrom) -> None:
        names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
        for name in names:
            if name.split(".")[0] == "_pytest":
                self.hit(node.lineno, INTERNALS.format(name=name), "pytest-internals")

    def _assign(self, node: ast.Assign | ast.AugAssign | ast.AnnAssign) -> None:
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        for target in targets:
            dotted = _dotted(target)
            if dotted[-1:] == ("exitstatus",):
                self.hit(node.lineno, EXITSTATUS.format(text=ast.unparse(target)), "pytest-hook")
            elif dotted == ("pytest_plugins",) and self.test:
                self.hit(node.lineno, PLUGINS, "pytest-hook")
            elif dotted[-2:] in (("sys", "excepthook"), ("threading", "excepthook")) and self.test:
                self.hit(node.lineno, HANDLER.format(name=".".join(dotted[-2:])), "runner-handler")

    def _module_exits(self) -> None:
        """sys.exit()/exit()/raise SystemExit at import time: the process ends while pytest collects."""
        for stmt in self.tree.body:
            if isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) or not self.new(stmt):
                continue
            for sub in ast.walk(stmt):
                if isinstance(sub, ast.Call) and _dotted(sub.func) in (("sys", "exit"), ("exit",), ("quit",)):
                    self.hit(
                        sub.lineno, EXIT.format(name=ast.unparse(sub.func) + " at import"), "runner-exit"
                    )
                elif (
                    isinstance(sub, ast.Raise)
                    and sub.exc is not None
                    and "SystemExit" in ast.unparse(sub.exc)
                ):
                    self.hit(sub.lineno, EXIT.format(name="raise SystemExit at import"), "runner-exit")


def runner_findings(files: Iterable[FileDiff], new_source: Callable[[str], bytes | None]) -> list[Finding]:
    """Every finding for the added lines of the changed Python files (test code and the rest)."""
    findings: list[Finding] = []
    for fd in files:
        if not fd.path.endswith(".py") or fd.status == "D":
            continue
        added = set(fd.added_lines())
        source = new_source(fd.path) if added else None
        if source is None:
            continue
        try:
            tree = parsed.parse(source, fd.path)
        except (SyntaxError, ValueError):
            continue  # bandit reports files that do not parse
        findings.extend(_Reader(fd.path, tree, added).read())
    return sorted(set(findings), key=lambda f: (f.file or "", f.line or 0, f.rule))
