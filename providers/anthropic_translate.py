"""Translation between OpenAI Chat Completions and Anthropic's Messages API.

Everything here is pure: dicts in, dicts out, no I/O and no Django.
"""

from __future__ import annotations

import json
import re
import time
from typing import Any

__all__ = [
    "StreamError",
    "StreamTranslator",
    "TranslationError",
    "anthropic_error_to_openai",
    "chat_to_messages_request",
    "messages_to_chat_response",
]

SUPPORTED_IMAGE_TYPES = frozenset(
    {"image/jpeg", "image/png", "image/gif", "image/webp"}
)

FINISH_REASONS: dict[str, str] = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "pause_turn": "stop",
    "max_tokens": "length",
    "model_context_window_exceeded": "length",
    "tool_use": "tool_calls",
    "refusal": "content_filter",
}

_DATA_URL = re.compile(
    r"^data:(?P<media>[\w.+-]+/[\w.+-]+);base64,(?P<data>.*)$", re.DOTALL
)
_PROMPT_TOO_LONG = re.compile(
    r"prompt is too long|prompt too long|exceed context limit", re.IGNORECASE
)


class TranslationError(Exception):
    """The OpenAI request uses something that cannot be expressed for Anthropic."""

    def __init__(self, message: str, param: str | None) -> None:
        super().__init__(message)
        self.message = message
        self.param = param


class StreamError(Exception):
    """Anthropic reported an error in the middle of a streamed response."""

    def __init__(self, message: str, type: str) -> None:
        super().__init__(message)
        self.message = message
        self.type = type


# ---------------------------------------------------------------------------
# Request: OpenAI chat.completions -> Anthropic messages
# ---------------------------------------------------------------------------


def chat_to_messages_request(
    body: dict[str, Any], model: str, default_max_tokens: int
) -> dict[str, Any]:
    _reject_unsupported(body)
    system, messages = _translate_messages(body.get("messages"))
    out: dict[str, Any] = {
        "model": model,
        "max_tokens": _max_tokens(body, default_max_tokens),
        "messages": messages,
    }
    if system:
        out["system"] = system
    _copy_sampling(body, out)
    tools = body.get("tools")
    if tools:
        out["tools"] = [_translate_tool(t, i) for i, t in enumerate(tools)]
    tool_choice = _translate_tool_choice(body, has_tools=bool(tools))
    if tool_choice is not None:
        out["tool_choice"] = tool_choice
    if body.get("stream") is not None:
        out["stream"] = body["stream"]
    if body.get("user") is not None:
        out["metadata"] = {"user_id": body["user"]}
    return out


def _reject_unsupported(body: dict[str, Any]) -> None:
    n = body.get("n")
    if n is not None and n != 1:
        raise TranslationError("Anthropic models only support n=1.", "n")
    if body.get("logprobs"):
        raise TranslationError(
            "logprobs are not available for Anthropic models.", "logprobs"
        )
    fmt = body.get("response_format")
    if fmt is not None and fmt.get("type") != "text":
        raise TranslationError(
            f"response_format of type {fmt.get('type')!r} is not supported for "
            "Anthropic models; describe the required JSON in the prompt or use a "
            "tool with an input schema instead.",
            "response_format",
        )
    temperature = body.get("temperature")
    # Anthropic caps temperature at 1; rescaling would silently change behaviour.
    if temperature is not None and temperature > 1:
        raise TranslationError(
            "temperature must be between 0 and 1 for Anthropic models.",
            "temperature",
        )


def _max_tokens(body: dict[str, Any], default: int) -> int:
    for key in ("max_completion_tokens", "max_tokens"):
        if body.get(key) is not None:
            return int(body[key])
    return default


def _copy_sampling(body: dict[str, Any], out: dict[str, Any]) -> None:
    for key in ("temperature", "top_p"):
        if body.get(key) is not None:
            out[key] = body[key]
    stop = body.get("stop")
    if isinstance(stop, str):
        out["stop_sequences"] = [stop]
    elif stop:
        out["stop_sequences"] = list(stop)


