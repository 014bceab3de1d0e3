"""The Messages API's request checks, with the real API's status, error type and wording."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

ErrorReply = tuple[int, str, str]

TOP_LEVEL = frozenset(
    {
        "model",
        "messages",
        "max_tokens",
        "system",
        "tools",
        "tool_choice",
        "stream",
        "temperature",
        "top_p",
        "top_k",
        "stop_sequences",
        "metadata",
        "thinking",
        "cache_control",
        "service_tier",
        "container",
        "output_config",
        "diagnostics",
        "inference_geo",
        "speed",
        "context_management",
        "mcp_servers",
    }
)
# built-in (typed) client tools and the name each must carry
TYPED_TOOLS = {
    "text_editor_20250728": "str_replace_based_edit_tool",
    "text_editor_20250429": "str_replace_based_edit_tool",
    "text_editor_20250124": "str_replace_editor",
    "bash_20250124": "bash",
    "memory_20250818": "memory",
    "web_search_20250305": "web_search",
}
TOOL_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
MAX_BREAKPOINTS = 4
USER_BLOCKS = frozenset({"text", "image", "document", "tool_result", "search_result"})
ASSISTANT_BLOCKS = frozenset(
    {"text", "tool_use", "thinking", "redacted_thinking", "server_tool_use", "web_search_tool_result"}
)
NO_CACHE_BLOCKS = frozenset({"thinking", "redacted_thinking"})


class Invalid(Exception):
    """A request the real API would refuse with 400 invalid_request_error."""


def validate_request(body: Any, models: Mapping[str, int], *, count_only: bool = False) -> ErrorReply | None:
    """None for a valid request, else (status, error type, message) as the API would answer."""
    try:
        if not isinstance(body, dict):
            raise Invalid("The request body must be a JSON object.")
        model = body.get("model")
        if model is None:
            raise Invalid("model: Field required")
        if model not in models:
            return 404, "not_found_error", f"model: {model}"
        _check_fields(body, count_only)
        if not count_only:
            _check_max_tokens(body.get("max_tokens"), model, models[model])
        breakpoints = _check_tools(body) + _check_system(body.get("system"))
        breakpoints += _check_messages(body.get("messages"))
        breakpoints += _cache_control(body.get("cache_control"), "cache_control")
        if breakpoints > MAX_BREAKPOINTS:
            raise Invalid(
                f"A maximum of {MAX_BREAKPOINTS} blocks with cache_control may be provided. "
                f"Found {breakpoints}."
            )
    except Invalid as exc:
        return 400, "invalid_request_error", str(exc)
    return None


def _check_fields(body: dict[str, Any], count_only: bool) -> None:
    allowed = TOP_LEVEL - {"max_tokens", "stream"} if count_only else TOP_LEVEL
    for key in body:
        if key not in allowed:
            raise Invalid(f"{key}: Extra inputs are not permitted")
    if "messages" not in body:
        raise Invalid("messages: Field required")
    if "stream" in body and not isinstance(body["stream"], bool):
        raise Invalid("stream: Input should be a valid boolean")


def _check_max_tokens(value: Any, model: str, limit: int) -> None:
    if value is None:
        raise Invalid("max_tokens: Field required")
    if not isinstance(value, int) or isinstance(value, bool):
        raise Invalid("max_tokens: Input should be a valid integer")
    if value < 1:
        raise Invalid("max_tokens: Input should be greater than or equal to 1")
    if value > limit:
        raise Invalid(
            f"max_tokens: {value} > {limit}, which is the maximum allowed number of output tokens for {model}"
        )


def _cache_control(value: Any, where: str) -> int:
    """1 if `value` is a valid breakpoint, 0 if absent; raises if malformed."""
    if value is None:
        return 0
    if not isinstance(value, dict) or value.get("type") != "ephemeral":
        raise Invalid(f"{where}.type: Input should be 'ephemeral'")
    extra = set(value) - {"type", "ttl"}
    if extra:
        raise Invalid(f"{where}.{sorted(extra)[0]}: Extra inputs are not permitted")
    if value.get("ttl", "5m") not in ("5m", "1h"):
        raise Invalid(f"{where}.ttl: Input should be '5m' or '1h'")
    return 1


def _check_tools(body: dict[str, Any]) -> int:
    tools = body.get("tools")
    if tools is None:
        tools = []
    if not isinstance(tools, list):
        raise Invalid("tools: Input should be a valid list")
    names: set[str] = set()
    breakpoints = 0
    for i, tool in enumerate(tools):
        where = f"tools.{i}"
        if not isinstance(tool, dict):
            raise Invalid(f"{where}: Input should be a valid dictionary")
        kind = tool.get("type")
        name = tool.get("name")
        if kind in (None, "custom"):
            if not isinstance(tool.get("input_schema"), dict):
                raise Invalid(f"{where}.custom.input_schema: Field required")
            if tool["input_schema"].get("type") != "object":
                raise Invalid(f"{where}.custom.input_schema.type: Input should be 'object'")
        elif kind not in TYPED_TOOLS:
            raise Invalid(
                f"{where}: Input tag '{kind}' found using 'type' does not match any of the "
                f"expected tags: {', '.join(['custom', *TYPED_TOOLS])}"
            )
        elif name != TYPED_TOOLS[kind]:
            raise Invalid(f"{where}.{kind}.name: Input should be '{TYPED_TOOLS[kind]}'")
        if not isinstance(name, str) or not TOOL_NAME.match(name):
            raise Invalid(f"{where}.name: String should match pattern '{TOOL_NAME.pattern}'")
        if name in names:
            raise Invalid("tools: Tool names must be unique.")
        names.add(name)
        breakpoints += _cache_control(tool.get("cache_control"), f"{where}.cache_control")
    _check_tool_choice(body.get("tool_choice"), names)
    return breakpoints


def _check_tool_choice(choice: Any, names: set[str]) -> None:
    if choice is None:
        return
    if not isinstance(choice, dict) or choice.get("type") not in ("auto", "any", "tool", "none"):
        raise Invalid("tool_choice: Input should be auto, any, tool or none")
    if choice["type"] == "tool" and choice.get("name") not in names:
        raise Invalid(f"tool_choice.name: tool '{choice.get('name')}' is not in tools")


def _check_system(system: Any) -> int:
    if system is None or isinstance(system, str):
        return 0
    if not isinstance(system, list):
        raise Invalid("system: Input should be a valid string or list of text blocks")
    breakpoints = 0
    for i, block in enumerate(system):
        where = f"system.{i}"
        if not isinstance(block, dict) or block.get("type") != "text":
            raise Invalid(f"{where}.type: Input should be 'text'")
        _check_text(block, where)
        breakpoints += _cache_control(block.get("cache_control"), f"{where}.cache_control")
    return breakpoints


def _check_text(block: dict[str, Any], where: str) -> None:
    if not isinstance(block.get("text"), str):
        raise Invalid(f"{where}.text: Field required")
    if not block["text"]:
        if block.get("cache_control"):
            raise Invalid(f"{where}: cache_control cannot be set for empty text blocks")
        raise Invalid(f"{where}: text content blocks must be non-empty")
    if not block["text"].strip():
        raise Invalid(f"{where}: text content blocks must contain non-whitespace text")


def _blocks(message: dict[str, Any], where: str) -> list[dict[str, Any]]:
    content = message.get("content")
    if isinstance(content, str):
        return [{"type": "text", "text": content}]
    if not isinstance(content, list) or not all(isinstance(b, dict) for b in content):
        raise Invalid(f"{where}.content: Input should be a valid string or list of blocks")
    return content


def _check_messages(messages: Any) -> int:
    if not isinstance(messages, list) or not messages:
        raise Invalid("messages: at least one message is required")
    breakpoints = 0
    previous_uses: list[str] = []
    seen_ids: set[str] = set()
    for i, message in enumerate(messages):
        where = f"messages.{i}"
        if not isinstance(message, dict) or message.get("role") not in ("user", "assistant"):
            raise Invalid(f"{where}.role: Input should be 'user' or 'assistant'")
        role = message["role"]
        if i == 0 and role != "user":
            raise Invalid('messages: first message must use the "user" role')
        if i > 0 and messages[i - 1].get("role") == role:
            raise Invalid(
                'messages: roles must alternate between "user" and "assistant", '
                f'but found multiple "{role}" roles in a row'
            )
        blocks = _blocks(message, where)
        if not blocks and not (role == "assistant" and i == len(messages) - 1):
            raise Invalid(
                f"{where}: all messages must have non-empty content except for the optional "
                "final assistant message"
            )
        allowed = USER_BLOCKS if role == "user" else ASSISTANT_BLOCKS
        for j, block in enumerate(blocks):
            at = f"{where}.content.{j}"
            kind = block.get("type")
            if kind not in allowed:
                raise Invalid(f"{at}.type: '{kind}' blocks are not allowed in {role} messages")
            if kind == "text":
                _check_text(block, at)
            if kind in NO_CACHE_BLOCKS and "cache_control" in block:
                raise Invalid(f"{at}: cache_control cannot be set on {kind} blocks")
            if kind == "thinking":
                for name in ("thinking", "signature"):
                    if not isinstance(block.get(name), str):
                        raise Invalid(f"{at}.thinking.{name}: Field required")
            if kind == "redacted_thinking" and not isinstance(block.get("data"), str):
                raise Invalid(f"{at}.redacted_thinking.data: Field required")
            breakpoints += _cache_control(block.get("cache_control"), f"{at}.cache_control")
            if kind == "tool_result":
                breakpoints += _check_result_content(block, at)
        if role == "user":
            _check_results(blocks, previous_uses, where)
            previous_uses = []
        else:
            previous_uses = _tool_uses(blocks, where, seen_ids)
    if previous_uses:
        raise Invalid(
            f"messages.{len(messages) - 1}: `tool_use` ids were found without `tool_result` "
            f"blocks immediately after: {', '.join(previous_uses)}. Each `tool_use` block must "
            "have a corresponding `tool_result` block in the next message."
        )
    return breakpoints


def _tool_uses(blocks: list[dict[str, Any]], where: str, seen: set[str]) -> list[str]:
    ids: list[str] = []
    for j, block in enumerate(blocks):
        if block.get("type") != "tool_use":
            continue
        at = f"{where}.content.{j}"
        tool_id = block.get("id")
        if not isinstance(tool_id, str) or not re.match(r"^[a-zA-Z0-9_-]+$", tool_id):
            raise Invalid(f"{at}.id: String should match pattern '^[a-zA-Z0-9_-]+$'")
        if not isinstance(block.get("name"), str) or not isinstance(block.get("input"), dict):
            raise Invalid(f"{at}: tool_use blocks need a string 'name' and an object 'input'")
        if tool_id in seen:
            raise Invalid(f"{at}: `tool_use` ids must be unique: {tool_id}")
        seen.add(tool_id)
        ids.append(tool_id)
    return ids


def _check_result_content(block: dict[str, Any], at: str) -> int:
    if not isinstance(block.get("tool_use_id"), str):
        raise Invalid(f"{at}.tool_use_id: Field required")
    if "is_error" in block and not isinstance(block["is_error"], bool):
        raise Invalid(f"{at}.is_error: Input should be a valid boolean")
    content = block.get("content", "")
    if isinstance(content, str):
        return 0
    if not isinstance(content, list):
        raise Invalid(f"{at}.content: Input should be a valid string or list of blocks")
    breakpoints = 0
    for k, inner in enumerate(content):
        if not isinstance(inner, dict) or inner.get("type") not in ("text", "image", "document"):
            raise Invalid(f"{at}.content.{k}.type: Input should be 'text', 'image' or 'document'")
        if inner["type"] == "text":
            _check_text(inner, f"{at}.content.{k}")
        breakpoints += _cache_control(inner.get("cache_control"), f"{at}.content.{k}.cache_control")
    return breakpoints


def _check_results(blocks: list[dict[str, Any]], uses: list[str], where: str) -> None:
    """Each tool_use id of the previous message answered once, by leading tool_result blocks."""
    leading: list[str] = []
    for block in blocks:
        if block.get("type") != "tool_result":
            break
        leading.append(block["tool_use_id"])
    for j, block in enumerate(blocks):
        if block.get("type") != "tool_result":
            continue
        tool_id = block["tool_use_id"]
        if tool_id not in uses:
            raise Invalid(
                f"{where}.content.{j}: unexpected `tool_use_id` found in `tool_result` blocks: "
                f"{tool_id}. Each `tool_result` block must have a corresponding `tool_use` block "
                "in the previous message."
            )
        if j >= len(leading):
            raise Invalid(
                f"{where}.content.{j}: `tool_result` blocks must come first in the content, "
                f"before any other block ({tool_id} comes after a "
                f"{blocks[len(leading)].get('type')} block)."
            )
    for tool_id in set(leading):
        if leading.count(tool_id) > 1:
            raise Invalid(f"{where}: more than one `tool_result` block for tool_use id {tool_id}.")
    missing = [tool_id for tool_id in uses if tool_id not in leading]
    if missing:
        raise Invalid(
            f"{where}: `tool_use` ids were found without `tool_result` blocks immediately "
            f"after: {', '.join(missing)}. Each `tool_use` block must have a corresponding "
            "`tool_result` block in the next message."
        )
