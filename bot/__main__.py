"""Composition root and CLI: run | plan | local | demo | check | specs | schema | eval | action."""

# Nothing is imported here before the import path is safe: `python -m bot` puts the current
# directory (often the repository the model writes) first on sys.path, so the guard runs before
# any other import, `from __future__` included (see bot/pathguard.py). Everything else this module
# needs is imported inside the functions, after the guard; the console script (`specship`, which
# calls main()) runs it at the top of main().
import sys

from bot import pathguard

if __name__ == "__main__":
    pathguard.secure()

TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse
    from collections.abc import Callable, Sequence
    from types import FrameType

EXIT_OK = 0
EXIT_USER_ERROR = 1
EXIT_BUG = 3
EXIT_CANCELLED = 130

BUG_HINT = (
    "This is a bug in Specship, not in your repository. Please report it at "
    "https://github.com/specship/specship/issues with the log of this step "
    "(secrets are already redacted)."
)

# name -> (module:function, one-line help). Modules are imported only when their command runs,
# so `--help` never pays for anthropic, PyGithub or the gates.
COMMANDS: dict[str, tuple[str, str]] = {
    "run": ("bot.cli.run:main", "Handle the GitHub event of this workflow run (inside Actions)."),
    "plan": ("bot.cli.plan:main", "Print, as JSON, the jobs the current event implies."),
    "local": ("bot.cli.local:main", "Implement a feature on a local checkout (no GitHub)."),
    "demo": ("bot.cli.demo:main", "Run the bundled taskboard example end to end, offline."),
    "check": ("bot.cli.check:main", "Run the gates on a working tree; exit 1 on failure."),
    "specs": ("bot.cli.specs:main", "Show features, readiness and what changed."),
    "schema": ("bot.cli.schema:main", "Print the JSON Schema of .github/specship.yml."),
    "eval": ("bot.cli.eval:main", "Score Specship's verdicts against hidden acceptance tests (offline)."),
    "action": (
        "bot.cli.common:not_dispatched",
        "What the Docker action runs: the command its `command` input names (run, plan or check).",
    ),
}
# How to start again after Ctrl-C or a cancelled job, said where it happened.
CANCELLED_FIX = {
    "run": "Re-run the workflow or comment '/specship retry'.",
    "local": "Run the same command again: Specship's branch keeps what was committed.",
    "demo": "Run `make demo` again.",
}
CANCELLED_FIX_OTHER = "Run the command again."


class Cancelled(BaseException):
    """The runner cancelled the job (SIGTERM) or the user pressed Ctrl-C."""


def build_parser() -> "argparse.ArgumentParser":
    """The CLI; arguments live here so `--help` imports nothing heavy."""
    import argparse

    class Formatter(argparse.HelpFormatter):
        # argparse's own width lookup imports shutil (and with it bz2, lzma, zlib): as much again
        # as the rest of `--help`. Same rule as shutil.get_terminal_size: $COLUMNS, the terminal, 80.
        def __init__(self, prog: str) -> None:
            super().__init__(prog, width=_terminal_columns() - 2)

    parser = argparse.ArgumentParser(
        prog="specship",
        description="Turn Spec Kit specifications into tested, secure pull requests.",
        formatter_class=Formatter,
    )
    parser.add_argument("--version", action=_version_action(), nargs=0, help="show the version and exit")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    cmds = {
        name: sub.add_parser(name, help=help_, description=help_, formatter_class=Formatter)
        for name, (_, help_) in COMMANDS.items()
    }

    cmds["run"].add_argument("--dry-run", action="store_true", help="decide and print, write nothing")
    cmds["plan"].add_argument("--event-name", help="default: $GITHUB_EVENT_NAME")
    cmds["plan"].add_argument("--event-path", help="default: $GITHUB_EVENT_PATH")
    cmds["plan"].add_argument("--repo", default=".", help="checkout used for git diffs (default: .)")

    for name in ("local", "demo"):
        cmds[name].add_argument(
            "--model",
            help="'scripted:FILE' replays a scenario; default: Claude if ANTHROPIC_API_KEY is set",
        )
    for name in ("local", "demo"):
        cmds[name].add_argument(
            "--yes", action="store_true", help="skip the pause that lets you stop before the model is called"
        )
    cmds["local"].add_argument("--repo", default=".", help="the repository (default: .)")
    cmds["local"].add_argument(
        "--feature", required=True, help="feature folder name, e.g. 002-task-due-dates"
    )
    cmds["local"].add_argument("--base", help="base revision (default: HEAD)")

    cmds["check"].add_argument("--repo", default=".", help="the repository (default: .)")
    cmds["check"].add_argument(
        "--base", help="base revision for the diff (default: merge base with the default branch)"
    )
    cmds["check"].add_argument("--feature", help="feature whose contracts to check")
    cmds["check"].add_argument("--format", choices=("text", "json", "sarif", "github"), default="text")
    cmds["check"].add_argument(
        "--author",
        choices=("auto", "human", "agent"),
        default="auto",
        help="whose change this is: agent on a Specship branch, else human (default: auto)",
    )

    cmds["specs"].add_argument("--repo", default=".", help="the repository (default: .)")
    cmds["specs"].add_argument("--json", action="store_true", help="machine-readable output")
    cmds["specs"].add_argument("--since", metavar="REV", help="also report what changed since REV")
    cmds["specs"].add_argument(
        "--rev", default=None, help="read the specs at this revision (default: work tree)"
    )
    cmds["schema"].add_argument("--format", choices=("json", "markdown"), default="json")
    cmds["eval"].add_argument("--tasks", nargs="+", help="corpus.yaml paths or task names (default: all)")
    cmds["eval"].add_argument("--model", help="a live run: the real agent with this model (spends money)")
    cmds["eval"].add_argument("--repeat", type=int, default=1, help="runs per session (default: 1)")
    cmds["eval"].add_argument("--out", default="eval-out", help="where eval.json/.md/.svg go")
    return parser