def _translate_messages(
    messages: Any,
) -> tuple[str, list[dict[str, Any]]]:
    if not isinstance(messages, list) or not messages:
        raise TranslationError("messages must be a non-empty array.", "messages")
    system_parts: list[str] = []
    out: list[dict[str, Any]] = []
    for i, msg in enumerate(messages):
        param = f"messages.[{i}]"
        if not isinstance(msg, dict):
            raise TranslationError("Each message must be an object.", param)
        role = msg.get("role")
        if role in ("system", "developer"):
            # Anthropic has a single top-level system prompt, so every system
            # instruction is hoisted there regardless of its position.
            system_parts.append(_text_only(msg.get("content"), f"{param}.content"))
            continue
        if role == "user":
            blocks = _user_blocks(msg.get("content"), f"{param}.content")
        elif role == "assistant":
            blocks = _assistant_blocks(msg, param)
        elif role == "tool":
            role = "user"
            blocks = [_tool_result_block(msg, param)]
        else:
            raise TranslationError(
                f"Unsupported message role {role!r}.", f"{param}.role"
            )
        if not blocks:
            raise TranslationError(
                "Message content must not be empty.", f"{param}.content"
            )
        _append_merged(out, role, blocks)
    if not out:
        raise TranslationError(
            "At least one user or assistant message is required.", "messages"
        )
    return "\n\n".join(p for p in system_parts if p), out


def _append_merged(
    out: list[dict[str, Any]], role: str, blocks: list[dict[str, Any]]
) -> None:
    # Anthropic rejects consecutive messages with the same role.
    if out and out[-1]["role"] == role:
        out[-1]["content"].extend(blocks)
    else:
        out.append({"role": role, "content": blocks})


def _text_only(content: Any, param: str) -> str:
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    texts: list[str] = []
    for j, part in enumerate(content):
        if part.get("type") != "text":
            raise TranslationError(
                f"Only text content is allowed here, got {part.get('type')!r}.",
                f"{param}.[{j}]",
            )
        texts.append(part.get("text", ""))
    return "\n\n".join(texts)


def _text_block(text: str) -> list[dict[str, Any]]:
    # Anthropic rejects empty text blocks, which OpenAI clients send freely.
    return [{"type": "text", "text": text}] if text else []


def _user_blocks(content: Any, param: str) -> list[dict[str, Any]]:
    if content is None:
        return []
    if isinstance(content, str):
        return _text_block(content)
    blocks: list[dict[str, Any]] = []
    for j, part in enumerate(content):
        kind = part.get("type")
        if kind == "text":
            blocks.extend(_text_block(part.get("text", "")))
        elif kind == "image_url":
            blocks.append(_image_block(part.get("image_url"), f"{param}.[{j}]"))
        else:
            raise TranslationError(
                f"Content part type {kind!r} is not supported for Anthropic models.",
                f"{param}.[{j}].type",
            )
    return blocks


def _image_block(image_url: Any, param: str) -> dict[str, Any]:
    url = image_url.get("url") if isinstance(image_url, dict) else image_url
    match = _DATA_URL.match(url) if isinstance(url, str) else None
    if match is None:
        raise TranslationError(
            "Images must be provided as base64 data: URLs for Anthropic models.",
            f"{param}.image_url.url",
        )
    media_type = match["media"].lower()
    if media_type not in SUPPORTED_IMAGE_TYPES:
        raise TranslationError(
            f"Image type {media_type!r} is not supported; use one of "
            f"{', '.join(sorted(SUPPORTED_IMAGE_TYPES))}.",
            f"{param}.image_url.url",
        )
    return {
        "type": "image",
        "source": {"type": "base64", "media_type": media_type, "data": match["data"]},
    }


def _assistant_blocks(msg: dict[str, Any], param: str) -> list[dict[str, Any]]:
    blocks = _text_block(_text_only_assistant(msg.get("content"), f"{param}.content"))
    for k, call in enumerate(msg.get("tool_calls") or []):
        blocks.append(_tool_use_block(call, f"{param}.tool_calls.[{k}]"))
    return blocks


