# Specship's action image. The repository's action.yml builds it from this file on every run
# (runs.image: Dockerfile, what a fork wants); a release builds it once, pushes it to GHCR and
# points its action.yml at it by digest (.github/workflows/release.yml).
#
# The base is pinned by digest: the multi-platform index of python:3.12.14-slim-bookworm (the
# tag is informational; the digest decides). To refresh it deliberately:
#   docker buildx imagetools inspect python:3.12-slim-bookworm
# and copy the top-level "Digest:" (the index, not a per-platform manifest) below.
FROM python:3.12.14-slim-bookworm@sha256:782412e85d0f0984994c290652577d4018aff08145c85b262bb63dc0c7522254

# git: Specship branches, commits and pushes itself.
# Not version-pinned (DL3008): the base image is pinned by digest, and Debian stable drops
# superseded package versions from its mirror, so an exact `git=<version>` pin would break the
# build at the next security update instead of picking it up.
# The workspace GitHub mounts at /github/workspace belongs to the runner's user, not to root;
# safe.directory lets root's git work there without "detected dubious ownership".
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends git \
    && rm -rf /var/lib/apt/lists/* \
    && git config --system --add safe.directory /github/workspace

# Runtime dependencies, every one hash-pinned (the same lock the Makefile bootstraps from). They
# include uv (/usr/local/bin/uv): `uv sync --frozen` builds a project's environment from its uv.lock.
COPY requirements.lock /tmp/requirements.lock
RUN pip install --no-cache-dir --disable-pip-version-check --require-hashes --no-deps \
        -r /tmp/requirements.lock \
    && rm /tmp/requirements.lock

# The unprivileged account Specship's sandbox drops to when it runs generated code (pytest,
# the app import): fixed uid so the harness can rely on it, no login shell, and its home
# outside the workspace so nothing it writes there lands in a commit.
RUN useradd --system --no-log-init --uid 10001 --user-group \
        --home-dir /nonexistent --no-create-home --shell /usr/sbin/nologin specship-runner

# Specship itself, root-owned and read-only for specship-runner. pyproject.toml carries the
# version `specship --version` prints (the package is not pip-installed here).
COPY bot /opt/specship/bot
COPY prompts /opt/specship/prompts
COPY pyproject.toml /opt/specship/pyproject.toml

# Bytecode now, once: PYTHONDONTWRITEBYTECODE below keeps every run from writing it into the
# image's layers at start-up (and a syntax error fails the build instead of the user's job).
RUN python -m compileall -q /opt/specship/bot

# OCI labels: GHCR links the package to its repository by `source`; the release workflow adds
# the version and revision.
LABEL org.opencontainers.image.title="Specship" \
      org.opencontainers.image.description="Turn Spec Kit specifications into tested, secure pull requests for FastAPI + SQLModel backends." \
      org.opencontainers.image.source="https://github.com/specship/specship" \
      org.opencontainers.image.licenses="MIT"

ENV PYTHONPATH=/opt/specship \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1

# No USER: the orchestrator runs as root because GitHub mounts the workspace (and the
# file-command and home directories) owned by the runner's user, and a Docker action cannot
# choose that uid; as root it can write there and still drop to specship-runner for every
# process that runs generated code. The tokens never leave this root process.
#
# Exec form, so `python` is PID 1 and receives the runner's SIGTERM on cancel. `-P` keeps the
# working directory (the user's repository, /github/workspace) off sys.path, so a `bot/`
# package in that repository cannot shadow Specship's. runs.args in action.yml adds `action`.
ENTRYPOINT ["python", "-P", "-m", "bot"]
