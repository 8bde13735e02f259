"""Checks on request bodies, so malformed input gets a 400 naming the field."""

from __future__ import annotations

from typing import Any

from django.conf import settings

from proxy.errors import bad_request

_TYPES: dict[str, tuple[type, ...]] = {
    "stream": (bool,),
    "stream_options": (dict,),
    "n": (int,),
    "max_tokens": (int,),
    "max_completion_tokens": (int,),
    "temperature": (int, float),
    "top_p": (int, float),
    "seed": (int,),
    "stop": (str, list),
    "tools": (list,),
    "tool_choice": (str, dict),
    "parallel_tool_calls": (bool,),
    "response_format": (dict,),
    "user": (str,),
}


def check_model(body: dict[str, Any]) -> str:
    model = body.get("model")
    if not isinstance(model, str) or not model.strip():
        raise bad_request("'model' is required and must be a string.", "model")
    if len(model) > 200 or not model.isprintable():
        raise bad_request("'model' is not a valid model name.", "model")
    return model


def check_chat(body: dict[str, Any]) -> None:
    check_model(body)
    _check_messages(body)
    _check_types(body)
    _check_objects(body.get("tools"), "tools")
    for index, tool in enumerate(body.get("tools") or []):
        _check_function(tool.get("function"), f"tools[{index}].function")
    choice = body.get("tool_choice")
    if isinstance(choice, dict) and "function" in choice:
        _check_function(choice["function"], "tool_choice.function")
    for name in ("n", "max_tokens", "max_completion_tokens"):
        value = body.get(name)
        if value is not None and (isinstance(value, bool) or value < 1):
            raise bad_request(f"'{name}' must be a positive integer.", name)


def _check_messages(body: dict[str, Any]) -> None:
    """Check the message list, in the parts OpenAI and Anthropic share."""
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise bad_request("'messages' must be a non-empty array.", "messages")
    if len(messages) > settings.PROXY_MAX_MESSAGES:
        raise bad_request(
            f"At most {settings.PROXY_MAX_MESSAGES} messages in one request.",
            "messages",
        )
    for index, message in enumerate(messages):
        _check_message(message, f"messages[{index}]")


def _check_message(message: Any, param: str) -> None:
    if not isinstance(message, dict) or not isinstance(message.get("role"), str):
        raise bad_request(f"{param} must be an object with a string 'role'.", param)
    content = message.get("content")
    if isinstance(content, list):
        _check_objects(content, f"{param}.content")
        for index, part in enumerate(content):
            if not isinstance(part.get("type"), str):
                raise bad_request(
                    "Each content part must have a string 'type'.",
                    f"{param}.content[{index}]",
                )
            if part["type"] == "text" and not isinstance(part.get("text"), str):
                raise bad_request(
                    "A text part must have a string 'text'.",
                    f"{param}.content[{index}].text",
                )
    elif content is not None and not isinstance(content, str):
        raise bad_request(
            "'content' must be a string, an array of parts or null.",
            f"{param}.content",
        )
    _check_objects(message.get("tool_calls"), f"{param}.tool_calls")
    for index, call in enumerate(message.get("tool_calls") or []):
        function = call.get("function")
        _check_function(function, f"{param}.tool_calls[{index}].function")
        if isinstance(function, dict) and not isinstance(
            function.get("arguments", ""), str
        ):
            raise bad_request(
                "Tool call arguments must be a JSON string.",
                f"{param}.tool_calls[{index}].function.arguments",
            )


def _check_function(function: Any, param: str) -> None:
    if function is None:
        return
    if not isinstance(function, dict) or not isinstance(function.get("name"), str):
        raise bad_request("A function must be an object with a string 'name'.", param)


def _check_objects(value: Any, param: str) -> None:
    """Check that ``value`` is absent or an array of objects."""
    if value is None:
        return
    if not isinstance(value, list):
        raise bad_request(f"'{param}' must be an array.", param)
    for index, item in enumerate(value):
        if not isinstance(item, dict):
            raise bad_request(
                f"{param}[{index}] must be an object.", f"{param}[{index}]"
            )


def check_messages(body: dict[str, Any]) -> None:
    """Check an Anthropic Messages request as far as relaying it needs."""
    check_model(body)
    _check_messages(body)
    max_tokens = body.get("max_tokens")
    if (
        not isinstance(max_tokens, int)
        or isinstance(max_tokens, bool)
        or max_tokens < 1
    ):
        raise bad_request("'max_tokens' is required: a positive integer.", "max_tokens")
    stream = body.get("stream")
    if stream is not None and not isinstance(stream, bool):
        raise bad_request("'stream' must be a boolean.", "stream")


def check_embeddings(body: dict[str, Any]) -> None:
    check_model(body)
    value = body.get("input")
    if isinstance(value, str) and value:
        return
    if isinstance(value, list) and value:
        return
    raise bad_request("'input' must be a non-empty string or array.", "input")


def _check_types(body: dict[str, Any]) -> None:
    for name, types in _TYPES.items():
        value = body.get(name)
        if value is None:
            continue
        wrong_bool = isinstance(value, bool) and bool not in types
        if wrong_bool or not isinstance(value, types):
            expected = " or ".join(_type_name(kind) for kind in types)
            raise bad_request(f"'{name}' must be {expected}.", name)


def _type_name(kind: type) -> str:
    names = {bool: "a boolean", int: "an integer", float: "a number", str: "a string"}
    return names.get(kind, "an array" if kind is list else "an object")