def _text_only_assistant(content: Any, param: str) -> str:
    if content is None or isinstance(content, str):
        return content or ""
    texts: list[str] = []
    for j, part in enumerate(content):
        kind = part.get("type")
        if kind == "text":
            texts.append(part.get("text", ""))
        elif kind == "refusal":
            texts.append(part.get("refusal", ""))
        else:
            raise TranslationError(
                f"Assistant content part type {kind!r} is not supported.",
                f"{param}.[{j}].type",
            )
    return "".join(texts)


def _tool_use_block(call: dict[str, Any], param: str) -> dict[str, Any]:
    if call.get("type", "function") != "function":
        raise TranslationError(
            f"Tool call type {call.get('type')!r} is not supported.", f"{param}.type"
        )
    function = call.get("function") or {}
    raw = function.get("arguments") or "{}"
    try:
        arguments = json.loads(raw)
    except ValueError:
        arguments = None
    if not isinstance(arguments, dict):
        raise TranslationError(
            "Tool call arguments must be a JSON object.",
            f"{param}.function.arguments",
        )
    return {
        "type": "tool_use",
        "id": call.get("id"),
        "name": function.get("name"),
        "input": arguments,
    }


def _tool_result_block(msg: dict[str, Any], param: str) -> dict[str, Any]:
    if not msg.get("tool_call_id"):
        raise TranslationError(
            "Tool messages require tool_call_id.", f"{param}.tool_call_id"
        )
    content = msg.get("content")
    block: dict[str, Any] = {"type": "tool_result", "tool_use_id": msg["tool_call_id"]}
    if isinstance(content, str):
        block["content"] = content
    elif content is not None:
        block["content"] = _user_blocks(content, f"{param}.content")
    return block


def _translate_tool(tool: dict[str, Any], index: int) -> dict[str, Any]:
    if tool.get("type") != "function":
        raise TranslationError(
            f"Tool type {tool.get('type')!r} is not supported; only function "
            "tools can be used with Anthropic models.",
            f"tools.[{index}].type",
        )
    function = tool.get("function") or {}
    out: dict[str, Any] = {"name": function.get("name")}
    if function.get("description"):
        out["description"] = function["description"]
    # OpenAI allows omitting parameters; Anthropic requires a schema.
    out["input_schema"] = function.get("parameters") or {
        "type": "object",
        "properties": {},
    }
    return out


def _translate_tool_choice(
    body: dict[str, Any], has_tools: bool
) -> dict[str, Any] | None:
    choice = body.get("tool_choice")
    single_call = body.get("parallel_tool_calls") is False
    if choice is None:
        if has_tools and single_call:
            return {"type": "auto", "disable_parallel_tool_use": True}
        return None
    if choice in ("auto", "none") and not has_tools:
        # Without tools these choices are vacuous; omit them rather than send
        # Anthropic a tool_choice it may refuse.
        return None
    if not has_tools:
        raise TranslationError(
            "tool_choice requires tools to be specified.", "tool_choice"
        )
    out = _tool_choice_object(choice)
    if single_call and out["type"] != "none":
        out["disable_parallel_tool_use"] = True
    return out


def _tool_choice_object(choice: Any) -> dict[str, Any]:
    simple = {"auto": "auto", "required": "any", "none": "none"}
    if isinstance(choice, str) and choice in simple:
        return {"type": simple[choice]}
    if isinstance(choice, dict) and choice.get("type") == "function":
        name = (choice.get("function") or {}).get("name")
        if name:
            return {"type": "tool", "name": name}
    raise TranslationError(f"Unsupported tool_choice {choice!r}.", "tool_choice")


# ---------------------------------------------------------------------------
# Response: Anthropic message -> OpenAI chat.completion
# ---------------------------------------------------------------------------


