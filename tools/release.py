"""Release steps the workflow runs (standard library only): check the version, pin action.yml's image.

python3 tools/release.py check-version 0.2.0 pyproject.toml
python3 tools/release.py pin-image ghcr.io/specship/specship sha256:<64 hex> action.yml
"""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

VERSION = re.compile(r"\d+\.\d+\.\d+")
IMAGE = re.compile(r"ghcr\.io/[a-z0-9][a-z0-9._-]*(?:/[a-z0-9][a-z0-9._-]*)+")
DIGEST = re.compile(r"sha256:[0-9a-f]{64}")
# The repository's action.yml builds from the Dockerfile: exactly this line under `runs:`.
BUILD_LINE = re.compile(r"^(?P<indent>[ \t]+)image:[ \t]*['\"]?Dockerfile['\"]?[ \t]*$", re.M)


class ReleaseError(Exception):
    """A release step cannot go on; the message says why and what to do."""


def check_version(version: str, pyproject: str, tag_exists: bool = False) -> str:
    """The version to release: semantic, equal to pyproject.toml's, and not tagged yet."""
    if not VERSION.fullmatch(version):
        raise ReleaseError(f"version {version!r} is not MAJOR.MINOR.PATCH (e.g. 0.2.0)")
    declared = tomllib.loads(pyproject)["project"]["version"]
    if declared != version:
        raise ReleaseError(
            f"pyproject.toml says version {declared}, not {version}: bump it first, or release {declared}"
        )
    if tag_exists:
        raise ReleaseError(f"v{version} is already tagged: bump the version in pyproject.toml")
    return version


def pin_image(action_yml: str, image: str, digest: str) -> str:
    """action.yml with `image: Dockerfile` replaced by the released image, pinned by digest."""
    if not IMAGE.fullmatch(image):
        raise ReleaseError(f"image {image!r} is not a ghcr.io/<owner>/<name> name in lowercase")
    if not DIGEST.fullmatch(digest):
        raise ReleaseError(f"digest {digest!r} is not sha256:<64 hex> (a tag is not a pin)")
    runs = re.search(r"^runs:[ \t]*$", action_yml, re.M)
    found = list(BUILD_LINE.finditer(action_yml, runs.end() if runs else len(action_yml)))
    if len(found) != 1:
        raise ReleaseError(
            f"action.yml has {len(found)} `image: Dockerfile` lines under runs:, expected exactly 1 "
            "(is it pinned already?)"
        )
    line = found[0]
    pinned = f"{line.group('indent')}image: docker://{image}@{digest}"
    return action_yml[: line.start()] + pinned + action_yml[line.end() :]


def _tag_exists(version: str) -> bool:
    done = subprocess.run(
        ["git", "rev-parse", "--quiet", "--verify", f"refs/tags/v{version}"],
        capture_output=True,
        check=False,
    )
    return done.returncode == 0


def main(argv: list[str]) -> int:
    try:
        if len(argv) == 3 and argv[0] == "check-version":
            version, pyproject = argv[1], Path(argv[2]).read_text(encoding="utf-8")
            print(f"releasing v{check_version(version, pyproject, _tag_exists(version))}")
            return 0
        if len(argv) == 4 and argv[0] == "pin-image":
            path = Path(argv[3])
            path.write_text(pin_image(path.read_text(encoding="utf-8"), argv[1], argv[2]), encoding="utf-8")
            print(f"{path}: runs docker://{argv[1]}@{argv[2]}")
            return 0
    except (ReleaseError, OSError, KeyError, tomllib.TOMLDecodeError) as exc:
        print(f"release: error: {exc}", file=sys.stderr)
        return 1
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
