"""Handlers for users, repositories, permissions, branches, git refs and pull requests."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.fakes.github_git import GitError
from tests.fakes.github_issue_handlers import IssueHandlers
from tests.fakes.github_render import Json
from tests.fakes.github_routes import ZERO_SHA, ApiError, Ctx, Reply, invalid, not_found
from tests.fakes.github_state import PullRequest, Repo


class Handlers(IssueHandlers):
    """Every implemented operation; method names are listed in ROUTES."""

    # ---- users, rate limit -----------------------------------------------------------------

    def get_authenticated_user(self, ctx: Ctx) -> Reply:
        if ctx.token is None:
            raise ApiError(401, "Requires authentication")
        if ctx.token.installation:
            raise ApiError(403, "Resource not accessible by integration")
        data = self.r.full_user(ctx.token.login)
        data.update(  # the private-user object: the account asks about itself
            {
                "user_view_type": "private",
                "private_gists": 0,
                "total_private_repos": 0,
                "owned_private_repos": 0,
                "disk_usage": 0,
                "collaborators": 0,
                "two_factor_authentication": True,
            }
        )
        return Reply(200, data)

    def get_user(self, ctx: Ctx) -> Reply:
        if self.world.user(ctx.params["username"]) is None:
            raise not_found()
        return Reply(200, self.r.full_user(ctx.params["username"]))

    def rate_limit(self, ctx: Ctx) -> Reply:
        tok = ctx.token
        limit, used = (tok.limit, tok.used) if tok else (60, 0)
        reset = tok.reset_at if tok else int(self.world.clock()) + 3600
        core = {"limit": limit, "used": used, "remaining": max(limit - used, 0), "reset": reset}
        other = {"limit": 30, "used": 0, "remaining": 30, "reset": reset}
        resources = {"core": core, "search": other, "graphql": {**core, "used": 0}}
        return Reply(200, {"resources": resources, "rate": core})

    # ---- repository, permissions, actions settings -----------------------------------------

    def get_repo(self, ctx: Ctx) -> Reply:
        repo = self.repo(ctx)
        return Reply(200, self.r.repo(repo, full=True, viewer=ctx.login))

    def get_permission(self, ctx: Ctx) -> Reply:
        repo = self.repo(ctx)
        self.need(ctx, repo, ("metadata", "contents", "issues", "pull_requests"), "read", False)
        user = self.world.user(ctx.params["username"])
        if user is None:
            raise not_found()
        if user.type == "Bot":
            raise not_found(f"{user.login} is not a user")
        role = self.world.role(repo, user.login) or ("none" if repo.private else "read")
        return Reply(200, self.r.permission(repo, user.login, role))

    def get_workflow_permissions(self, ctx: Ctx) -> Reply:
        repo = self.repo(ctx)
        self.need(ctx, repo, ("actions", "administration"), "admin", False)
        return Reply(200, self._workflow_permissions(repo))

    def _workflow_permissions(self, repo: Repo) -> Json:
        return {
            "default_workflow_permissions": repo.default_workflow_permissions,
            "can_approve_pull_request_reviews": repo.actions_can_approve_prs,
        }

    def set_workflow_permissions(self, ctx: Ctx) -> Reply:
        repo = self.repo(ctx)
        self.need(ctx, repo, ("administration",), "admin", True)
        if ctx.field("default_workflow_permissions") in ("read", "write"):
            repo.default_workflow_permissions = ctx.field("default_workflow_permissions")
        if isinstance(ctx.field("can_approve_pull_request_reviews"), bool):
            repo.actions_can_approve_prs = ctx.field("can_approve_pull_request_reviews")
        return Reply(204)

    # ---- branches and git refs -------------------------------------------------------------

    def get_branch(self, ctx: Ctx) -> Reply:
        repo = self.repo(ctx)
        self.need(ctx, repo, ("contents",), "read", False)
        name = ctx.params["branch"]
        sha = repo.git.branch_sha(name)
        if sha is None:
            raise not_found("Branch not found")
        return Reply(200, self.r.branch(repo, name, repo.git.commit_info(sha)))

    def get_ref(self, ctx: Ctx) -> Reply:
        repo = self.repo(ctx)
        self.need(ctx, repo, ("contents",), "read", False)
        ref = "refs/" + ctx.params["ref"]
        sha = repo.git.refs(ref).get(ref)
        if sha is None:
            raise not_found()
        return Reply(200, self.r.git_ref(repo, ref, sha))

    def get_matching_refs(self, ctx: Ctx) -> Reply:
        """Legacy `GET git/refs/{ref}`: the exact ref as an object, else prefix matches as a list."""
        repo = self.repo(ctx)
        self.need(ctx, repo, ("contents",), "read", False)
        ref = "refs/" + ctx.params["ref"]
        refs = repo.git.refs("refs/")
        if ref in refs:
            return Reply(200, self.r.git_ref(repo, ref, refs[ref]))
        matches = [self.r.git_ref(repo, n, s) for n, s in sorted(refs.items()) if n.startswith(ref)]
        if not matches:
            raise not_found()
        return Reply(200, matches)

    def create_ref(self, ctx: Ctx) -> Reply:
        repo = self.repo(ctx)
        self.need(ctx, repo, ("contents",), "write", True)
        ref, sha = ctx.field("ref"), ctx.field("sha")
        if not isinstance(ref, str) or not isinstance(sha, str):
            raise invalid("Reference", "missing_field", "ref" if not isinstance(ref, str) else "sha")
        if not ref.startswith("refs/") or ref.count("/") < 2 or not repo.git.valid_ref_name(ref):
            raise ApiError(422, "Reference name is not well-formed")
        if repo.git.object_type(sha) is None:
            raise ApiError(422, "Object does not exist")
        if ref in repo.git.refs(ref):
            raise ApiError(422, "Reference already exists")
        repo.git.update_ref(ref, sha, ZERO_SHA)
        return Reply(201, self.r.git_ref(repo, ref, sha))

    def update_ref(self, ctx: Ctx) -> Reply:
        repo = self.repo(ctx)
        self.need(ctx, repo, ("contents",), "write", True)
        ref = "refs/" + ctx.params["ref"]
        old = repo.git.refs(ref).get(ref)
        sha = ctx.field("sha")
        if old is None:
            raise ApiError(422, "Reference does not exist")
        if not isinstance(sha, str) or repo.git.object_type(sha) is None:
            raise ApiError(422, "Object does not exist")
        if not ctx.field("force") and repo.git.merge_base(old, sha) != old:
            raise ApiError(422, "Update is not a fast forward")
        repo.git.update_ref(ref, sha, old)
        return Reply(200, self.r.git_ref(repo, ref, sha))

    def delete_ref(self, ctx: Ctx) -> Reply:
        repo = self.repo(ctx)
        self.need(ctx, repo, ("contents",), "write", True)
        ref = "refs/" + ctx.params["ref"]
        if ref not in repo.git.refs(ref):
            raise ApiError(422, "Reference does not exist")
        repo.git.delete_ref(ref)
        return Reply(204)

    # ---- pull requests ---------------------------------------------------------------------

    def _head_matches(self, pull: PullRequest, head: str | None) -> bool:
        """GitHub's `head` filter: only `owner:ref` filters; a bare ref is ignored."""
        if head is None or ":" not in head:
            return True
        owner, ref = head.split(":", 1)
        return pull.head_repo.split("/")[0].lower() == owner.lower() and pull.head_ref == ref

    def list_pulls(self, ctx: Ctx) -> Reply:
        repo = self.repo(ctx)
        self.need(ctx, repo, ("pull_requests",), "read", False)
        state, base, head = ctx.q("state") or "open", ctx.q("base"), ctx.q("head")
        if state not in ("open", "closed", "all"):
            raise invalid("PullRequest", "invalid", "state")
        pulls = [
            p
            for p in repo.pulls.values()
            if state in ("all", p.issue.state) and base in (None, p.base_ref) and self._head_matches(p, head)
        ]
        sort = ctx.q("sort") or "created"
        key: Callable[[PullRequest], float] = (
            (lambda p: p.issue.updated_at) if sort in ("updated", "popularity") else (lambda p: p.number)
        )
        pulls.sort(key=key, reverse=(ctx.q("direction") or "desc") == "desc")
        return Reply(200, [self.r.pull(repo, p, full=False) for p in pulls])

    def _resolve_head(self, repo: Repo, head: str, head_repo_name: Any) -> Repo:
        if ":" not in head:
            if isinstance(head_repo_name, str):
                found = self.world.repo(f"{repo.owner}/{head_repo_name}")
                if found is not None:
                    return found
            return repo
        owner = head.split(":", 1)[0]
        if owner.lower() == repo.owner.lower():
            return repo
        for candidate in self.world.repos.values():
            if candidate.owner.lower() == owner.lower() and candidate.fork_of == repo.full_name:
                return candidate
        raise invalid("PullRequest", "invalid", "head")

    def create_pull(self, ctx: Ctx) -> Reply:
        repo = self.repo(ctx)
        self.need(ctx, repo, ("pull_requests",), "read", True)
        tok = ctx.token
        is_actions = tok is not None and tok.installation and tok.login == "github-actions[bot]"
        if is_actions and not repo.actions_can_approve_prs:
            raise ApiError(403, "GitHub Actions is not permitted to create or approve pull requests.")
        head, base, title = ctx.field("head"), ctx.field("base"), ctx.field("title")
        if not isinstance(head, str) or not head:
            raise invalid("PullRequest", "missing_field", "head")
        if not isinstance(base, str) or not base:
            raise invalid("PullRequest", "missing_field", "base")
        if not isinstance(title, str) or not title:
            raise invalid("PullRequest", "missing_field", "title")
        self.check_body("PullRequest", ctx.field("body"), required=False)
        head_repo = self._resolve_head(repo, head, ctx.field("head_repo"))
        head_ref = head.split(":", 1)[-1]
        head_sha = head_repo.git.branch_sha(head_ref)
        base_sha = repo.git.branch_sha(base)
        if head_sha is None:
            raise invalid("PullRequest", "invalid", "head")
        if base_sha is None:
            raise invalid("PullRequest", "invalid", "base")
        label = f"{head_repo.owner}:{head_ref}"
        for other in repo.pulls.values():
            same_head = other.head_repo == head_repo.full_name and other.head_ref == head_ref
            if other.issue.state == "open" and same_head and other.base_ref == base:
                raise invalid("PullRequest", "custom", message=f"A pull request already exists for {label}.")
        if head_repo is repo and repo.git.count_commits(base_sha, head_sha) == 0:
            raise invalid("PullRequest", "custom", message=f"No commits between {base} and {head_ref}")
        if ctx.field("draft") and not repo.drafts_supported:
            # A private repository on GitHub Free or Pro (SWE-agent/SWE-agent#179, OpenHands#6560).
            raise ApiError(422, "Draft pull requests are not supported in this repository.")
        assert ctx.login is not None
        pull = self.world.open_pull(
            repo,
            author=ctx.login,
            title=title,
            body=ctx.field("body"),
            head_repo=head_repo,
            head_ref=head_ref,
            base_ref=base,
            draft=bool(ctx.field("draft")),
            maintainer_can_modify=bool(ctx.field("maintainer_can_modify")),
        )
        return Reply(201, self.r.pull(repo, pull))

    def get_pull(self, ctx: Ctx) -> Reply:
        repo = self.repo(ctx)
        self.need(ctx, repo, ("pull_requests",), "read", False)
        return Reply(200, self.r.pull(repo, self.pull(repo, ctx)))

    def edit_pull(self, ctx: Ctx) -> Reply:
        repo = self.repo(ctx)
        pull = self.pull(repo, ctx)
        is_author = ctx.login is not None and ctx.login.lower() == pull.issue.login.lower()
        self.need(ctx, repo, ("pull_requests",), "read" if is_author else "write", True)
        self.check_body("PullRequest", ctx.field("body"), required=False)
        base = ctx.field("base")
        if isinstance(base, str) and repo.git.branch_sha(base) is None:
            raise invalid("PullRequest", "invalid", "base")
        if ctx.field("state") == "open" and pull.issue.state == "closed":
            if pull.merged:
                raise invalid(
                    "PullRequest",
                    "custom",
                    "state",
                    "state cannot be changed. The pull request has been merged.",
                )
            self._refuse_duplicate(repo, pull)
        if isinstance(ctx.field("title"), str):
            pull.issue.title = ctx.field("title")
        if "body" in (ctx.body or {}):
            pull.issue.body = ctx.field("body")
        if isinstance(base, str):
            pull.base_ref = base
        if isinstance(ctx.field("maintainer_can_modify"), bool):
            pull.maintainer_can_modify = ctx.field("maintainer_can_modify")
        self.world.head_sha(pull)
        self._set_state(pull.issue, ctx.field("state"), None)
        pull.issue.state_reason = None
        self.touch(pull.issue)
        return Reply(200, self.r.pull(repo, pull))

    def _refuse_duplicate(self, repo: Repo, pull: PullRequest) -> None:
        for other in repo.pulls.values():
            same = other.head_repo == pull.head_repo and other.head_ref == pull.head_ref
            if other is not pull and same and other.issue.state == "open":
                owner = pull.head_repo.split("/")[0]
                message = f"A pull request already exists for {owner}:{pull.head_ref}."
                raise invalid("PullRequest", "custom", message=message)

    def list_files(self, ctx: Ctx) -> Reply:
        repo = self.repo(ctx)
        self.need(ctx, repo, ("pull_requests", "contents"), "read", False)
        pull = self.pull(repo, ctx)
        head_sha = self.world.head_sha(pull)
        try:
            changes = self.r.pull_files(repo, pull)
        except GitError as exc:
            raise ApiError(500, "Server Error") from exc
        return Reply(200, [self.r.diff_entry(repo, c, head_sha) for c in changes])

    def list_requested_reviewers(self, ctx: Ctx) -> Reply:
        repo = self.repo(ctx)
        pull = self.pull(repo, ctx)
        users = [self.r.user(u) for u in pull.requested_reviewers]
        return Reply(200, {"users": users, "teams": []})

    def request_reviewers(self, ctx: Ctx) -> Reply:
        repo = self.repo(ctx)
        pull = self.pull(repo, ctx)
        self.need(ctx, repo, ("pull_requests",), "triage", True)
        reviewers, teams = ctx.field("reviewers"), ctx.field("team_reviewers")
        if reviewers is None and teams is None:
            raise invalid("PullRequest", "missing_field", "reviewers")
        logins = [str(r) for r in reviewers or []]
        if any(r.lower() == pull.issue.login.lower() for r in logins):
            raise ApiError(422, "Review cannot be requested from pull request author.")
        outsiders = [r for r in logins if self.world.user(r) is None or not self.world.role(repo, r)]
        if outsiders:
            raise ApiError(
                422,
                "Reviews may only be requested from collaborators. One or more of the users or "
                f"teams you specified is not a collaborator of the {repo.full_name} repository.",
            )
        for login in logins:
            user = self.world.user(login)
            assert user is not None
            if user.login not in pull.requested_reviewers:
                pull.requested_reviewers.append(user.login)
        pull.requested_teams.extend(str(t) for t in teams or [] if str(t) not in pull.requested_teams)
        return Reply(201, self.r.pull(repo, pull, full=False))

    def remove_requested_reviewers(self, ctx: Ctx) -> Reply:
        repo = self.repo(ctx)
        pull = self.pull(repo, ctx)
        self.need(ctx, repo, ("pull_requests",), "triage", True)
        drop = {str(r).lower() for r in ctx.field("reviewers") or []}
        pull.requested_reviewers = [r for r in pull.requested_reviewers if r.lower() not in drop]
        return Reply(200, self.r.pull(repo, pull, full=False))

    def list_reviews(self, ctx: Ctx) -> Reply:
        repo = self.repo(ctx)
        pull = self.pull(repo, ctx)
        return Reply(200, [self.r.review(repo, pull, rv) for rv in pull.reviews])

    def list_review_comments(self, ctx: Ctx) -> Reply:
        repo = self.repo(ctx)
        pull = self.pull(repo, ctx)
        return Reply(200, [self.r.review_comment(repo, pull, c) for c in pull.review_comments])
