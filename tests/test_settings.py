"""Settings: precedence, strict validation with file:line errors, and the generated schema and docs."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import yaml

from bot import settings
from bot.cli.schema import markdown_reference, schema_text
from bot.exceptions import FatalError
from bot.settings import KEYS, Settings, load

ROOT = Path(__file__).resolve().parent.parent


def load_text(text: str, env: dict[str, str] | None = None) -> Settings:
    return load(env or {}, file_text=text)


def error_of(text: str, env: dict[str, str] | None = None) -> FatalError:
    with pytest.raises(FatalError) as info:
        load_text(text, env)
    return info.value


def test_defaults_without_file_or_inputs() -> None:
    s = load({})
    assert s == Settings()
    assert s.trigger_label == "specship"
    assert s.command_prefix == "/specship"
    assert s.draft is True
    assert s.public_routes == ()


def test_file_values_are_typed() -> None:
    s = load_text("max-turns: 12\nmax-cost-usd: 2\ndraft: false\npublic-routes: ['GET /health']\n")
    assert s.max_turns == 12
    assert s.max_cost_usd == 2.0
    assert isinstance(s.max_cost_usd, float)
    assert s.draft is False
    assert s.public_routes == ("GET /health",)


def test_input_wins_over_file_and_empty_input_means_unset() -> None:
    env = {"INPUT_MAX-TURNS": "30", "INPUT_TRIGGER-LABEL": "  ", "INPUT_MODEL": ""}
    s = load_text("max-turns: 12\ntrigger-label: build-me\n", env)
    assert s.max_turns == 30
    assert s.trigger_label == "build-me"
    assert s.model == Settings().model


def test_underscore_input_names_work_for_local_runs() -> None:
    assert load({"INPUT_MAX_TURNS": "7"}).max_turns == 7


def test_list_inputs_split_on_commas_and_newlines() -> None:
    s = load({"INPUT_REVIEWERS": "alice, bob\ncarol\n", "INPUT_ALLOWED-BOTS": "renovate[bot]"})
    assert s.reviewers == ("alice", "bob", "carol")
    assert s.allowed_bots == ("renovate[bot]",)


def test_boolean_input_words() -> None:
    assert load({"INPUT_DRAFT": "false"}).draft is False
    assert load({"INPUT_DRAFT": "True"}).draft is True


def test_repo_file_is_read_from_the_work_tree(tmp_path: Path) -> None:
    (tmp_path / ".github").mkdir()
    (tmp_path / ".github/specship.yml").write_text("max-turns: 9\n")
    assert load({}, repo_root=tmp_path).max_turns == 9


def test_config_file_input_must_exist(tmp_path: Path) -> None:
    with pytest.raises(FatalError, match=r"config-file input does not exist"):
        load({"INPUT_CONFIG-FILE": "ci/specship.yml"}, repo_root=tmp_path)


def test_unknown_key_names_file_line_and_closest_key() -> None:
    err = error_of("model: x-model\n\nmax-turn: 3\n")
    assert ".github/specship.yml:3" in err.cause
    assert "unknown key 'max-turn'" in err.cause
    assert "Did you mean 'max-turns'?" in err.fix


def test_snake_case_key_suggests_kebab_case() -> None:
    err = error_of("trigger_label: go\n")
    assert "Did you mean 'trigger-label'?" in err.fix


def test_wrong_type_names_expected_type() -> None:
    err = error_of("draft: maybe\n")
    assert ".github/specship.yml:1" in err.cause
    assert "must be true or false" in err.cause
    err = error_of("max-turns: '10'\n")
    assert "must be a whole number" in err.cause
    err = error_of("reviewers: alice\n")
    assert "must be a list of strings" in err.cause
    err = error_of("max-turns: 2.5\n")
    assert "must be a whole number" in err.cause


def test_range_enum_and_pattern_errors() -> None:
    assert "above the maximum 500" in error_of("max-turns: 501\n").cause
    assert "below the minimum" in error_of("max-cost-usd: 0\n").cause
    err = error_of("provider: bedrok\n")
    assert "Did you mean 'bedrock'?" in err.fix
    assert "not valid" in error_of("branch-prefix: 'bad prefix'\n").cause
    assert "invalid item" in error_of("public-routes: ['FETCH /x']\n").cause


def test_secrets_are_refused_in_the_repository_file() -> None:
    err = error_of("github-token: ghs_abc\n")
    assert "belongs in the workflow" in err.cause


def test_duplicate_key_is_an_error() -> None:
    err = error_of("max-turns: 3\nmax-turns: 4\n")
    assert ":2:" in err.cause
    assert "first on line 1" in err.cause


def test_invalid_yaml_names_the_line() -> None:
    err = error_of("max-turns: 3\nlabels: [a, b\n")
    assert ".github/specship.yml:" in err.cause
    assert "YAML" in err.fix


def test_file_must_be_a_mapping() -> None:
    assert "must be a mapping" in error_of("- a\n- b\n").cause


def test_empty_file_means_defaults() -> None:
    assert load_text("# nothing yet\n") == Settings()


def test_bad_input_value_names_the_input() -> None:
    with pytest.raises(FatalError, match=r"action input 'max-turns'.*whole number"):
        load({"INPUT_MAX-TURNS": "lots"})


def test_repr_hides_secrets() -> None:
    s = load({"INPUT_GITHUB-TOKEN": "ghs_" + "a" * 36, "INPUT_ANTHROPIC-API-KEY": "sk-ant-xyz123456"})
    assert s.github_token.startswith("ghs_")
    assert "ghs_" not in repr(s)
    assert "sk-ant" not in str(s)
    assert "github_token='***'" in repr(s)


def test_required_keys_exist() -> None:
    required = [
        "trigger-label",
        "command-prefix",
        "model",
        "max-turns",
        "max-cost-usd",
        "timeout-minutes",
        "branch-prefix",
        "base-branch",
        "draft",
        "setup-command",
        "test-command",
        "public-routes",
        "auth-dependencies",
        "allowed-bots",
        "protected-paths",
        "reviewers",
        "labels",
    ]
    assert set(required) <= set(KEYS)


def test_published_schema_matches_settings() -> None:
    published = (ROOT / "docs/specship.schema.json").read_text(encoding="utf-8")
    assert published == schema_text(), "regenerate: python -m bot schema > docs/specship.schema.json"
    schema = json.loads(published)
    jsonschema.Draft7Validator.check_schema(schema)
    file_keys = {k.name for k in KEYS.values() if not k.input_only}
    assert set(schema["properties"]) == file_keys


def test_configuration_reference_matches_settings() -> None:
    doc = (ROOT / "docs/configuration.md").read_text(encoding="utf-8")
    assert doc == markdown_reference(), (
        "regenerate: python -m bot schema --format markdown > docs/configuration.md"
    )


@pytest.mark.parametrize(
    "text",
    [
        "max-turns: 3\n",
        "public-routes: ['GET /health', '/docs*']\ndraft: false\n",
        "labels: [specship, ai]\nchecklists: refuse\n",
        "setup-command: 'pip install -r requirements.txt'\n",
        "setup-command: ['uv sync --frozen', [sh, -c, 'cd backend && alembic upgrade head']]\n",
        "test-env: ['POSTGRES_SERVER=localhost', POSTGRES_PASSWORD, 'CORS=http://a,http://b']\n",
    ],
)
def test_schema_and_loader_agree_on_valid_files(text: str) -> None:
    schema = json.loads(schema_text())
    jsonschema.validate(yaml.safe_load(text), schema)
    load_text(text)


@pytest.mark.parametrize(
    "text",
    [
        "max-turn: 3\n",
        "draft: 'yes'\n",
        "max-turns: 0\n",
        "provider: azure\n",
        "labels: x\n",
        "setup-command: 3\n",
        "setup-command: [[]]\n",
        "setup-command: [[pip, 3]]\n",
        "test-env: ['9LIVES=1']\n",
        "test-env: 'A=1'\n",
    ],
)
def test_schema_and_loader_agree_on_invalid_files(text: str) -> None:
    schema = json.loads(schema_text())
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(yaml.safe_load(text), schema)
    with pytest.raises(FatalError):
        load_text(text)


def test_every_key_has_a_description_and_a_known_kind() -> None:
    for key in settings.KEYS.values():
        assert key.description.endswith("."), key.name
        assert key.kind in ("string", "integer", "number", "boolean", "array", "commands")


def test_setup_command_forms_all_become_argv_lists() -> None:
    one = load({}, file_text='setup-command: "pip install -r requirements.txt"\n').setup_command
    assert one == (("pip", "install", "-r", "requirements.txt"),)
    listed = load({}, file_text="setup-command: ['uv sync --frozen', [sh, -c, 'a && b']]\n").setup_command
    assert listed == (("uv", "sync", "--frozen"), ("sh", "-c", "a && b"))  # an argv list is taken literally
    text = "uv sync --frozen\n\npython -m alembic upgrade head\n"
    lines = load({"INPUT_SETUP-COMMAND": text}).setup_command
    assert lines == (("uv", "sync", "--frozen"), ("python", "-m", "alembic", "upgrade", "head"))
    assert load({}, file_text='setup-command: ""\n').setup_command == ()


@pytest.mark.parametrize(
    ("value", "token"),
    [("'pip install . > log'", ">"), ("'source venv/bin/activate'", "source"), ("'echo $(id)'", "$(id)")],
)
def test_shell_syntax_in_a_command_string_is_refused_with_the_explicit_form(value: str, token: str) -> None:
    with pytest.raises(FatalError) as error:
        load({}, file_text=f"setup-command: {value}\n")
    assert f"uses shell syntax ({token!r})" in error.value.cause
    assert "['sh', '-c'," in error.value.fix


def test_test_env_inputs_split_on_lines_only() -> None:
    env = {"INPUT_TEST-ENV": "CORS=http://a,http://b\nPOSTGRES_PASSWORD\n"}
    assert load(env).test_env == ("CORS=http://a,http://b", "POSTGRES_PASSWORD")
    with pytest.raises(FatalError, match="has an invalid item"):
        load({}, file_text="test-env: ['1ABC=x']\n")
