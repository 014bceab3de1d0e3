"""Handlers for labels, issues, issue comments and reactions (GitHub's statuses and bodies)."""

from __future__ import annotations

from typing import Any

from tests.fakes.github_routes import Ctx, HandlerBase, Reply, invalid, not_found
from tests.fakes.github_state import REACTIONS, Issue, IssueComment, Reaction, Repo


class IssueHandlers(HandlerBase):
    """Issue-side operations; method names are listed in ROUTES."""

    # ---- labels ----------------------------------------------------------------------------

    def list_repo_labels(self, ctx: Ctx) -> Reply:
        repo = self.repo(ctx)
        return Reply(200, [self.r.label(repo, lab.name) for lab in repo.labels.values()])

    def get_label(self, ctx: Ctx) -> Reply:
        repo = self.repo(ctx)
        label = self.world.label(repo, ctx.params["name"], create=False)
        if label is None:
            raise not_found()
        return Reply(200, self.r.label(repo, label.name))

    def create_label(self, ctx: Ctx) -> Reply:
        repo = self.repo(ctx)
        self.need(ctx, repo, ("issues", "pull_requests"), "write", True)
        name = ctx.field("name")
        if not isinstance(name, str) or not name:
            raise invalid("Label", "missing_field", "name")
        if self.world.label(repo, name, create=False) is not None:
            raise invalid("Label", "already_exists", "name")
        label = self.world.label(repo, name)
        assert label is not None
        label.color = str(ctx.field("color") or "ededed").lstrip("#")
        label.description = ctx.field("description")
        return Reply(201, self.r.label(repo, label.name))

    def _label_names(self, body: Any) -> list[str]:
        items = body.get("labels") if isinstance(body, dict) else body
        if not isinstance(items, list):
            raise invalid("Label", "invalid", "labels")
        names = [i.get("name") if isinstance(i, dict) else i for i in items]
        if not all(isinstance(n, str) and n for n in names):
            raise invalid("Label", "invalid", "labels")
        return [str(n) for n in names]

    def _issue_labels(self, repo: Repo, issue: Issue) -> Reply:
        return Reply(200, [self.r.label(repo, n) for n in issue.labels])

    def list_issue_labels(self, ctx: Ctx) -> Reply:
        repo = self.repo(ctx)
        return self._issue_labels(repo, self.issue(repo, ctx))

    def add_labels(self, ctx: Ctx) -> Reply:
        repo = self.repo(ctx)
        issue = self.issue(repo, ctx)
        self.need(ctx, repo, self._issue_perms(issue), "triage", True)
        for name in self._label_names(ctx.body):
            label = self.world.label(repo, name)
            assert label is not None
            if label.name not in issue.labels:
                issue.labels.append(label.name)
        self.touch(issue)
        return self._issue_labels(repo, issue)

    def set_labels(self, ctx: Ctx) -> Reply:
        repo = self.repo(ctx)
        issue = self.issue(repo, ctx)
        self.need(ctx, repo, self._issue_perms(issue), "triage", True)
        issue.labels = []
        return self.add_labels(ctx)

    def clear_labels(self, ctx: Ctx) -> Reply:
        repo = self.repo(ctx)
        issue = self.issue(repo, ctx)
        self.need(ctx, repo, self._issue_perms(issue), "triage", True)
        issue.labels = []
        self.touch(issue)
        return Reply(204)

    def remove_label(self, ctx: Ctx) -> Reply:
        repo = self.repo(ctx)
        issue = self.issue(repo, ctx)
        self.need(ctx, repo, self._issue_perms(issue), "triage", True)
        wanted = ctx.params["name"].lower()
        kept = [n for n in issue.labels if n.lower() != wanted]
        if len(kept) == len(issue.labels):
            raise not_found("Label does not exist")
        issue.labels = kept
        self.touch(issue)
        return self._issue_labels(repo, issue)

    # ---- issues ----------------------------------------------------------------------------

    def create_issue(self, ctx: Ctx) -> Reply:
        repo = self.repo(ctx)
        self.need(ctx, repo, ("issues",), "read", True)
        title = ctx.field("title")
        if not isinstance(title, str) or not title:
            raise invalid("Issue", "missing_field", "title")
        self.check_body("Issue", ctx.field("body"), required=False)
        assert ctx.login is not None
        issue = self.world.add_issue(
            repo.full_name,
            title,
            body=ctx.field("body"),
            author=ctx.login,
            labels=ctx.field("labels") or [],
        )
        return Reply(201, self.r.issue(repo, issue))

    def list_issues(self, ctx: Ctx) -> Reply:
        repo = self.repo(ctx)
        state = ctx.q("state") or "open"
        wanted = {n.strip().lower() for n in (ctx.q("labels") or "").split(",") if n.strip()}
        items = [
            self.r.issue(repo, i)
            for i in sorted(repo.issues.values(), key=lambda i: -i.number)
            if state in ("all", i.state) and wanted <= {n.lower() for n in i.labels}
        ]
        return Reply(200, items)

    def get_issue(self, ctx: Ctx) -> Reply:
        repo = self.repo(ctx)
        return Reply(200, self.r.issue(repo, self.issue(repo, ctx)))

    def edit_issue(self, ctx: Ctx) -> Reply:
        repo = self.repo(ctx)
        issue = self.issue(repo, ctx)
        self.need(ctx, repo, self._issue_perms(issue), "triage", True)
        self.check_body("Issue", ctx.field("body"), required=False)
        if isinstance(ctx.field("title"), str):
            issue.title = ctx.field("title")
        if "body" in (ctx.body or {}):
            issue.body = ctx.field("body")
        if ctx.field("labels") is not None:
            issue.labels = []
            for name in self._label_names(ctx.field("labels")):
                label = self.world.label(repo, name)
                assert label is not None
                issue.labels.append(label.name)
        if isinstance(ctx.field("assignees"), list):
            issue.assignees = [str(a) for a in ctx.field("assignees")]
        self._set_state(issue, ctx.field("state"), ctx.field("state_reason"))
        self.touch(issue)
        return Reply(200, self.r.issue(repo, issue))

    def _set_state(self, issue: Issue, state: Any, reason: Any) -> None:
        if state not in ("open", "closed") or state == issue.state:
            return
        issue.state = state
        issue.closed_at = self.world.clock() if state == "closed" else None
        issue.state_reason = (reason or "completed") if state == "closed" else "reopened"

    # ---- issue comments --------------------------------------------------------------------

    def list_comments(self, ctx: Ctx) -> Reply:
        repo = self.repo(ctx)
        issue = self.issue(repo, ctx)
        comments = sorted(
            (c for c in repo.comments.values() if c.issue_number == issue.number),
            key=lambda c: c.id,
        )
        return Reply(200, [self.r.comment(repo, c) for c in comments])

    def create_comment(self, ctx: Ctx) -> Reply:
        repo = self.repo(ctx)
        issue = self.issue(repo, ctx)
        self.need(ctx, repo, self._issue_perms(issue), "read", True)
        self.check_body("IssueComment", ctx.field("body"), required=True)
        assert ctx.login is not None
        comment = self.world.add_comment(repo.full_name, issue.number, ctx.field("body"), author=ctx.login)
        self.touch(issue)
        return Reply(201, self.r.comment(repo, comment))

    def get_comment(self, ctx: Ctx) -> Reply:
        repo = self.repo(ctx)
        return Reply(200, self.r.comment(repo, self.comment(repo, ctx)))

    def _may_edit(self, ctx: Ctx, repo: Repo, comment: IssueComment) -> None:
        issue = repo.issues[comment.issue_number]
        if ctx.login is not None and ctx.login.lower() == comment.login.lower():
            self.need(ctx, repo, self._issue_perms(issue), "read", True)
        else:
            self.need(ctx, repo, self._issue_perms(issue), "write", True)

    def edit_comment(self, ctx: Ctx) -> Reply:
        repo = self.repo(ctx)
        comment = self.comment(repo, ctx)
        self._may_edit(ctx, repo, comment)
        self.check_body("IssueComment", ctx.field("body"), required=True)
        comment.body = ctx.field("body")
        comment.updated_at = self.world.clock()
        return Reply(200, self.r.comment(repo, comment))

    def delete_comment(self, ctx: Ctx) -> Reply:
        repo = self.repo(ctx)
        comment = self.comment(repo, ctx)
        self._may_edit(ctx, repo, comment)
        del repo.comments[comment.id]
        return Reply(204)

    # ---- reactions -------------------------------------------------------------------------

    def _react(self, ctx: Ctx, reactions: list[Reaction]) -> Reply:
        content = ctx.field("content")
        if content not in REACTIONS:
            raise invalid("Reaction", "invalid", "content")
        assert ctx.login is not None
        for existing in reactions:
            if existing.login.lower() == ctx.login.lower() and existing.content == content:
                return Reply(200, self.r.reaction(existing))
        reaction = Reaction(self.world.next_id(), ctx.login, content, self.world.clock())
        reactions.append(reaction)
        return Reply(201, self.r.reaction(reaction))

    def _unreact(self, ctx: Ctx, reactions: list[Reaction]) -> Reply:
        wanted = int(ctx.params["reaction_id"])
        if not any(r.id == wanted for r in reactions):
            raise not_found()
        reactions[:] = [r for r in reactions if r.id != wanted]
        return Reply(204)

    def _filter_reactions(self, ctx: Ctx, reactions: list[Reaction]) -> Reply:
        content = ctx.q("content")
        return Reply(200, [self.r.reaction(r) for r in reactions if content in (None, r.content)])

    def list_issue_reactions(self, ctx: Ctx) -> Reply:
        repo = self.repo(ctx)
        return self._filter_reactions(ctx, self.issue(repo, ctx).reactions)

    def react_issue(self, ctx: Ctx) -> Reply:
        repo = self.repo(ctx)
        issue = self.issue(repo, ctx)
        self.need(ctx, repo, self._issue_perms(issue), "read", True)
        return self._react(ctx, issue.reactions)

    def unreact_issue(self, ctx: Ctx) -> Reply:
        repo = self.repo(ctx)
        issue = self.issue(repo, ctx)
        self.need(ctx, repo, self._issue_perms(issue), "read", True)
        return self._unreact(ctx, issue.reactions)

    def list_comment_reactions(self, ctx: Ctx) -> Reply:
        repo = self.repo(ctx)
        return self._filter_reactions(ctx, self.comment(repo, ctx).reactions)

    def react_comment(self, ctx: Ctx) -> Reply:
        repo = self.repo(ctx)
        comment = self.comment(repo, ctx)
        perms = self._issue_perms(repo.issues[comment.issue_number])
        self.need(ctx, repo, perms, "read", True)
        return self._react(ctx, comment.reactions)

    def react_review_comment(self, ctx: Ctx) -> Reply:
        repo = self.repo(ctx)
        wanted = int(ctx.params["comment_id"])
        found = [c for p in repo.pulls.values() for c in p.review_comments if c.id == wanted]
        if not found:
            raise not_found()
        self.need(ctx, repo, ("pull_requests",), "read", True)
        return self._react(ctx, found[0].reactions)

    def unreact_comment(self, ctx: Ctx) -> Reply:
        repo = self.repo(ctx)
        comment = self.comment(repo, ctx)
        perms = self._issue_perms(repo.issues[comment.issue_number])
        self.need(ctx, repo, perms, "read", True)
        return self._unreact(ctx, comment.reactions)
