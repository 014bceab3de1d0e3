"""Check runs in the GitHub emulator: the Checks API as GitHub answers it, per token type.

What GitHub does, and where that is documented or was observed:
- Only GitHub Apps may write checks. A personal access token gets 403 "You must authenticate via
  a GitHub App." (actions/github-script#118, EnricoMi/publish-unit-test-result-action#53); an
  installation token without `checks: write` gets 403 "Resource not accessible by integration".
- At most 50 annotations per request: 422 "Invalid request.\n\nNo more than 50 items are
  allowed; N were supplied." (qiniu/reviewbot#258); an update *appends* its annotations
  (REST docs, "Update a check run").
- Providing `conclusion` sets `status` to completed; the run's `app` is the token's App.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tests.fakes.github_render import Json
from tests.fakes.github_routes import ApiError, Ctx, HandlerBase, Reply, not_found
from tests.fakes.github_state import Repo, role_at_least

MAX_ANNOTATIONS = 50
TEXT_LIMIT = 65535
LEVELS = ("notice", "warning", "failure")
CONCLUSIONS = ("action_required", "cancelled", "failure", "neutral", "success", "skipped", "timed_out")
STATUSES = ("queued", "in_progress", "completed")
APP_ONLY = "You must authenticate via a GitHub App."


@dataclass
class App:
    """A GitHub App: its bot account is `<slug>[bot]`."""

    id: int
    slug: str
    name: str
    owner: str
    permissions: dict[str, str] = field(default_factory=dict)

    @property
    def login(self) -> str:
        return f"{self.slug}[bot]"


@dataclass
class CheckRun:
    """One check run on a commit."""

    id: int
    suite_id: int
    app: str  # the App's bot login
    name: str
    head_sha: str
    status: str
    conclusion: str | None
    started_at: float
    completed_at: float | None = None
    details_url: str | None = None
    external_id: str | None = None
    title: str | None = None
    summary: str | None = None
    text: str | None = None
    annotations: list[Json] = field(default_factory=list)


def invalid_request(detail: str) -> ApiError:
    """GitHub's schema-validation answer: 422 `Invalid request.` and what was wrong."""
    return ApiError(422, f"Invalid request.\n\n{detail}")


