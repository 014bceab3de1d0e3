"""Check runs: the `Specship` verdict on a commit, its annotations paged 50 per request."""

from __future__ import annotations

import urllib.parse
from typing import Any

from bot.github.retry import Call, Calls, GitHubApiError
from bot.github.types import CheckRunInfo, CheckRunSpec

# GitHub: "The Checks API limits the number of annotations to a maximum of 50 per API request";
# more go in updates of the same run, which append them.
ANNOTATIONS_PER_REQUEST = 50
# Beyond this the summary says how many were left out (each page is one more write request).
MAX_ANNOTATIONS = 500
TEXT_LIMIT = 65535  # characters of a check run's summary or text
NEEDS_APP = (
    "GitHub creates check runs only for GitHub Apps; a personal access token cannot, so this pull "
    "request has no `{name}` check run."
)
NEEDS_APP_FIX = (
    "Pass the workflow's GITHUB_TOKEN (with `permissions: {checks: write}`) or a GitHub App token as "
    "`github-token`."
)


def _fit(text: str) -> str:
    note = "\n\n…(truncated to GitHub's size limit)"
    return text if len(text) <= TEXT_LIMIT else text[: TEXT_LIMIT - len(note)] + note


class CheckRuns:
    """Mixed into GitHubHost, which provides the request plumbing declared here."""

    _path: str

    def request(self, call: Call, method: str, path: str, body: Any = None, **kw: Any) -> Any:
        raise NotImplementedError

    def _no_secrets(self, *texts: str) -> None:
        raise NotImplementedError

    def publish_check_run(self, spec: CheckRunSpec) -> CheckRunInfo:
        """Create a completed check run on spec.head_sha: the first 50 annotations with it, the
        rest appended by updates of the same run. Raises GitHubApiError when GitHub refuses it
        (MissingPermission without `checks: write`)."""
        annotations = list(spec.annotations[:MAX_ANNOTATIONS])
        summary = spec.summary
        if len(spec.annotations) > MAX_ANNOTATIONS:
            left = len(spec.annotations) - MAX_ANNOTATIONS
            summary += f"\n\n{left} more findings are not annotated here; the job log has every one."
        output = {"title": spec.title[:255], "summary": _fit(summary), "text": _fit(spec.text)}
        self._no_secrets(
            output["title"], output["summary"], output["text"], *(a.message for a in annotations)
        )
        pages = [
            annotations[i : i + ANNOTATIONS_PER_REQUEST]
            for i in range(0, len(annotations), ANNOTATIONS_PER_REQUEST)
        ] or [[]]
        body: dict[str, Any] = {
            "name": spec.name,
            "head_sha": spec.head_sha,
            "status": "completed",
            "conclusion": spec.conclusion,
            "output": {**output, "annotations": [a.to_json() for a in pages[0]]},
        }
        if spec.details_url:
            body["details_url"] = spec.details_url
        if spec.external_id:
            body["external_id"] = spec.external_id
        try:
            data = self.request(Calls.CREATE_CHECK_RUN, "POST", "check-runs", body)
        except GitHubApiError as err:
            if err.status == 403 and "must authenticate via a github app" in err.message.lower():
                raise GitHubApiError(
                    NEEDS_APP.format(name=spec.name), NEEDS_APP_FIX, status=403, message=err.message
                ) from None
            raise
        for page in pages[1:]:
            update = {"output": {**output, "annotations": [a.to_json() for a in page]}}
            data = self.request(Calls.UPDATE_CHECK_RUN, "PATCH", f"check-runs/{int(data['id'])}", update)
        return CheckRunInfo.from_json(data)

    def check_runs(self, ref: str, name: str) -> list[CheckRunInfo]:
        """The latest check runs called name on a commit (a sha or a branch)."""
        path = f"commits/{urllib.parse.quote(ref, safe='')}/check-runs"
        data = self.request(
            Calls.LIST_CHECK_RUNS, "GET", path, parameters={"check_name": name, "per_page": 100}
        )
        runs = data.get("check_runs") if isinstance(data, dict) else None
        return [CheckRunInfo.from_json(r) for r in runs or [] if isinstance(r, dict)]
