"""The release: one image build pushed to GHCR and attested, and a tag whose action.yml runs that
image by digest. No Docker engine or GitHub here: tools/release.py runs for real, check-jsonschema
and zizmor judge the rewritten action.yml, and the publish step's own script tags a real
repository and pushes to a bare one."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import run_git
from tests.test_action_hygiene import ACTION, ROOT, SHA_PINNED, load_yaml, run_zizmor, triggers

sys.path.insert(0, str(ROOT / "tools"))
import release

WORKFLOW = ROOT / ".github/workflows/release.yml"
IMAGE = "ghcr.io/specship/specship"
DIGEST = "sha256:" + "ab" * 32
VERSION = release.tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]


def tool(name: str) -> str:
    return str(Path(sys.executable).parent / name)


# ---- tools/release.py ----------------------------------------------------------------------------


def test_pinning_changes_only_the_image_line_and_stays_a_valid_action(tmp_path: Path) -> None:
    original = ACTION.read_text(encoding="utf-8")
    pinned = release.pin_image(original, IMAGE, DIGEST)
    changed = [(a, b) for a, b in zip(original.splitlines(), pinned.splitlines(), strict=True) if a != b]
    assert changed == [("  image: Dockerfile", f"  image: docker://{IMAGE}@{DIGEST}")]
    runs = yaml.safe_load(pinned)["runs"]
    assert runs == {"using": "docker", "image": f"docker://{IMAGE}@{DIGEST}", "args": ["action"]}
    path = tmp_path / "action.yml"
    path.write_text(pinned, encoding="utf-8")
    done = subprocess.run(
        [tool("check-jsonschema"), "--builtin-schema", "vendor.github-actions", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    code, findings, stderr = run_zizmor(path)
    assert code == 0, f"{findings} {stderr}"


@pytest.mark.parametrize(
    ("image", "digest", "message"),
    [
        (IMAGE, "v1.2.3", "is not sha256:<64 hex>"),
        (IMAGE, "sha256:abc", "is not sha256:<64 hex>"),
        ("docker.io/specship/specship", DIGEST, "is not a ghcr.io/"),
        ("ghcr.io/Specship/Specship", DIGEST, "in lowercase"),
        ("ghcr.io/specship/specship:latest", DIGEST, "is not a ghcr.io/"),
    ],
)
def test_pinning_refuses_anything_but_a_ghcr_image_by_digest(image: str, digest: str, message: str) -> None:
    with pytest.raises(release.ReleaseError, match=re.escape(message)):
        release.pin_image(ACTION.read_text(encoding="utf-8"), image, digest)


def test_pinning_twice_is_refused() -> None:
    pinned = release.pin_image(ACTION.read_text(encoding="utf-8"), IMAGE, DIGEST)
    with pytest.raises(release.ReleaseError, match="has 0 `image: Dockerfile` lines"):
        release.pin_image(pinned, IMAGE, DIGEST)


def test_the_version_must_be_pyprojects_and_new() -> None:
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert release.check_version(VERSION, pyproject) == VERSION
    with pytest.raises(release.ReleaseError, match=f"pyproject.toml says version {VERSION}, not 9.9.9"):
        release.check_version("9.9.9", pyproject)
    with pytest.raises(release.ReleaseError, match=r"is not MAJOR\.MINOR\.PATCH"):
        release.check_version("v1", pyproject)
    with pytest.raises(release.ReleaseError, match="already tagged"):
        release.check_version(VERSION, pyproject, tag_exists=True)


# ---- .github/workflows/release.yml -----------------------------------------------------------------


def steps(doc: dict[str, Any], job: str) -> list[dict[str, Any]]:
    return list(doc["jobs"][job]["steps"])


def uses(doc: dict[str, Any], job: str, action: str) -> list[dict[str, Any]]:
    return [s for s in steps(doc, job) if str(s.get("uses", "")).startswith(action + "@")]


def test_the_release_is_run_by_hand_with_least_privilege() -> None:
    doc = load_yaml(WORKFLOW)
    assert list(triggers(doc)) == ["workflow_dispatch"]
    assert doc["permissions"] == {}
    assert doc["concurrency"] == {"group": "release", "cancel-in-progress": False}
    assert doc["jobs"]["image"]["permissions"] == {
        "contents": "read",
        "packages": "write",
        "id-token": "write",
        "attestations": "write",
    }
    assert doc["jobs"]["publish"]["permissions"] == {"contents": "write"}
    assert doc["jobs"]["publish"]["needs"] == "image"
    for job in doc["jobs"].values():
        assert job["timeout-minutes"] <= 30
        for step in job["steps"]:
            if "uses" in step:
                assert SHA_PINNED.match(step["uses"]), step["uses"]
            assert "${{" not in str(step.get("run", ""))


def test_the_image_is_built_once_pushed_and_attested_by_its_digest() -> None:
    doc = load_yaml(WORKFLOW)
    all_builds = [s for job in doc["jobs"] for s in uses(doc, job, "docker/build-push-action")]
    (build,) = all_builds
    assert build["id"] == "build"
    assert build["with"]["push"] is True
    assert build["with"]["tags"] == "${{ steps.name.outputs.image }}:v${{ inputs.version }}"
    (attest,) = uses(doc, "image", "actions/attest-build-provenance")
    assert attest["with"] == {
        "subject-name": "${{ steps.name.outputs.image }}",
        "subject-digest": "${{ steps.build.outputs.digest }}",
        "push-to-registry": True,
    }
    (login,) = uses(doc, "image", "docker/login-action")
    assert login["with"]["registry"] == "ghcr.io"
    assert doc["jobs"]["image"]["outputs"]["digest"] == "${{ steps.build.outputs.digest }}"
    names = [s.get("name", "") for s in steps(doc, "image")]
    assert names.index("Check the version and that it is not released yet") < [
        s.get("id") for s in steps(doc, "image")
    ].index("build")


def test_the_release_workflow_is_zizmor_clean() -> None:
    code, findings, stderr = run_zizmor(WORKFLOW)
    assert code == 0, f"{findings} {stderr}"


def test_the_publish_step_tags_a_commit_whose_action_runs_the_image(tmp_path: Path) -> None:
    """The publish step's own script, on a copy of this repository with a bare `origin`."""
    doc = load_yaml(WORKFLOW)
    (step,) = [s for s in steps(doc, "publish") if "run" in s]
    work, origin = tmp_path / "work", tmp_path / "origin.git"
    run_git(tmp_path, "init", "-q", "--bare", str(origin))
    work.mkdir()
    for name in ("action.yml", "pyproject.toml"):
        shutil.copy(ROOT / name, work / name)
    shutil.copytree(ROOT / "tools", work / "tools", ignore=shutil.ignore_patterns("__pycache__"))
    run_git(work, "init", "-q")
    run_git(work, "add", "-A")
    run_git(work, "commit", "-qm", "the commit the image was built from")
    run_git(work, "remote", "add", "origin", str(origin))
    built_from = run_git(work, "rev-parse", "HEAD").strip()
    values = {
        "${{ inputs.version }}": VERSION,
        "${{ needs.image.outputs.image }}": IMAGE,
        "${{ needs.image.outputs.digest }}": DIGEST,
        "${{ github.token }}": "ghs_" + "t" * 36,
    }
    # the step's own env:, its expressions given the values GitHub would; nothing from this machine's git
    step_env = {name: values.get(str(value), str(value)) for name, value in step["env"].items()}
    assert not [v for v in step_env.values() if "${{" in v]
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "GIT_"))},
        "HOME": str(tmp_path),
        "GIT_CONFIG_NOSYSTEM": "1",
        **step_env,
    }
    done = subprocess.run(
        ["bash", "-c", step["run"]], cwd=work, env=env, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "ghs_" not in done.stdout + done.stderr
    tag = f"v{VERSION}"
    released = run_git(origin, "rev-parse", f"{tag}^{{commit}}").strip()
    assert run_git(origin, "rev-parse", f"{released}^").strip() == built_from
    action = yaml.safe_load(run_git(origin, "show", f"{tag}:action.yml"))
    assert action["runs"]["image"] == f"docker://{IMAGE}@{DIGEST}"
    assert run_git(origin, "diff", "--name-only", built_from, released).split() == ["action.yml"]
    assert run_git(origin, "for-each-ref", "--format=%(objecttype)", f"refs/tags/{tag}").strip() == "tag"
    assert "token" not in run_git(work, "config", "--list").lower()