class CheckHandlers(HandlerBase):
    """POST/PATCH/GET check runs, their annotations, and the check runs of a ref."""

    def _checks_writer(self, ctx: Ctx, repo: Repo) -> App:
        tok = ctx.token
        if tok is None:
            raise ApiError(401, "Requires authentication")
        if not tok.installation:
            raise ApiError(403, APP_ONLY)
        app = self.world.app_of(tok.login)
        if app is None:
            raise ApiError(403, APP_ONLY)
        granted = {k.replace("-", "_"): v for k, v in (tok.permissions or {"checks": "write"}).items()}
        if not role_at_least(granted.get("checks"), "write"):
            raise ApiError(403, "Resource not accessible by integration")
        return app

    def _checks_reader(self, ctx: Ctx, repo: Repo) -> None:
        tok = ctx.token
        if tok is not None and tok.installation and tok.permissions is not None:
            granted = {k.replace("-", "_"): v for k, v in tok.permissions.items()}
            if not role_at_least(granted.get("checks"), "read"):
                raise ApiError(403, "Resource not accessible by integration")
        elif tok is None and repo.private:
            raise not_found()

    def create_check_run(self, ctx: Ctx) -> Reply:
        repo = self.repo(ctx)
        app = self._checks_writer(ctx, repo)
        name, head_sha = ctx.field("name"), ctx.field("head_sha")
        for key, value in (("name", name), ("head_sha", head_sha)):
            if not isinstance(value, str) or not value:
                raise invalid_request(f'"{key}" wasn\'t supplied.')
        if repo.git.object_type(head_sha) != "commit":
            raise ApiError(422, f"No commit found for SHA: {head_sha}")
        now = self.world.clock()
        run = CheckRun(
            id=self.world.next_id(),
            suite_id=self._suite(repo, app.login, head_sha),
            app=app.login,
            name=name,
            head_sha=head_sha,
            status="queued",
            conclusion=None,
            started_at=now,
        )
        self._apply(run, ctx.body)
        repo.check_runs[run.id] = run
        return Reply(201, self.render_check_run(repo, run))

    def update_check_run(self, ctx: Ctx) -> Reply:
        repo = self.repo(ctx)
        app = self._checks_writer(ctx, repo)
        run = self._run(repo, ctx)
        if run.app != app.login:
            raise ApiError(403, "Resource not accessible by integration")
        self._apply(run, ctx.body)
        return Reply(200, self.render_check_run(repo, run))

    def get_check_run(self, ctx: Ctx) -> Reply:
        repo = self.repo(ctx)
        self._checks_reader(ctx, repo)
        return Reply(200, self.render_check_run(repo, self._run(repo, ctx)))

    def list_check_run_annotations(self, ctx: Ctx) -> Reply:
        repo = self.repo(ctx)
        self._checks_reader(ctx, repo)
        run = self._run(repo, ctx)
        return Reply(200, [self.render_annotation(repo, run, a) for a in run.annotations])

    def list_check_runs_for_ref(self, ctx: Ctx) -> Reply:
        repo = self.repo(ctx)
        self._checks_reader(ctx, repo)
        ref = ctx.params["ref"]
        sha = repo.git.resolve(ref)
        if sha is None:
            raise ApiError(422, f"No commit found for SHA: {ref}")
        wanted, status = ctx.q("check_name"), ctx.q("status")
        runs = [
            r
            for r in sorted(repo.check_runs.values(), key=lambda r: -r.id)
            if r.head_sha == sha and wanted in (None, r.name) and status in (None, r.status)
        ]
        if (ctx.q("filter") or "latest") == "latest":
            newest: dict[tuple[str, str], CheckRun] = {}
            for run in runs:
                newest.setdefault((run.app, run.name), run)
            runs = list(newest.values())
        per_page = max(1, min(100, int(ctx.q("per_page") or 30)))
        page = max(1, int(ctx.q("page") or 1))
        shown = runs[(page - 1) * per_page : page * per_page]
        return Reply(
            200, {"total_count": len(runs), "check_runs": [self.render_check_run(repo, r) for r in shown]}
        )

    # ---- helpers ---------------------------------------------------------------------------

    def _run(self, repo: Repo, ctx: Ctx) -> CheckRun:
        run = repo.check_runs.get(int(ctx.params["check_run_id"]))
        if run is None:
            raise not_found()
        return run

    def _suite(self, repo: Repo, app: str, head_sha: str) -> int:
        """One check suite per App and commit, like GitHub."""
        for run in repo.check_runs.values():
            if run.app == app and run.head_sha == head_sha:
                return run.suite_id
        return self.world.next_id()

    def _apply(self, run: CheckRun, body: Any) -> None:
        """Validate a create/update body like GitHub, then apply it (annotations append)."""
        fields = body if isinstance(body, dict) else {}
        status, conclusion = fields.get("status"), fields.get("conclusion")
        if status is not None and status not in STATUSES:
            raise invalid_request(f"For 'properties/status', {status!r} is not a member of {list(STATUSES)}.")
        if conclusion is not None and conclusion not in CONCLUSIONS:
            raise invalid_request(
                f"For 'properties/conclusion', {conclusion!r} is not a member of {list(CONCLUSIONS)}."
            )
        if status == "completed" and conclusion is None and run.conclusion is None:
            raise invalid_request("Missing conclusion: a completed check run needs a `conclusion`.")
        output = fields.get("output")
        annotations: list[Json] = []
        if output is not None:
            if not isinstance(output, dict):
                raise invalid_request("For 'properties/output', it is not an object.")
            for key in ("title", "summary"):
                if not isinstance(output.get(key), str):
                    raise invalid_request(f'"{key}" wasn\'t supplied.')
            for key in ("summary", "text"):
                value = output.get(key)
                if isinstance(value, str) and len(value) > TEXT_LIMIT:
                    raise invalid_request(
                        f"Only {TEXT_LIMIT} characters are allowed; {len(value)} were supplied."
                    )
            annotations = self._annotations(output.get("annotations"))
        for key in ("name", "details_url", "external_id"):
            if isinstance(fields.get(key), str):
                setattr(run, key, fields[key])
        if conclusion is not None:
            run.status, run.conclusion = "completed", conclusion
            run.completed_at = self.world.clock()
        elif status is not None:
            run.status = status
        if output is not None:
            run.title, run.summary = output["title"], output["summary"]
            run.text = output.get("text") if isinstance(output.get("text"), str) else run.text
            run.annotations.extend(annotations)

    def _annotations(self, items: Any) -> list[Json]:
        if items is None:
            return []
        if not isinstance(items, list):
            raise invalid_request("For 'properties/annotations', it is not an array.")
        if len(items) > MAX_ANNOTATIONS:
            raise invalid_request(
                f"No more than {MAX_ANNOTATIONS} items are allowed; {len(items)} were supplied."
            )
        kept = []
        for item in items:
            if not isinstance(item, dict):
                raise invalid_request("For 'items', it is not an object.")
            for key in ("path", "start_line", "end_line", "annotation_level", "message"):
                if key not in item:
                    raise invalid_request(f'"{key}" wasn\'t supplied.')
            if item["annotation_level"] not in LEVELS:
                raise invalid_request(
                    f"For 'properties/annotation_level', {item['annotation_level']!r} is not a member "
                    f"of {list(LEVELS)}."
                )
            if not all(isinstance(item[k], int) and item[k] >= 1 for k in ("start_line", "end_line")):
                raise invalid_request("For 'properties/start_line', it is not a positive integer.")
            kept.append(dict(item))
        return kept

    # ---- rendering ---------------------------------------------------------------------------

    def render_app(self, app: App) -> Json:
        owner = self.r.user(app.owner)
        return {
            "id": app.id,
            "slug": app.slug,
            "node_id": f"A_kwDO{app.id:08d}",
            "owner": owner,
            "name": app.name,
            "description": "",
            "external_url": f"{self.r.html}/apps/{app.slug}",
            "html_url": f"{self.r.html}/apps/{app.slug}",
            "created_at": self.world.iso(0),
            "updated_at": self.world.iso(0),
            "permissions": dict(app.permissions),
            "events": [],
        }

    def render_check_run(self, repo: Repo, run: CheckRun) -> Json:
        url = f"{self.r.api}/repos/{repo.full_name}/check-runs/{run.id}"
        app = self.world.app_of(run.app)
        pulls = [
            {
                "url": f"{self.r.api}/repos/{repo.full_name}/pulls/{p.number}",
                "id": p.id,
                "number": p.number,
                "head": {"ref": p.head_ref, "sha": run.head_sha, "repo": self._mini_repo(repo)},
                "base": {
                    "ref": p.base_ref,
                    "sha": self.world.base_sha(repo, p),
                    "repo": self._mini_repo(repo),
                },
            }
            for p in repo.pulls.values()
            if p.issue.state == "open" and p.head_repo == repo.full_name
            and self.world.head_sha(p) == run.head_sha
        ]  # fmt: skip
        return {
            "id": run.id,
            "head_sha": run.head_sha,
            "node_id": f"CR_kwDO{run.id:08d}",
            "external_id": run.external_id or "",
            "url": url,
            "html_url": f"{self.r.html}/{repo.full_name}/runs/{run.id}",
            "details_url": run.details_url or (f"{self.r.html}/apps/{app.slug}" if app else None),
            "status": run.status,
            "conclusion": run.conclusion,
            "started_at": self.world.iso(run.started_at),
            "completed_at": self.world.iso(run.completed_at),
            "output": {
                "title": run.title,
                "summary": run.summary,
                "text": run.text,
                "annotations_count": len(run.annotations),
                "annotations_url": f"{url}/annotations",
            },
            "name": run.name,
            "check_suite": {"id": run.suite_id},
            "app": self.render_app(app) if app else None,
            "pull_requests": pulls,
        }

    def _mini_repo(self, repo: Repo) -> Json:
        return {"id": repo.id, "url": f"{self.r.api}/repos/{repo.full_name}", "name": repo.name}

    def render_annotation(self, repo: Repo, run: CheckRun, item: Json) -> Json:
        path = str(item["path"])
        return {
            "path": path,
            "blob_href": f"{self.r.html}/{repo.full_name}/blob/{run.head_sha}/{path}",
            "start_line": item["start_line"],
            "end_line": item["end_line"],
            "start_column": item.get("start_column"),
            "end_column": item.get("end_column"),
            "annotation_level": item["annotation_level"],
            "title": item.get("title"),
            "message": item["message"],
            "raw_details": item.get("raw_details"),
        }
