"""Comments, reviews and reactions on issues and pull requests: the conversation half of GitHubHost."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from bot.github.retry import Call, Calls, GitHubApiError
from bot.github.types import REACTIONS, CommentInfo, ReviewCommentInfo, ReviewInfo, fit_body

MARKER = re.compile(r"^<!-- specship:[A-Za-z0-9:._/#-]{1,200} -->$")
# Another run may create the same marked comment between our look and our create.
DELETE_DUPLICATE = Call("delete a duplicate status comment", "issues: write", mutating=True)


class Threads:
    """Mixed into GitHubHost, which provides the request plumbing declared here."""

    _repo: Any
    _tracking: dict[tuple[int, str], int]

    def request(self, call: Call, method: str, path: str, body: Any = None, **kw: Any) -> Any:
        raise NotImplementedError

    def _pages(self, call: Call, pages: Any) -> list[dict[str, Any]]:
        raise NotImplementedError

    def _warn(self, text: str) -> None:
        raise NotImplementedError

    def _guard(self, *texts: str) -> None:
        raise NotImplementedError

    def whoami(self) -> str:
        raise NotImplementedError

    def react(self, comment_id: int, content: str, kind: str = "issue_comment") -> bool:
        """React to a comment (kind issue_comment or review_comment); False if it is gone (404)."""
        where = {"issue_comment": "issues/comments", "review_comment": "pulls/comments"}
        if kind not in where:
            raise ValueError(f"unknown comment kind {kind!r}")
        return self._react(f"{where[kind]}/{comment_id}/reactions", content)

    def react_issue(self, number: int, content: str) -> bool:
        return self._react(f"issues/{number}/reactions", content)

    def _react(self, path: str, content: str) -> bool:
        if content not in REACTIONS:
            raise ValueError(f"unknown reaction {content!r}")
        try:
            self.request(Calls.REACT, "POST", path, {"content": content})
        except GitHubApiError as err:
            if err.status != 404:
                raise
            self._warn(f"Could not react to {path.rsplit('/', 1)[0]}: it no longer exists.")
            return False
        return True

    # ---- comments and reviews -----------------------------------------------------------------

    def list_comments(self, number: int, since: datetime | None = None) -> list[CommentInfo]:
        """Comments oldest first; since (GitHub's filter, applied here too) keeps those updated since."""
        issue = self._repo.get_issue(number)
        if since is not None and since.tzinfo is None:
            since = since.replace(tzinfo=UTC)
        pages = issue.get_comments(since=since) if since is not None else issue.get_comments()
        found = [CommentInfo.from_json(d) for d in self._pages(Calls.LIST_COMMENTS, pages)]
        return [c for c in found if since is None or c.updated_at is None or c.updated_at >= since]

    def reviews(self, pr: int) -> list[ReviewInfo]:
        pages = self._repo.get_pull(pr).get_reviews()
        return [ReviewInfo.from_json(d) for d in self._pages(Calls.LIST_REVIEWS, pages)]

    def review_comments(self, pr: int) -> list[ReviewCommentInfo]:
        pages = self._repo.get_pull(pr).get_review_comments()
        return [ReviewCommentInfo.from_json(d) for d in self._pages(Calls.LIST_REVIEW_COMMENTS, pages)]

    def upsert_comment(self, issue_number: int, marker: str, body: str) -> CommentInfo:
        """The one comment of this marker on the issue, edited in place (PATCH) or created once.

        Only a comment written by this token's identity counts: a human's comment quoting the
        marker is never edited. A create that failed ambiguously (5xx) is looked up before retrying."""
        if not MARKER.match(marker):
            raise ValueError(f"not a Specship marker: {marker!r}")
        text = fit_body(body if marker in body else f"{marker}\n{body}")
        self._guard(text)
        key = (issue_number, marker)
        for _ in range(3):
            known = self._tracking.get(key)
            if known is None:
                found = self._find_marked(issue_number, marker)
                known = found.id if found is not None else None
            try:
                if known is not None:
                    data = self.request(
                        Calls.EDIT_COMMENT, "PATCH", f"issues/comments/{known}", {"body": text}
                    )
                else:
                    data = self.request(
                        Calls.CREATE_COMMENT, "POST", f"issues/{issue_number}/comments", {"body": text}
                    )
            except GitHubApiError as err:
                if known is not None and err.status == 404:
                    self._tracking.pop(key, None)  # deleted by someone: create it again
                    continue
                if known is None and (err.status == 0 or err.status >= 500):
                    continue  # the comment may exist now: look again before posting again
                raise
            info = CommentInfo.from_json(data)
            if known is None:
                info = self._one_of(issue_number, marker, info, text)
            self._tracking[key] = info.id
            return info
        raise GitHubApiError(f"Could not write the status comment on #{issue_number}.", "Re-run later.")

    def _one_of(self, issue_number: int, marker: str, created: CommentInfo, text: str) -> CommentInfo:
        """After creating a marked comment, look again: of several (a concurrent run created one
        too), the oldest stays and the younger ones go. Both runs settle on the same comment."""
        me = self.whoami().lower()
        mine = [c for c in self.list_comments(issue_number) if c.author.lower() == me and marker in c.body]
        if created.id not in {c.id for c in mine}:
            mine.append(created)
        keep = min(mine, key=lambda c: c.id)  # ids grow with creation time
        for duplicate in (c for c in mine if c.id != keep.id):
            try:
                self.request(DELETE_DUPLICATE, "DELETE", f"issues/comments/{duplicate.id}")
            except GitHubApiError as err:
                if err.status != 404:  # the other run deleted it first
                    raise
        if keep.id == created.id:
            return created
        data = self.request(Calls.EDIT_COMMENT, "PATCH", f"issues/comments/{keep.id}", {"body": text})
        return CommentInfo.from_json(data)

    def _find_marked(self, issue_number: int, marker: str) -> CommentInfo | None:
        me = self.whoami().lower()
        mine = (c for c in self.list_comments(issue_number) if c.author.lower() == me and marker in c.body)
        return next(mine, None)
