"""Stateful GitHub REST emulator on 127.0.0.1 for the real PyGithub client, with fault injection."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import socket
import tempfile
import threading
import time
import urllib.parse
import uuid
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any

from tests.fakes.github_checks import App
from tests.fakes.github_faults import (
    SECONDARY_MESSAGE,
    WRITE_METHODS,
    Fault,
    Injection,
    RecordedRequest,
    error_body,
)
from tests.fakes.github_graphql import GraphQLHandlers
from tests.fakes.github_handlers import Handlers
from tests.fakes.github_openapi import docs_url
from tests.fakes.github_render import Renderer
from tests.fakes.github_routes import PAGINATED, ApiError, Ctx, Reply, match
from tests.fakes.github_state import Repo, Token, World

__all__ = ["Fault", "GitHubEmulator", "Injection", "RecordedRequest"]


class GitHubEmulator:
    """Serve GitHub's REST API from in-memory state and real bare git repositories.

    Usage: ``with GitHubEmulator() as emu: emu.add_repo("o/r"); emu.add_token("t", "alice")``, then
    ``github.Github(auth=Auth.Token("t"), base_url=emu.url)``; push with ``git push <emu.bare_repo_path>``.
    """

    def __init__(
        self, *, html_url: str = "https://github.com", clock: Callable[[], float] = time.time
    ) -> None:
        self._tmp = Path(tempfile.mkdtemp(prefix="github-emu-"))
        self.world = World(self._tmp / "repos", clock=clock)
        self.html_url = html_url
        self._requests: list[RecordedRequest] = []
        self._injections: list[Injection] = []
        self._record_lock = threading.Lock()
        self._writes: list[float] = []
        self._write_limit: tuple[int, float] | None = None
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.url = ""
        self.handlers: Handlers | None = None
        self.check_conformance = True

    # ---- lifecycle -------------------------------------------------------------------------

    def start(self) -> GitHubEmulator:
        """Bind a free port on 127.0.0.1 and serve in a background thread."""
        emulator = self

        class Handler(_RequestHandler):
            emu = emulator

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        self._server = server
        self.url = f"http://127.0.0.1:{server.server_address[1]}"
        self.handlers = GraphQLHandlers(self.world, Renderer(self.world, self.url, self.html_url))
        self._thread = threading.Thread(
            target=server.serve_forever, args=(0.05,), name="github-emulator", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and delete the bare repositories."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        shutil.rmtree(self._tmp, ignore_errors=True)

    def __enter__(self) -> GitHubEmulator:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # ---- state set-up ----------------------------------------------------------------------

    def add_repo(
        self,
        full_name: str,
        *,
        default_branch: str = "main",
        private: bool = False,
        description: str | None = None,
        initial_files: dict[str, str | bytes | None] | None = None,
        fork_of: str | None = None,
    ) -> Repo:
        """Create a repository; initial_files (default a README) become the first commit."""
        return self.world.add_repo(
            full_name,
            default_branch=default_branch,
            private=private,
            description=description,
            initial_files=initial_files,
            fork_of=fork_of,
        )

    def repo(self, full_name: str) -> Repo:
        """The repository's state (issues, pulls, comments, labels, collaborators, git)."""
        found = self.world.repo(full_name)
        if found is None:
            raise KeyError(full_name)
        return found

    @property
    def bare_repo_path(self) -> Path:
        """The bare git repository of the first repository added (push to it with `git push`)."""
        return next(iter(self.world.repos.values())).git.path

    def bare_path(self, full_name: str) -> Path:
        """The bare git repository behind full_name."""
        return self.repo(full_name).git.path

    def add_user(self, login: str, *, type: str = "User", site_admin: bool = False) -> None:
        """Register an account; type "Bot" makes the permission API answer 404 "<login> is not a user"."""
        self.world.add_user(login, type=type, site_admin=site_admin)

    def add_token(
        self,
        token: str,
        login: str,
        *,
        installation: bool = False,
        permissions: dict[str, str] | None = None,
        limit: int | None = None,
    ) -> Token:
        """Register a token. installation=True behaves like GITHUB_TOKEN (GET /user is 403;
        permissions such as {"issues": "write", "pull-requests": "write", "contents": "write"}
        are enforced with 403 "Resource not accessible by integration")."""
        return self.world.add_token(
            token, login, installation=installation, permissions=permissions, limit=limit
        )

    def set_permission(self, full_name: str, login: str, role: str) -> None:
        """Collaborator role: admin, maintain, write, triage, read or none."""
        self.world.set_permission(full_name, login, role)

    def add_app(self, slug: str, **kwargs: Any) -> App:
        """Register a GitHub App whose bot account is `<slug>[bot]` (kwargs: name, owner)."""
        return self.world.add_app(slug, **kwargs)

    def set_drafts_supported(self, full_name: str, supported: bool) -> None:
        """False: the plan has no draft pull requests here (a private repository on GitHub Free)."""
        self.repo(full_name).drafts_supported = supported

    def set_actions_can_create_prs(self, full_name: str, allowed: bool) -> None:
        """The "Allow GitHub Actions to create and approve pull requests" setting."""
        self.repo(full_name).actions_can_approve_prs = allowed

    def set_rate_limit(self, token: str, *, remaining: int, reset_in: int = 3600) -> None:
        """Set a token's primary rate-limit budget; at 0 requests get 403 `API rate limit exceeded`."""
        with self.world.lock:
            tok = self.world.tokens[token]
            tok.used = tok.limit - remaining
            tok.reset_at = int(self.world.clock()) + reset_in

    def limit_content_creation(self, max_requests: int, window: float = 60.0) -> None:
        """Answer write requests beyond max_requests per window with a 403 secondary rate limit."""
        self._write_limit = (max_requests, window)

    def add_issue(self, full_name: str, title: str, **kwargs: Any) -> int:
        """Create an issue directly; returns its number (kwargs: body, author, labels, author_association)."""
        return self.world.add_issue(full_name, title, **kwargs).number

    def add_comment(self, full_name: str, number: int, body: str, **kwargs: Any) -> int:
        """Create a comment directly; returns its id (kwargs: author, author_association)."""
        return self.world.add_comment(full_name, number, body, **kwargs).id

    def add_review(self, full_name: str, number: int, **kwargs: Any) -> int:
        """Add a review (kwargs: author, state, body); returns its id."""
        return self.world.add_review(full_name, number, **kwargs).id

    def add_review_comment(self, full_name: str, number: int, **kwargs: Any) -> int:
        """Add a review comment (kwargs: author, body, path, line, review_id); returns its id."""
        return self.world.add_review_comment(full_name, number, **kwargs).id

    def merge_pull(self, full_name: str, number: int, *, by: str) -> None:
        """Mark a pull request merged and closed."""
        self.world.merge_pull(full_name, number, by=by)

    def commit_files(
        self,
        full_name: str,
        branch: str,
        files: dict[str, str | bytes | None],
        message: str = "Update",
        start: str | None = None,
    ) -> str:
        """Commit files (None deletes) onto branch of the bare repo without a checkout; a new
        branch starts at start (default: the default branch). Returns the commit sha."""
        with self.world.lock:
            return self.repo(full_name).git.commit_files(branch, files, message, start)

    # ---- faults and records ----------------------------------------------------------------

    def inject(self, method: str, path_regex: str, fault: Fault, times: int | None = 1) -> Injection:
        """Answer the next `times` requests (None: all) whose method matches ("*" = any) and whose
        path matches path_regex (re.search, path without query) with fault."""
        injection = Injection(method.upper(), re.compile(path_regex), fault, times)
        with self._record_lock:
            self._injections.append(injection)
        return injection

    def clear_faults(self) -> None:
        """Drop every injected fault."""
        with self._record_lock:
            self._injections.clear()

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every request answered so far, oldest first (a copy)."""
        with self._record_lock:
            return list(self._requests)

    def calls(
        self, method: str | None = None, path_regex: str | None = None, status: int | None = None
    ) -> list[RecordedRequest]:
        """Recorded requests filtered by method, path regex (re.search) and status."""
        return [
            r
            for r in self.requests
            if method in (None, r.method)
            and (path_regex is None or re.search(path_regex, r.path))
            and status in (None, r.status)
        ]

    def bare_head_queries(self) -> list[RecordedRequest]:
        """`GET .../pulls?head=<branch>` without `owner:` - GitHub ignores such a filter."""
        return [
            r for r in self.calls("GET", r"/pulls$") if any(":" not in h for h in r.query.get("head", []))
        ]

    def clear_requests(self) -> None:
        """Forget the recorded requests."""
        with self._record_lock:
            self._requests.clear()

    # ---- request processing (called from the server threads) ------------------------------

    def _take_fault(self, method: str, path: str) -> Fault | None:
        with self._record_lock:
            for injection in self._injections:
                if injection.applies(method, path):
                    if injection.remaining is not None:
                        injection.remaining -= 1
                    injection.hits += 1
                    return injection.fault
        return None

    def _record(self, entry: RecordedRequest) -> None:
        with self._record_lock:
            self._requests.append(entry)

    def _secondary_limited(self, method: str) -> bool:
        if method not in WRITE_METHODS or self._write_limit is None:
            return False
        count, window = self._write_limit
        now = time.monotonic()
        with self._record_lock:
            self._writes = [t for t in self._writes if now - t < window]
            if len(self._writes) >= count:
                return True
            self._writes.append(now)
        return False

    def _rate_headers(self, tok: Token | None, counted: bool) -> dict[str, str]:
        if tok is None:
            return {}
        with self.world.lock:
            if counted:
                tok.used += 1
            return {
                "x-ratelimit-limit": str(tok.limit),
                "x-ratelimit-remaining": str(max(tok.limit - tok.used, 0)),
                "x-ratelimit-reset": str(tok.reset_at),
                "x-ratelimit-used": str(tok.used),
                "x-ratelimit-resource": "core",
            }

    def handle(self, ctx: Ctx) -> tuple[int, Any, dict[str, str], str | None, str | None]:
        """Answer one request: (status, json body or None, headers, operation, fault kind)."""
        found = match(ctx.method, ctx.path)
        operation = found[0].operation if found else None
        fault = self._take_fault(ctx.method, ctx.path)
        if fault is not None and fault.delay:
            time.sleep(fault.delay)
        if fault is not None and not fault.after_effect and fault.transform is None:
            return fault.status, fault.body, self._fault_headers(ctx, fault), operation, fault.kind
        status, body, headers = self._dispatch(ctx, found)
        if fault is not None and fault.transform is not None:
            return status, fault.transform(body), headers, operation, fault.kind
        if fault is not None:
            return fault.status, fault.body, self._fault_headers(ctx, fault), operation, fault.kind
        return status, body, headers, operation, None

    def _fault_headers(self, ctx: Ctx, fault: Fault) -> dict[str, str]:
        headers = self._rate_headers(ctx.token, counted=True)
        if fault.reset_in is not None:
            reset = int(self.world.clock()) + fault.reset_in
            limit = headers.get("x-ratelimit-limit", "5000")
            headers.update(
                {
                    "x-ratelimit-limit": limit,
                    "x-ratelimit-remaining": "0",
                    "x-ratelimit-reset": str(reset),
                    "x-ratelimit-used": limit,
                    "x-ratelimit-resource": "core",
                }
            )
        headers.update(fault.headers)
        return headers

    def _dispatch(self, ctx: Ctx, found: Any) -> tuple[int, Any, dict[str, str]]:
        counted = ctx.path != "/rate_limit"
        tok = ctx.token
        if tok is not None and counted and tok.used >= tok.limit:
            body = error_body(403, f"API rate limit exceeded for user ID {tok.login}.")
            headers = self._rate_headers(tok, counted=False)
            return 403, body, headers
        if self._secondary_limited(ctx.method):
            return 403, error_body(403, SECONDARY_MESSAGE), self._rate_headers(tok, counted=True)
        headers = self._rate_headers(tok, counted)
        if found is None:
            return 404, error_body(404, "Not Found"), headers
        route, params = found
        ctx.params = params
        assert self.handlers is not None
        try:
            with self.world.lock:
                reply: Reply = getattr(self.handlers, route.handler)(ctx)
        except ApiError as err:
            body = err.body(docs_url(route.operation) or "https://docs.github.com/rest")
            return err.status, body, {**headers, **err.headers}
        if route.handler in PAGINATED and isinstance(reply.body, list):
            reply = self._paginate(ctx, reply)
        return reply.status, reply.body, {**headers, **reply.headers}

    def _paginate(self, ctx: Ctx, reply: Reply) -> Reply:
        items: list[Any] = reply.body
        per_page = max(1, min(100, _int(ctx.q("per_page"), 30)))
        page = max(1, _int(ctx.q("page"), 1))
        last = max(1, -(-len(items) // per_page))
        links = []

        def link(number: int, rel: str) -> str:
            query = {k: v for k, v in ctx.query.items() if k != "page"}
            query["page"] = [str(number)]
            return f'<{self.url}{ctx.path}?{urllib.parse.urlencode(query, doseq=True)}>; rel="{rel}"'

        if page > 1:
            links.append(link(page - 1, "prev"))
        if page < last:
            links.append(link(page + 1, "next"))
            links.append(link(last, "last"))
        if page > 1:
            links.append(link(1, "first"))
        headers = dict(reply.headers)
        if links:
            headers["link"] = ", ".join(links)
        return Reply(reply.status, items[(page - 1) * per_page : page * per_page], headers)


def _int(value: str | None, default: int) -> int:
    try:
        return int(value) if value is not None else default
    except ValueError:
        return default


class _RequestHandler(BaseHTTPRequestHandler):
    """HTTP/1.1 front end: parse, authenticate, answer, record."""

    protocol_version = "HTTP/1.1"
    server_version = "GitHub.com"
    sys_version = ""
    timeout = 10
    emu: GitHubEmulator

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: Any) -> None:
        return

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def do_PATCH(self) -> None:
        self._serve()

    def do_PUT(self) -> None:
        self._serve()

    def do_DELETE(self) -> None:
        self._serve()

    def _serve(self) -> None:
        started = time.time()
        parsed = urllib.parse.urlsplit(self.path)
        query = urllib.parse.parse_qs(parsed.query, keep_blank_values=True)
        headers = {k.lower(): v for k, v in self.headers.items()}
        length = int(headers.get("content-length") or 0)
        raw = self.rfile.read(length) if length else b""
        body: Any = None
        bad_json = False
        if raw:
            try:
                body = json.loads(raw)
            except ValueError:
                bad_json = True
        token, auth_error = self._authenticate(headers.get("authorization"))
        ctx = Ctx(self.command, parsed.path, query, headers, body, token)
        operation: str | None = None
        fault_kind: str | None = None
        out_headers: dict[str, str]
        if auth_error is not None:
            status, payload, out_headers = 401, auth_error, {}
        elif bad_json:
            status, payload, out_headers = 400, error_body(400, "Problems parsing JSON"), {}
        else:
            status, payload, out_headers, operation, fault_kind = self.emu.handle(ctx)
        status, data, out_headers = self._finish(ctx, status, payload, out_headers)
        # record before answering, so a client that has its response also sees the record
        self.emu._record(
            RecordedRequest(
                method=self.command,
                path=parsed.path,
                query=query,
                headers=headers,
                json=body,
                status=status,
                timestamp=started,
                operation=operation,
                login=token.login if token else None,
                response_json=payload if status != 304 else None,
                response_headers=out_headers,
                fault=fault_kind,
            )
        )
        self._send(status, data, out_headers)

    def _authenticate(self, value: str | None) -> tuple[Token | None, dict[str, Any] | None]:
        if not value:
            return None, None
        scheme, _, secret = value.partition(" ")
        token = self.emu.world.tokens.get(secret.strip()) if scheme.lower() in ("token", "bearer") else None
        if token is None:
            return None, error_body(401, "Bad credentials")
        return token, None

    def _finish(
        self, ctx: Ctx, status: int, payload: Any, headers: dict[str, str]
    ) -> tuple[int, bytes, dict[str, str]]:
        data = b"" if payload is None else json.dumps(payload).encode()
        out = {
            "content-type": "application/json; charset=utf-8",
            "x-github-media-type": "github.v3; format=json",
            "x-github-api-version-selected": "2022-11-28",
            "x-github-request-id": uuid.uuid4().hex[:20].upper(),
            **headers,
        }
        if ctx.method == "GET" and status == 200:
            etag = 'W/"' + hashlib.sha256(data).hexdigest() + '"'
            out["etag"] = etag
            wanted = {v.strip() for v in ctx.headers.get("if-none-match", "").split(",")}
            if etag in wanted or etag.removeprefix("W/") in wanted:
                if ctx.token is not None:  # like GitHub, a 304 does not count against the limit
                    with self.emu.world.lock:
                        ctx.token.used = max(ctx.token.used - 1, 0)
                        remaining = max(ctx.token.limit - ctx.token.used, 0)
                    out.update(
                        {"x-ratelimit-remaining": str(remaining), "x-ratelimit-used": str(ctx.token.used)}
                    )
                return 304, b"", out
        return status, data, out

    def _send(self, status: int, data: bytes, headers: dict[str, str]) -> None:
        self.send_response(status)
        for key, value in headers.items():
            if status in (204, 304) and key == "content-type":
                continue
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if data:
            self.wfile.write(data)
