"""Render emulator state as the JSON objects GitHub's REST API returns."""

from __future__ import annotations

import zlib
from typing import Any

from tests.fakes.github_git import CommitInfo, FileChange
from tests.fakes.github_state import (
    LEGACY_PERMISSION,
    REACTIONS,
    Issue,
    IssueComment,
    PullRequest,
    Reaction,
    Repo,
    Review,
    ReviewComment,
    World,
    role_at_least,
)

Json = dict[str, Any]

_REPO_TEMPLATES = {
    "archive_url": "/{archive_format}{/ref}",
    "assignees_url": "/assignees{/user}",
    "blobs_url": "/git/blobs{/sha}",
    "branches_url": "/branches{/branch}",
    "collaborators_url": "/collaborators{/collaborator}",
    "comments_url": "/comments{/number}",
    "commits_url": "/commits{/sha}",
    "compare_url": "/compare/{base}...{head}",
    "contents_url": "/contents/{+path}",
    "contributors_url": "/contributors",
    "deployments_url": "/deployments",
    "downloads_url": "/downloads",
    "events_url": "/events",
    "forks_url": "/forks",
    "git_commits_url": "/git/commits{/sha}",
    "git_refs_url": "/git/refs{/sha}",
    "git_tags_url": "/git/tags{/sha}",
    "hooks_url": "/hooks",
    "issue_comment_url": "/issues/comments{/number}",
    "issue_events_url": "/issues/events{/number}",
    "issues_url": "/issues{/number}",
    "keys_url": "/keys{/key_id}",
    "labels_url": "/labels{/name}",
    "languages_url": "/languages",
    "merges_url": "/merges",
    "milestones_url": "/milestones{/number}",
    "notifications_url": "/notifications{?since,all,participating}",
    "pulls_url": "/pulls{/number}",
    "releases_url": "/releases{/id}",
    "stargazers_url": "/stargazers",
    "statuses_url": "/statuses/{sha}",
    "subscribers_url": "/subscribers",
    "subscription_url": "/subscription",
    "tags_url": "/tags",
    "teams_url": "/teams",
    "trees_url": "/git/trees{/sha}",
}