def messages_to_chat_response(
    resp: dict[str, Any], model: str, *, created: int | None = None
) -> dict[str, Any]:
    blocks = resp.get("content") or []
    text = "".join(b.get("text", "") for b in blocks if b.get("type") == "text")
    tool_calls = [_tool_call(b) for b in blocks if b.get("type") == "tool_use"]
    message: dict[str, Any] = {
        "role": "assistant",
        "content": None if tool_calls and not text else text,
    }
    if tool_calls:
        message["tool_calls"] = tool_calls
    return {
        "id": _completion_id(resp.get("id")),
        "object": "chat.completion",
        "created": int(time.time()) if created is None else created,
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": message,
                "logprobs": None,
                "finish_reason": map_finish_reason(resp.get("stop_reason")),
            }
        ],
        "usage": _usage(resp.get("usage") or {}),
    }


def map_finish_reason(stop_reason: str | None) -> str:
    return FINISH_REASONS.get(stop_reason or "", "stop")


def _completion_id(message_id: str | None) -> str:
    return f"chatcmpl-{message_id or 'unknown'}"


def _tool_call(block: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": block.get("id"),
        "type": "function",
        "function": {
            "name": block.get("name"),
            "arguments": json.dumps(block.get("input") or {}, ensure_ascii=False),
        },
    }


def _usage(usage: dict[str, Any]) -> dict[str, int]:
    # Anthropic reports cached input separately; OpenAI's prompt_tokens is the
    # whole prompt, so the cache counts are folded back in.
    prompt = sum(
        usage.get(key) or 0
        for key in (
            "input_tokens",
            "cache_creation_input_tokens",
            "cache_read_input_tokens",
        )
    )
    completion = usage.get("output_tokens") or 0
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
    }


# ---------------------------------------------------------------------------
# Streaming: Anthropic SSE events -> OpenAI chat.completion.chunk
# ---------------------------------------------------------------------------