def _terminal_columns() -> int:
    """The terminal's width as shutil.get_terminal_size() finds it, without importing shutil."""
    import os

    try:
        columns = int(os.environ.get("COLUMNS", "0"))
    except ValueError:
        columns = 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns if sys.__stdout__ else 0
        except (AttributeError, ValueError, OSError):
            columns = 0
    return columns or 80


def _version_action() -> "type[argparse.Action]":
    """`--version` that reads the version only when asked: importlib.metadata costs more than the
    whole parser, and `--help` (or any command) never needs it."""
    import argparse

    class VersionAction(argparse.Action):
        def __call__(self, parser: "argparse.ArgumentParser", *_: object) -> None:
            sys.stdout.write(f"specship {version()}\n")
            parser.exit()

    return VersionAction


def version() -> str:
    """The installed distribution's version, else pyproject.toml's beside the package (the image
    copies the source without installing it), else 'unknown'."""
    import importlib.metadata
    from pathlib import Path

    try:
        return importlib.metadata.version("specship")
    except importlib.metadata.PackageNotFoundError:
        pass
    import tomllib

    try:
        with (Path(__file__).resolve().parents[1] / "pyproject.toml").open("rb") as handle:
            return str(tomllib.load(handle)["project"]["version"])
    except (OSError, KeyError, tomllib.TOMLDecodeError):
        return "unknown"


def _resolve(target: str) -> "Callable[[argparse.Namespace], int]":
    import importlib

    module_name, func_name = target.split(":")
    func: Callable[[argparse.Namespace], int] = getattr(importlib.import_module(module_name), func_name)
    return func


ALREADY_STOPPING = (
    "specship: signal {signum} ignored: already stopping, finishing the cleanup (WIP commit, push, "
    "the final status comment)\n"
)


class _Signals:
    """The first SIGTERM or SIGINT cancels the run; later ones are noted and ignored, so the cleanup
    the first one started (WIP commit, push, the final tracking comment) is never cut short."""

    def __init__(self) -> None:
        self.received: list[int] = []

    def __call__(self, signum: int, frame: "FrameType | None") -> None:
        self.received.append(signum)
        if len(self.received) == 1:
            raise Cancelled(f"received signal {signum}")
        import os

        # os.write, not print: a handler may interrupt a write to stderr already in progress.
        os.write(2, ALREADY_STOPPING.format(signum=signum).encode())


def main(argv: "Sequence[str] | None" = None) -> int:
    """Parse arguments, run one command, and turn every way of ending into an exit code.

    Without `argv` this is the program (the `specship` command): the import path is made safe
    first. With `argv`, a caller that embeds Specship owns its own process.
    """
    if argv is None:
        pathguard.secure()
    import os

    parser = build_parser()
    args = parser.parse_args(argv)
    # Imported only once a command runs: `--help` and argument errors exit inside parse_args, and
    # bot.actions (with the redactor) is most of what they would otherwise import.
    import signal

    from bot import actions
    from bot.exceptions import FatalError

    handler = _Signals()
    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        if args.command == "action":
            from bot.cli.common import action_argv

            args = parser.parse_args(action_argv(os.environ))
        return _resolve(COMMANDS[args.command][0])(args)
    except FatalError as exc:
        actions.fail(exc.cause, exc.fix, file=exc.file, line=exc.line)
        return EXIT_USER_ERROR
    except (Cancelled, KeyboardInterrupt):
        actions.fail("The run was cancelled.", CANCELLED_FIX.get(args.command, CANCELLED_FIX_OTHER))
        return EXIT_CANCELLED
    except Exception as exc:  # the one place that turns a bug into exit 3 instead of a traceback
        actions.bug(exc, BUG_HINT, show_traceback=bool(os.environ.get("SPECSHIP_DEBUG")))
        return EXIT_BUG
    finally:
        for sig, before in previous.items():
            signal.signal(sig, before)


if __name__ == "__main__":
    sys.exit(main())