class Renderer:
    """Builds response objects; api is the emulator's base URL, html the web base URL."""

    def __init__(self, world: World, api: str, html: str) -> None:
        self.world = world
        self.api = api
        self.html = html

    def user(self, login: str) -> Json:
        """A simple-user object."""
        u = self.world.ensure_user(login)
        base = f"{self.api}/users/{u.login}"
        html = f"{self.html}/apps/{u.login.removesuffix('[bot]')}" if u.type == "Bot" else None
        return {
            "login": u.login,
            "id": u.id,
            "node_id": u.node_id,
            "avatar_url": f"https://avatars.githubusercontent.com/u/{u.id}?v=4",
            "gravatar_id": "",
            "url": base,
            "html_url": html or f"{self.html}/{u.login}",
            "followers_url": f"{base}/followers",
            "following_url": f"{base}/following{{/other_user}}",
            "gists_url": f"{base}/gists{{/gist_id}}",
            "starred_url": f"{base}/starred{{/owner}}{{/repo}}",
            "subscriptions_url": f"{base}/subscriptions",
            "organizations_url": f"{base}/orgs",
            "repos_url": f"{base}/repos",
            "events_url": f"{base}/events{{/privacy}}",
            "received_events_url": f"{base}/received_events",
            "type": u.type,
            "user_view_type": "public",
            "site_admin": u.site_admin,
        }

    def full_user(self, login: str) -> Json:
        """A public-user object (GET /users/{u}, GET /user)."""
        u = self.world.ensure_user(login)
        created = self.world.iso(0)
        return {
            **self.user(login),
            "name": None,
            "company": None,
            "blog": "",
            "location": None,
            "email": None,
            "hireable": None,
            "bio": None,
            "twitter_username": None,
            "public_repos": sum(1 for r in self.world.repos.values() if r.owner == u.login),
            "public_gists": 0,
            "followers": 0,
            "following": 0,
            "created_at": created,
            "updated_at": created,
        }

    def repo_permissions(self, repo: Repo, viewer: str | None) -> Json:
        role = self.world.role(repo, viewer) if viewer else None
        return {
            "admin": role_at_least(role, "admin"),
            "maintain": role_at_least(role, "maintain"),
            "push": role_at_least(role, "write"),
            "triage": role_at_least(role, "triage"),
            "pull": role_at_least(role, "read") or not repo.private,
        }

    def repo(self, repo: Repo, *, full: bool = False, viewer: str | None = None) -> Json:
        """A repository object; full adds the fields of full-repository."""
        url = f"{self.api}/repos/{repo.full_name}"
        html = f"{self.html}/{repo.full_name}"
        created = self.world.iso(repo.created_at)
        tip = repo.git.branch_sha(repo.default_branch)
        # the time of the default branch's tip, not 'now': a repeated GET must render identically (ETag)
        pushed = self.world.iso(repo.git.commit_time(tip)) if tip else created
        open_issues = sum(1 for i in repo.issues.values() if i.state == "open")
        data: Json = {
            "id": repo.id,
            "node_id": repo.node_id,
            "name": repo.name,
            "full_name": repo.full_name,
            "private": repo.private,
            "owner": self.user(repo.owner),
            "html_url": html,
            "description": repo.description,
            "fork": repo.fork_of is not None,
            "url": url,
            **{key: f"{url}{suffix}" for key, suffix in _REPO_TEMPLATES.items()},
            "created_at": created,
            "updated_at": created,
            "pushed_at": pushed,
            "git_url": f"git://{self.html.split('://', 1)[-1]}/{repo.full_name}.git",
            "ssh_url": f"git@github.com:{repo.full_name}.git",
            "clone_url": f"{html}.git",
            "svn_url": html,
            "homepage": None,
            "size": 1,
            "stargazers_count": 0,
            "watchers_count": 0,
            "language": "Python",
            "has_issues": True,
            "has_projects": True,
            "has_downloads": True,
            "has_wiki": True,
            "has_pages": False,
            "has_discussions": False,
            "forks_count": 0,
            "mirror_url": None,
            "archived": False,
            "disabled": False,
            "open_issues_count": open_issues,
            "license": None,
            "allow_forking": True,
            "is_template": False,
            "web_commit_signoff_required": False,
            "topics": [],
            "visibility": "private" if repo.private else "public",
            "forks": 0,
            "open_issues": open_issues,
            "watchers": 0,
            "default_branch": repo.default_branch,
        }
        if viewer is not None:
            data["permissions"] = self.repo_permissions(repo, viewer)
        if full:
            data.update(
                {
                    "allow_squash_merge": True,
                    "allow_merge_commit": True,
                    "allow_rebase_merge": True,
                    "allow_auto_merge": False,
                    "delete_branch_on_merge": False,
                    "allow_update_branch": False,
                    "use_squash_pr_title_as_default": False,
                    "squash_merge_commit_title": "COMMIT_OR_PR_TITLE",
                    "squash_merge_commit_message": "COMMIT_MESSAGES",
                    "merge_commit_title": "MERGE_MESSAGE",
                    "merge_commit_message": "PR_TITLE",
                    "network_count": 0,
                    "subscribers_count": 0,
                }
            )
            if repo.fork_of:
                parent = self.world.repo(repo.fork_of)
                if parent is not None:
                    data["parent"] = self.repo(parent)
                    data["source"] = data["parent"]
        return data

    def label(self, repo: Repo, name: str) -> Json:
        """A label object."""
        label = self.world.label(repo, name)
        assert label is not None
        return {
            "id": label.id,
            "node_id": f"LA_kwDO{label.id:08d}",
            "url": f"{self.api}/repos/{repo.full_name}/labels/{label.name}",
            "name": label.name,
            "color": label.color,
            "default": label.default,
            "description": label.description,
        }

    def pull_label(self, repo: Repo, name: str) -> Json:
        """A label inside a pull request: GitHub's schema there has a non-null description."""
        return {**self.label(repo, name), "description": self.label(repo, name)["description"] or ""}

    def rollup(self, url: str, reactions: list[Reaction]) -> Json:
        """A reaction-rollup object."""
        counts = {content: sum(1 for r in reactions if r.content == content) for content in REACTIONS}
        return {"url": url, "total_count": len(reactions), **counts}

    def reaction(self, reaction: Reaction) -> Json:
        """A reaction object."""
        return {
            "id": reaction.id,
            "node_id": f"REA_lADO{reaction.id:08d}",
            "user": self.user(reaction.login),
            "content": reaction.content,
            "created_at": self.world.iso(reaction.created_at),
        }

    def association(self, repo: Repo, login: str, override: str | None) -> str:
        """author_association as GitHub computes it (OWNER, COLLABORATOR, NONE)."""
        if override is not None:
            return override
        if login.lower() == repo.owner.lower():
            return "OWNER"
        return "COLLABORATOR" if self.world.role(repo, login) else "NONE"

    def issue(self, repo: Repo, issue: Issue) -> Json:
        """An issue object (pull requests carry a `pull_request` key)."""
        url = f"{self.api}/repos/{repo.full_name}/issues/{issue.number}"
        kind = "pull" if issue.is_pull else "issues"
        html = f"{self.html}/{repo.full_name}/{kind}/{issue.number}"
        comments = [c for c in repo.comments.values() if c.issue_number == issue.number]
        data: Json = {
            "url": url,
            "repository_url": f"{self.api}/repos/{repo.full_name}",
            "labels_url": f"{url}/labels{{/name}}",
            "comments_url": f"{url}/comments",
            "events_url": f"{url}/events",
            "html_url": html,
            "id": issue.id,
            "node_id": f"{'PR' if issue.is_pull else 'I'}_kwDO{issue.id:08d}",
            "number": issue.number,
            "title": issue.title,
            "user": self.user(issue.login),
            "labels": [self.label(repo, name) for name in issue.labels],
            "state": issue.state,
            "locked": issue.locked,
            "assignee": self.user(issue.assignees[0]) if issue.assignees else None,
            "assignees": [self.user(a) for a in issue.assignees],
            "milestone": None,
            "comments": len(comments),
            "created_at": self.world.iso(issue.created_at),
            "updated_at": self.world.iso(issue.updated_at),
            "closed_at": self.world.iso(issue.closed_at),
            "author_association": self.association(repo, issue.login, issue.author_association),
            "type": None,
            "active_lock_reason": None,
            "sub_issues_summary": {"total": 0, "completed": 0, "percent_completed": 0},
            "body": issue.body,
            "closed_by": None,
            "reactions": self.rollup(f"{url}/reactions", issue.reactions),
            "timeline_url": f"{url}/timeline",
            "performed_via_github_app": None,
            "state_reason": issue.state_reason,
        }
        pull = repo.pulls.get(issue.number)
        if pull is not None:
            pull_url = f"{self.api}/repos/{repo.full_name}/pulls/{issue.number}"
            data["draft"] = pull.draft
            data["pull_request"] = {
                "url": pull_url,
                "html_url": html,
                "diff_url": f"{html}.diff",
                "patch_url": f"{html}.patch",
                "merged_at": self.world.iso(pull.merged_at),
            }
        return data

    def comment(self, repo: Repo, comment: IssueComment) -> Json:
        """An issue-comment object."""
        url = f"{self.api}/repos/{repo.full_name}/issues/comments/{comment.id}"
        issue = repo.issues[comment.issue_number]
        kind = "pull" if issue.is_pull else "issues"
        return {
            "url": url,
            "html_url": f"{self.html}/{repo.full_name}/{kind}/{issue.number}#issuecomment-{comment.id}",
            "issue_url": f"{self.api}/repos/{repo.full_name}/issues/{issue.number}",
            "id": comment.id,
            "node_id": f"IC_kwDO{comment.id:08d}",
            "user": self.user(comment.login),
            "created_at": self.world.iso(comment.created_at),
            "updated_at": self.world.iso(comment.updated_at),
            "author_association": self.association(repo, comment.login, comment.author_association),
            "body": comment.body,
            "reactions": self.rollup(f"{url}/reactions", comment.reactions),
            "performed_via_github_app": None,
        }

    def _ref_side(self, repo: Repo, ref: str, sha: str) -> Json:
        return {
            "label": f"{repo.owner}:{ref}",
            "ref": ref,
            "sha": sha,
            "user": self.user(repo.owner),
            "repo": self.repo(repo),
        }

    def pull(self, repo: Repo, pull: PullRequest, *, full: bool = True) -> Json:
        """A pull-request object (full) or pull-request-simple (list items)."""
        issue = pull.issue
        url = f"{self.api}/repos/{repo.full_name}/pulls/{issue.number}"
        issue_url = f"{self.api}/repos/{repo.full_name}/issues/{issue.number}"
        html = f"{self.html}/{repo.full_name}/pull/{issue.number}"
        head_repo = self.world.repo(pull.head_repo) or repo
        head_sha = self.world.head_sha(pull)
        base_sha = self.world.base_sha(repo, pull)
        statuses = f"{self.api}/repos/{repo.full_name}/statuses/{head_sha}"
        links = {
            "self": url,
            "html": html,
            "issue": issue_url,
            "comments": f"{issue_url}/comments",
            "review_comments": f"{url}/comments",
            "review_comment": f"{self.api}/repos/{repo.full_name}/pulls/comments{{/number}}",
            "commits": f"{url}/commits",
            "statuses": statuses,
        }
        data: Json = {
            "url": url,
            "id": pull.id,
            "node_id": f"PR_kwDO{pull.id:08d}",
            "html_url": html,
            "diff_url": f"{html}.diff",
            "patch_url": f"{html}.patch",
            "issue_url": issue_url,
            "number": issue.number,
            "state": issue.state,
            "locked": issue.locked,
            "title": issue.title,
            "user": self.user(issue.login),
            "body": issue.body,
            "created_at": self.world.iso(issue.created_at),
            "updated_at": self.world.iso(issue.updated_at),
            "closed_at": self.world.iso(issue.closed_at),
            "merged_at": self.world.iso(pull.merged_at),
            "merge_commit_sha": None,
            "assignee": self.user(issue.assignees[0]) if issue.assignees else None,
            "assignees": [self.user(a) for a in issue.assignees],
            "requested_reviewers": [self.user(r) for r in pull.requested_reviewers],
            "requested_teams": [],
            "labels": [self.pull_label(repo, name) for name in issue.labels],
            "milestone": None,
            "draft": pull.draft,
            "commits_url": f"{url}/commits",
            "review_comments_url": f"{url}/comments",
            "review_comment_url": links["review_comment"],
            "comments_url": f"{issue_url}/comments",
            "statuses_url": statuses,
            "head": self._ref_side(head_repo, pull.head_ref, head_sha),
            "base": self._ref_side(repo, pull.base_ref, base_sha),
            "_links": {key: {"href": value} for key, value in links.items()},
            "author_association": self.association(repo, issue.login, issue.author_association),
            "auto_merge": None,
            "active_lock_reason": None,
        }
        if full:
            data.update(self._pull_stats(repo, pull, head_repo, head_sha, base_sha))
        return data

    def _pull_stats(
        self, repo: Repo, pull: PullRequest, head_repo: Repo, head_sha: str, base_sha: str
    ) -> Json:
        changes = self.pull_files(repo, pull)
        commits = 0
        if head_repo is repo and head_sha != "0" * 40:
            commits = repo.git.count_commits(base_sha, head_sha)
        comments = sum(1 for c in repo.comments.values() if c.issue_number == pull.number)
        return {
            "merged": pull.merged,
            "mergeable": None if pull.merged else True,
            "rebaseable": None if pull.merged else True,
            "mergeable_state": "unknown" if pull.merged else "clean",
            "merged_by": self.user(pull.merged_by) if pull.merged_by else None,
            "comments": comments,
            "review_comments": len(pull.review_comments),
            "maintainer_can_modify": pull.maintainer_can_modify,
            "commits": commits,
            "additions": sum(c.additions for c in changes),
            "deletions": sum(c.deletions for c in changes),
            "changed_files": len(changes),
        }

    def pull_files(self, repo: Repo, pull: PullRequest) -> list[FileChange]:
        """The files the pull request changes (empty across repositories)."""
        head_repo = self.world.repo(pull.head_repo)
        head_sha = self.world.head_sha(pull)
        if head_repo is not repo or head_sha == "0" * 40:
            return []
        return repo.git.diff_files(self.world.base_sha(repo, pull), head_sha)

    def diff_entry(self, repo: Repo, change: FileChange, head_sha: str) -> Json:
        """A diff-entry object."""
        blob = f"{self.html}/{repo.full_name}/blob/{head_sha}/{change.filename}"
        data: Json = {
            "sha": change.sha,
            "filename": change.filename,
            "status": change.status,
            "additions": change.additions,
            "deletions": change.deletions,
            "changes": change.additions + change.deletions,
            "blob_url": blob,
            "raw_url": f"{self.html}/{repo.full_name}/raw/{head_sha}/{change.filename}",
            "contents_url": f"{self.api}/repos/{repo.full_name}/contents/{change.filename}?ref={head_sha}",
            "patch": change.patch,
        }
        if change.previous_filename is not None:
            data["previous_filename"] = change.previous_filename
        return data

    def commit(self, repo: Repo, info: CommitInfo) -> Json:
        """A commit object (author/committer accounts are null: seed emails map to no user)."""
        url = f"{self.api}/repos/{repo.full_name}/commits/{info.sha}"
        return {
            "sha": info.sha,
            "node_id": f"C_kwDO{info.sha[:16]}",
            "commit": {
                "author": {
                    "name": info.author_name,
                    "email": info.author_email,
                    "date": info.author_date,
                },
                "committer": {
                    "name": info.committer_name,
                    "email": info.committer_email,
                    "date": info.committer_date,
                },
                "message": info.message,
                "tree": {
                    "sha": info.tree,
                    "url": f"{self.api}/repos/{repo.full_name}/git/trees/{info.tree}",
                },
                "url": f"{self.api}/repos/{repo.full_name}/git/commits/{info.sha}",
                "comment_count": 0,
                "verification": {
                    "verified": False,
                    "reason": "unsigned",
                    "signature": None,
                    "payload": None,
                    "verified_at": None,
                },
            },
            "url": url,
            "html_url": f"{self.html}/{repo.full_name}/commit/{info.sha}",
            "comments_url": f"{url}/comments",
            "author": None,
            "committer": None,
            "parents": [
                {
                    "sha": p,
                    "url": f"{self.api}/repos/{repo.full_name}/commits/{p}",
                    "html_url": f"{self.html}/{repo.full_name}/commit/{p}",
                }
                for p in info.parents
            ],
        }

    def branch(self, repo: Repo, name: str, info: CommitInfo) -> Json:
        """A branch-with-protection object (branches are never protected here)."""
        url = f"{self.api}/repos/{repo.full_name}/branches/{name}"
        return {
            "name": name,
            "commit": self.commit(repo, info),
            "_links": {"self": url, "html": f"{self.html}/{repo.full_name}/tree/{name}"},
            "protected": False,
            "protection": {
                "enabled": False,
                "required_status_checks": {
                    "enforcement_level": "off",
                    "contexts": [],
                    "checks": [],
                },
            },
            "protection_url": f"{url}/protection",
        }

    def git_ref(self, repo: Repo, ref: str, sha: str) -> Json:
        """A git-ref object."""
        kind = repo.git.object_type(sha) or "commit"
        return {
            "ref": ref,
            "node_id": f"REF_kwDO{zlib.crc32(f'{repo.full_name}:{ref}'.encode()):010d}",
            "url": f"{self.api}/repos/{repo.full_name}/git/{ref}",
            "object": {
                "sha": sha,
                "type": kind,
                "url": f"{self.api}/repos/{repo.full_name}/git/{kind}s/{sha}",
            },
        }

    def permission(self, repo: Repo, login: str, role: str) -> Json:
        """A repository-collaborator-permission object."""
        legacy = LEGACY_PERMISSION[role]
        return {
            "permission": legacy,
            "role_name": role,
            "user": {
                **self.user(login),
                "permissions": {
                    "admin": role_at_least(role, "admin"),
                    "maintain": role_at_least(role, "maintain"),
                    "push": role_at_least(role, "write"),
                    "triage": role_at_least(role, "triage"),
                    "pull": role_at_least(role, "read"),
                },
                "role_name": role,
            },
        }

    def review(self, repo: Repo, pull: PullRequest, review: Review) -> Json:
        """A pull-request-review object."""
        pull_url = f"{self.api}/repos/{repo.full_name}/pulls/{pull.number}"
        html = f"{self.html}/{repo.full_name}/pull/{pull.number}#pullrequestreview-{review.id}"
        return {
            "id": review.id,
            "node_id": f"PRR_kwDO{review.id:08d}",
            "user": self.user(review.login),
            "body": review.body,
            "state": review.state,
            "html_url": html,
            "pull_request_url": pull_url,
            "author_association": self.association(repo, review.login, None),
            "_links": {"html": {"href": html}, "pull_request": {"href": pull_url}},
            "submitted_at": self.world.iso(review.submitted_at),
            "commit_id": review.commit_id,
        }

    def review_comment(self, repo: Repo, pull: PullRequest, comment: ReviewComment) -> Json:
        """A pull-request-review-comment object."""
        url = f"{self.api}/repos/{repo.full_name}/pulls/comments/{comment.id}"
        pull_url = f"{self.api}/repos/{repo.full_name}/pulls/{pull.number}"
        html = f"{self.html}/{repo.full_name}/pull/{pull.number}#discussion_r{comment.id}"
        data: Json = {
            "url": url,
            "pull_request_review_id": comment.review_id,
            "id": comment.id,
            "node_id": f"PRRC_kwDO{comment.id:08d}",
            "diff_hunk": f"@@ -0,0 +1,{comment.line} @@",
            "path": comment.path,
            "position": comment.line,
            "original_position": comment.line,
            "commit_id": comment.commit_id,
            "original_commit_id": comment.commit_id,
            "user": self.user(comment.login),
            "body": comment.body,
            "created_at": self.world.iso(comment.created_at),
            "updated_at": self.world.iso(comment.updated_at),
            "html_url": html,
            "pull_request_url": pull_url,
            "author_association": self.association(repo, comment.login, None),
            "_links": {
                "self": {"href": url},
                "html": {"href": html},
                "pull_request": {"href": pull_url},
            },
            "start_line": None,
            "original_start_line": None,
            "start_side": None,
            "line": comment.line,
            "original_line": comment.line,
            "side": comment.side,
            "subject_type": "line",
            "reactions": self.rollup(f"{url}/reactions", comment.reactions),
        }
        if comment.in_reply_to_id is not None:
            data["in_reply_to_id"] = comment.in_reply_to_id
        return data
