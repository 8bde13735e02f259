"""Every text a request or answer carries, where it sits, and who wrote it.

A ``Slot`` names one string inside a parsed JSON body and can replace it, so
redaction changes exactly the text that is forwarded. ``source`` says whose
words they are: ``user``, ``system``, ``assistant``, or ``tool`` and
``document`` for content that arrives as data (tool results, retrieved
documents), which detectors judge as data rather than as instructions.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

ROLE_SOURCES = {
    "user": "user",
    "system": "system",
    "developer": "system",
    "assistant": "assistant",
    "tool": "tool",
    "function": "tool",
}


# JSON schema keys whose values are schema vocabulary, never free text.
SCHEMA_WORDS = frozenset({"type", "format"})
# Keys whose string values are the API's own vocabulary or identifiers, which
# the provider needs as they are: never scanned, never redacted.
VOCABULARY = frozenset(
    {
        "model", "role", "type", "format", "id", "tool_call_id", "tool_use_id",
        "media_type", "signature", "detail", "service_tier", "reasoning_effort",
        "modalities", "voice", "encoding_format",
    }
)  # fmt: skip
# Blocks whose text arrives as data, not as the sender's own words.
DATA_BLOCKS = {
    "tool_result": "tool",
    "document": "document",
    "search_result": "document",
}
# Blocks whose "data" is base64 or encrypted, not text.
BINARY_BLOCKS = frozenset({"base64", "input_audio", "redacted_thinking"})


class Unscannable(ValueError):
    """A body part whose text cannot be read (token ids, say)."""


@dataclass
class Slot:
    container: Any  # the dict or list holding the string
    key: Any
    location: str
    source: str

    @property
    def text(self) -> str:
        return self.container[self.key]

    def replace(self, text: str) -> None:
        self.container[self.key] = text


class NumberSlot(Slot):
    """A long integer inside a message (a tool's input, say): a card or phone
    number sent as a JSON number is read as its digits, and redacting it
    sends the placeholder as a string."""

    @property
    def text(self) -> str:
        value = self.container[self.key]
        return value if isinstance(value, str) else str(value)


def chat_request(body: dict) -> Iterator[Slot]:
    """Every text of an OpenAI chat completions request: messages of every
    role and their parts, tool calls and results, and every other string the
    provider receives (tool definitions, output schemas, fields added later)."""
    yield from request_texts(body)


def request_texts(body: dict) -> Iterator[Slot]:
    """Every string leaf of a request body but its vocabulary and binaries.

    A string inside a message counts as that message's role's words; inside a
    tool result or document, as data; anywhere else (tool definitions,
    ``stop``, ``metadata``...), as the system's.
    """
    for key, value in body.items():
        if key == "messages" and isinstance(value, list):
            for i, message in enumerate(value):
                role = message.get("role", "") if isinstance(message, dict) else ""
                source = ROLE_SOURCES.get(role, "user")
                yield from _walk(value, i, f"messages[{i}]", source, numbers=True)
        elif key not in VOCABULARY:
            yield from _walk(body, key, key, "system")


def chat_response(body: dict) -> Iterator[Slot]:
    """The texts of an OpenAI chat completion (not streamed)."""
    for i, choice in enumerate(_list(body.get("choices"))):
        message = choice.get("message") if isinstance(choice, dict) else None
        if isinstance(message, dict):
            where = f"choices[{i}].message"
            yield from _content(message, "content", f"{where}.content", "assistant")
            yield from _tool_calls(message, where)


def embeddings_request(body: dict) -> Iterator[Slot]:
    for key in body:
        if key != "input" and key not in VOCABULARY:
            yield from _walk(body, key, key, "system")
    value = body.get("input")
    if isinstance(value, str):
        yield Slot(body, "input", "input", "user")
        return
    for i, item in enumerate(_list(value)):
        if isinstance(item, str):
            yield Slot(value, i, f"input[{i}]", "user")
        else:
            raise Unscannable(
                "Token arrays cannot be checked by this gateway's guardrails; "
                "send the input as text."
            )


def messages_request(body: dict) -> Iterator[Slot]:
    """Every text of an Anthropic Messages request (see ``request_texts``)."""
    yield from request_texts(body)


def messages_response(body: dict) -> Iterator[Slot]:
    """The texts of an Anthropic Messages answer (not streamed)."""
    yield from _blocks(body, "content", "content", "assistant")


def _content(holder: dict, key: str, where: str, source: str) -> Iterator[Slot]:
    """OpenAI message content: a string, or a list of typed parts."""
    value = holder.get(key)
    if isinstance(value, str):
        yield Slot(holder, key, where, source)
        return
    for j, part in enumerate(_list(value)):
        if isinstance(part, dict) and isinstance(part.get("text"), str):
            yield Slot(part, "text", f"{where}[{j}].text", source)
        elif isinstance(part, dict) and isinstance(part.get("refusal"), str):
            yield Slot(part, "refusal", f"{where}[{j}].refusal", source)


def _tool_calls(message: dict, where: str) -> Iterator[Slot]:
    for k, call in enumerate(_list(message.get("tool_calls"))):
        function = call.get("function") if isinstance(call, dict) else None
        if isinstance(function, dict) and isinstance(function.get("arguments"), str):
            location = f"{where}.tool_calls[{k}].function.arguments"
            yield Slot(function, "arguments", location, "assistant")
    legacy = message.get("function_call")
    if isinstance(legacy, dict) and isinstance(legacy.get("arguments"), str):
        yield Slot(legacy, "arguments", f"{where}.function_call.arguments", "assistant")


def _blocks(holder: dict, key: str, where: str, source: str) -> Iterator[Slot]:
    """Anthropic content: a string, or a list of blocks."""
    value = holder.get(key)
    if isinstance(value, str):
        yield Slot(holder, key, where, source)
        return
    for j, block in enumerate(_list(value)):
        if not isinstance(block, dict):
            continue
        here = f"{where}[{j}]"
        kind = block.get("type")
        if kind == "text" and isinstance(block.get("text"), str):
            yield Slot(block, "text", f"{here}.text", source)
        elif kind == "tool_use":
            yield from _leaves(block, "input", f"{here}.input", "assistant")
        elif kind == "tool_result":
            yield from _blocks(block, "content", f"{here}.content", "tool")
        elif kind == "document":
            yield from _document(block, here)


def _document(block: dict, where: str) -> Iterator[Slot]:
    source = block.get("source")
    if isinstance(source, dict) and source.get("type") == "text":
        if isinstance(source.get("data"), str):
            yield Slot(source, "data", f"{where}.source.data", "document")
    elif isinstance(source, dict) and source.get("type") == "content":
        yield from _blocks(source, "content", f"{where}.source.content", "document")


def _leaves(holder: Any, key: Any, where: str, source: str) -> Iterator[Slot]:
    """Every string inside a JSON value (tool inputs)."""
    value = holder[key] if isinstance(holder, dict | list) else None
    if isinstance(value, str):
        yield Slot(holder, key, where, source)
    elif isinstance(value, dict):
        for name in value:
            if name not in SCHEMA_WORDS:
                yield from _leaves(value, name, f"{where}.{name}", source)
    elif isinstance(value, list):
        for i in range(len(value)):
            yield from _leaves(value, i, f"{where}[{i}]", source)


def _walk(
    holder: Any, key: Any, where: str, source: str, *, numbers: bool = False
) -> Iterator[Slot]:
    """``numbers``: also read long integers (inside messages only: elsewhere
    they are the API's own settings, such as ``seed``)."""
    value = holder[key]
    if isinstance(value, str):
        if not value.startswith("data:"):  # an inline image or file, in base64
            yield Slot(holder, key, where, source)
    elif numbers and _long_integer(value):
        yield NumberSlot(holder, key, where, source)
    elif isinstance(value, list):
        for i in range(len(value)):
            yield from _walk(value, i, f"{where}[{i}]", source, numbers=numbers)
    elif isinstance(value, dict):
        source = DATA_BLOCKS.get(str(value.get("type")), source)
        binary = value.get("type") in BINARY_BLOCKS
        for name in value:
            if name in VOCABULARY or (binary and name == "data"):
                continue
            if name == "input_audio":  # base64 audio
                continue
            yield from _walk(value, name, f"{where}.{name}", source, numbers=numbers)


def _long_integer(value: Any) -> bool:
    # Nine digits and up: SSNs, phone and card numbers; not counts or flags.
    return (
        isinstance(value, int)
        and not isinstance(value, bool)
        and abs(value) >= 100_000_000
    )


def _list(value: Any) -> list:
    return value if isinstance(value, list) else []
