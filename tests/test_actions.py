"""The Actions runtime: output files, summary, annotation escaping, masks, groups, relayed text."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest

from bot.actions import Runtime, escape_data, escape_property
from bot.redact import REDACTED, Redactor

TOKEN = "ghs_" + "A1b2C3d4" * 5


def make(tmp_path: Path, in_actions: bool = True) -> tuple[Runtime, io.StringIO, io.StringIO]:
    out, err = io.StringIO(), io.StringIO()
    env = {
        "GITHUB_OUTPUT": str(tmp_path / "output"),
        "GITHUB_STEP_SUMMARY": str(tmp_path / "summary"),
    }
    if in_actions:
        env["GITHUB_ACTIONS"] = "true"
    return Runtime(env=env, out=out, err=err), out, err


def parse_output_file(text: str) -> dict[str, str]:
    """Parse GITHUB_OUTPUT the way the runner does (name=value and name<<DELIM heredocs)."""
    values: dict[str, str] = {}
    lines = text.split("\n")
    i = 0
    while i < len(lines):
        line = lines[i]
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            name, delim = line.split("<<", 1)
            body = []
            i += 1
            while lines[i] != delim:
                body.append(lines[i])
                i += 1
            values[name] = "\n".join(body)
        elif "=" in line:
            name, value = line.split("=", 1)
            values[name] = value
        i += 1
    return values


def test_escape_data_and_property() -> None:
    assert escape_data("50%\r\nnext") == "50%25%0D%0Anext"
    assert escape_property("a:b,c%\n") == "a%3Ab%2Cc%25%0A"


def test_annotation_escapes_message_and_properties(tmp_path: Path) -> None:
    rt, out, _ = make(tmp_path)
    rt.annotate("error", "bad\n::set-output name=x::y", file="src/a,b:c.py", line=7, title="T:1")
    line = out.getvalue()
    assert line == "::error file=src/a%2Cb%3Ac.py,line=7,title=T%3A1::bad%0A::set-output name=x::y\n"
    assert line.count("\n") == 1


def test_annotation_level_is_checked(tmp_path: Path) -> None:
    rt, _, _ = make(tmp_path)
    with pytest.raises(ValueError, match="unknown annotation level"):
        rt.annotate("debug", "x")


def test_single_and_multi_line_outputs_round_trip(tmp_path: Path) -> None:
    rt, _, _ = make(tmp_path)
    rt.output("pr-number", "12")
    rt.output("jobs", '[{"feature": "002"}]\nsecond line')
    rt.output("tricky", "value with ghadelimiter_ inside\nand more")
    text = (tmp_path / "output").read_text()
    assert parse_output_file(text) == {
        "pr-number": "12",
        "jobs": '[{"feature": "002"}]\nsecond line',
        "tricky": "value with ghadelimiter_ inside\nand more",
    }
    delimiters = re.findall(r"<<(ghadelimiter_[0-9a-f]{32})", text)
    assert len(delimiters) == 2
    assert len(set(delimiters)) == 2


def test_outputs_and_summary_are_redacted(tmp_path: Path) -> None:
    rt, _, _ = make(tmp_path)
    rt.output("x", f"token {TOKEN}")
    rt.summary(f"# Result\nleaked {TOKEN}")
    assert TOKEN not in (tmp_path / "output").read_text()
    summary = (tmp_path / "summary").read_text()
    assert TOKEN not in summary
    assert REDACTED in summary


def test_mask_emits_every_derived_form_before_use(tmp_path: Path) -> None:
    rt, out, _ = make(tmp_path)
    secret = "s3cr3t-value-1234567890\n"
    rt.mask(secret)
    masks = [line.removeprefix("::add-mask::") for line in out.getvalue().splitlines()]
    assert "s3cr3t-value-1234567890" in masks
    import base64

    assert base64.b64encode(b"x-access-token:s3cr3t-value-1234567890").decode() in masks
    rt.info("using s3cr3t-value-1234567890 now")
    assert "s3cr3t-value-1234567890 now" not in out.getvalue()


def test_group_wraps_in_actions_and_is_plain_outside(tmp_path: Path) -> None:
    rt, out, _ = make(tmp_path)
    with rt.group("Run tests"):
        rt.info("inside")
    assert out.getvalue() == "::group::Run tests\ninside\n::endgroup::\n"
    local, out2, _ = make(tmp_path, in_actions=False)
    with local.group("Run tests"):
        pass
    assert "::group::" not in out2.getvalue()


def test_relay_switches_commands_off_with_a_fresh_token(tmp_path: Path) -> None:
    """TC-23."""
    rt, out, _ = make(tmp_path)
    hostile = "::error::pwned\n::add-mask::x\n::stop-commands::abc\n::set-output name=x::y"
    rt.relay(hostile)
    rt.relay(hostile)
    lines = out.getvalue().splitlines()
    starts = [i for i, line in enumerate(lines) if line.startswith("::stop-commands::")]
    tokens = [lines[i].split("::")[2] for i in starts if lines[i] != "::stop-commands::abc"]
    assert len(tokens) == 2
    assert tokens[0] != tokens[1]
    for token in tokens:
        assert re.fullmatch(r"[0-9a-f]{32}", token)
        begin = lines.index(f"::stop-commands::{token}")
        end = lines.index(f"::{token}::")
        assert begin < lines.index("::error::pwned", begin) < end


def test_fail_writes_one_error_line_and_the_summary(tmp_path: Path) -> None:
    rt, out, _ = make(tmp_path)
    rt.fail(f"Bad config: {TOKEN}.", "Fix line 3.\nThen re-run.")
    lines = out.getvalue().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("::error title=Specship::Bad config")
    assert "How to fix: Fix line 3.%0AThen re-run." in lines[0]
    assert TOKEN not in out.getvalue()
    assert "How to fix it:** Fix line 3." in (tmp_path / "summary").read_text()


def test_fail_outside_actions_is_one_plain_line(tmp_path: Path) -> None:
    rt, out, err = make(tmp_path, in_actions=False)
    rt.fail("Spec not ready.", "Answer the questions.")
    assert out.getvalue() == ""
    assert err.getvalue() == "specship: error: Spec not ready. How to fix: Answer the questions.\n"


def test_bug_hides_traceback_unless_asked(tmp_path: Path) -> None:
    rt, out, err = make(tmp_path)
    try:
        raise KeyError(TOKEN)
    except KeyError as exc:
        rt.bug(exc, "Report it.")
        assert "Traceback" not in err.getvalue()
        assert "::error title=Specship bug::Internal error (KeyError" in out.getvalue()
        rt.bug(exc, "Report it.", show_traceback=True)
    assert "Traceback" in err.getvalue()
    assert TOKEN not in out.getvalue() + err.getvalue()


def test_redactor_catches_token_shapes_and_registered_values() -> None:
    redactor = Redactor(["my-very-private-value"])
    text = (
        "a ghp_"
        + "x" * 36
        + " b github_pat_"
        + "y" * 30
        + " c sk-ant-api03-"
        + "z" * 20
        + " d eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.abcdefghijkl"
        + " e my-very-private-value f my-very-private-value"
    )
    cleaned = redactor(text)
    assert cleaned.count(REDACTED) == 6
    assert "ghp_" not in cleaned
    assert "sk-ant" not in cleaned
    assert redactor.contains_secret("x my-very-private-value")
    assert not redactor.contains_secret(cleaned)