class StreamTranslator:
    """Turns one Anthropic event stream into OpenAI chunks, event by event."""

    def __init__(
        self, model: str, include_usage: bool, *, created: int | None = None
    ) -> None:
        self.model = model
        self.include_usage = include_usage
        self.created = int(time.time()) if created is None else created
        self._id: str | None = None
        self._raw_usage: dict[str, Any] = {}
        # Anthropic content-block index -> OpenAI tool_calls index.
        self._tool_index: dict[int, int] = {}
        self._tool_has_args: dict[int, bool] = {}

    @property
    def usage(self) -> dict[str, int] | None:
        if self._id is None:
            return None
        return _usage(self._raw_usage)

    def feed(self, event: str, data: dict[str, Any]) -> list[dict[str, Any]]:
        kind = event or data.get("type", "")
        if kind == "error":
            error = data.get("error") or {}
            raise StreamError(
                error.get("message", "Upstream stream error"),
                error.get("type", "api_error"),
            )
        if kind == "message_start":
            return self._on_message_start(data.get("message") or {})
        handler = {
            "content_block_start": self._on_block_start,
            "content_block_delta": self._on_block_delta,
            "content_block_stop": self._on_block_stop,
            "message_delta": self._on_message_delta,
            "message_stop": self._on_message_stop,
        }.get(kind)
        # ping and any event types Anthropic adds later carry nothing to relay.
        if handler is None:
            return []
        if self._id is None:
            raise StreamError(
                f"Received {kind!r} before message_start.", "invalid_stream"
            )
        return handler(data)

    def _on_message_start(self, message: dict[str, Any]) -> list[dict[str, Any]]:
        self._id = _completion_id(message.get("id"))
        self._raw_usage = dict(message.get("usage") or {})
        return [self._chunk({"role": "assistant", "content": ""})]

    def _on_block_start(self, data: dict[str, Any]) -> list[dict[str, Any]]:
        block = data.get("content_block") or {}
        kind = block.get("type")
        if kind == "text" and block.get("text"):
            return [self._chunk({"content": block["text"]})]
        if kind != "tool_use":
            return []
        index = len(self._tool_index)
        self._tool_index[data.get("index", 0)] = index
        self._tool_has_args[index] = False
        call = {
            "index": index,
            "id": block.get("id"),
            "type": "function",
            "function": {"name": block.get("name"), "arguments": ""},
        }
        return [self._chunk({"tool_calls": [call]})]

    def _on_block_delta(self, data: dict[str, Any]) -> list[dict[str, Any]]:
        delta = data.get("delta") or {}
        kind = delta.get("type")
        if kind == "text_delta" and delta.get("text"):
            return [self._chunk({"content": delta["text"]})]
        if kind == "input_json_delta" and delta.get("partial_json"):
            index = self._tool_index.get(data.get("index", 0))
            if index is None:
                return []
            self._tool_has_args[index] = True
            return [self._arguments_chunk(index, delta["partial_json"])]
        return []

    def _on_block_stop(self, data: dict[str, Any]) -> list[dict[str, Any]]:
        index = self._tool_index.get(data.get("index", 0))
        # A tool without parameters streams no JSON at all, and clients would
        # then fail to parse the empty arguments string.
        if index is None or self._tool_has_args[index]:
            return []
        self._tool_has_args[index] = True
        return [self._arguments_chunk(index, "{}")]

    def _on_message_delta(self, data: dict[str, Any]) -> list[dict[str, Any]]:
        usage = data.get("usage") or {}
        self._raw_usage.update({k: v for k, v in usage.items() if v is not None})
        reason = map_finish_reason((data.get("delta") or {}).get("stop_reason"))
        return [self._chunk({}, finish_reason=reason)]

    def _on_message_stop(self, data: dict[str, Any]) -> list[dict[str, Any]]:
        if not self.include_usage:
            return []
        chunk = self._base()
        chunk["choices"] = []
        chunk["usage"] = self.usage
        return [chunk]

    def _arguments_chunk(self, index: int, fragment: str) -> dict[str, Any]:
        call = {"index": index, "function": {"arguments": fragment}}
        return self._chunk({"tool_calls": [call]})

    def _base(self) -> dict[str, Any]:
        return {
            "id": self._id,
            "object": "chat.completion.chunk",
            "created": self.created,
            "model": self.model,
        }

    def _chunk(
        self, delta: dict[str, Any], finish_reason: str | None = None
    ) -> dict[str, Any]:
        chunk = self._base()
        chunk["choices"] = [
            {
                "index": 0,
                "delta": delta,
                "logprobs": None,
                "finish_reason": finish_reason,
            }
        ]
        if self.include_usage:
            # OpenAI marks every non-final chunk with usage: null in this mode.
            chunk["usage"] = None
        return chunk


# ---------------------------------------------------------------------------
# Errors: Anthropic error body -> OpenAI error body
# ---------------------------------------------------------------------------

_ERROR_TYPES: dict[str, tuple[str, str | None]] = {
    "invalid_request_error": ("invalid_request_error", None),
    "request_too_large": ("invalid_request_error", None),
    "not_found_error": ("invalid_request_error", None),
    "permission_error": ("invalid_request_error", None),
    "authentication_error": ("invalid_request_error", "invalid_api_key"),
    "billing_error": ("insufficient_quota", "insufficient_quota"),
    "rate_limit_error": ("rate_limit_error", "rate_limit_exceeded"),
    "overloaded_error": ("server_error", None),
    "api_error": ("server_error", None),
    "timeout_error": ("server_error", None),
}


def anthropic_error_to_openai(
    status: int, body: dict[str, Any] | None
) -> dict[str, Any]:
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        error = {}
    # Providers that imitate Anthropic's API do not always send strings here.
    message = str(error.get("message") or f"Upstream provider returned HTTP {status}.")
    fallback = "server_error" if status >= 500 else "invalid_request_error"
    err_type, code = _ERROR_TYPES.get(str(error.get("type", "")), (fallback, None))
    param = None
    if _PROMPT_TOO_LONG.search(message):
        err_type, code = "invalid_request_error", "context_length_exceeded"
        param = "messages"
    return {
        "error": {"message": message, "type": err_type, "param": param, "code": code}
    }
