"""Render the Jinja2 prompt templates in prompts/ with StrictUndefined."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import jinja2

PROMPTS_DIR = Path(__file__).resolve().parents[2] / "prompts"


@cache
def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(PROMPTS_DIR),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        autoescape=False,  # noqa: S701 - these are prompts and Markdown, not HTML
        trim_blocks=False,
    )


def render(name: str, **context: Any) -> str:
    """Render prompts/<name>.j2; a missing variable is an error, never an empty string."""
    return _environment().get_template(f"{name}.j2").render(**context)
