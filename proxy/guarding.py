"""The guardrails on the proxy path: requests before they are sent, answers
before the caller sees them, streams chunk by chunk."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable, Iterator
from typing import Any

from guardrails import texts
from guardrails.engine import Blocked, Guard, GuardFailed
from guardrails.loading import guardrails_for
from guardrails.stream import StreamGuard
from proxy.errors import ProxyError

# Text beyond this many characters is scanned in a worker thread, so one huge
# prompt does not hold up the other requests of the event loop.
INLINE_CHARS = 32_768

REQUESTS: dict[str, Callable[[dict], Iterator[texts.Slot]]] = {
    "chat/completions": texts.chat_request,
    "embeddings": texts.embeddings_request,
    "messages": texts.messages_request,
}
ANSWERS: dict[str, Callable[[dict], Iterator[texts.Slot]]] = {
    "chat/completions": texts.chat_response,
    "messages": texts.messages_response,
}


async def guard_for(organization_id: int, project_id: int) -> Guard:
    return (await guardrails_for(organization_id, project_id)).guard()


async def check_request(guard: Guard, endpoint: str, body: dict) -> None:
    """Scan and redact every text of the request in place, or raise."""
    if not guard.active("input"):
        return
    try:
        slots = list(REQUESTS[endpoint](body))
    except texts.Unscannable as exc:
        raise ProxyError(400, str(exc), param="input") from None
    _check_model(guard, body.get("model"))
    await _check(guard, slots, "input")


def _check_model(guard: Guard, model: object) -> None:
    """The model name goes to the provider too, but cannot be redacted: a
    value the policy would redact there is blocked instead."""
    if not isinstance(model, str) or not model:
        return
    seen = len(guard.hits)
    if (
        guard.check(model, direction="input", source="system", location="model")
        != model
    ):
        hit = next(h for h in guard.hits[seen:] if h.action == "redact")
        rule = hit.rule if hit.detector == "custom" else f"{hit.detector}: {hit.type}"
        raise Blocked(rule, "input")


async def check_answer(guard: Guard, endpoint: str, body: dict) -> None:
    """Scan and redact every text of a complete answer in place, or raise."""
    if endpoint not in ANSWERS:
        return
    slots = list(ANSWERS[endpoint](body))
    if guard.active("output"):
        await _check(guard, slots, "output")
    if guard.restores:
        for slot in slots:
            slot.replace(guard.restore(slot.text))


async def _check(guard: Guard, slots: list[texts.Slot], direction: str) -> None:
    def run() -> None:
        # Values split between the text parts of a message first, on the parts
        # as sent: checked alone, a part could lose only the half of a value
        # it holds and let the other half through.
        for group in _text_parts(slots):
            joined = guard.check_across(
                [slot.text for slot in group],
                direction=direction,
                source=group[0].source,
                location=group[0].location.rsplit("[", 1)[0],
            )
            for slot, text in zip(group, joined, strict=True):
                if text != slot.text:
                    slot.replace(text)
        for slot in slots:
            checked = guard.check(
                slot.text,
                direction=direction,
                source=slot.source,
                location=slot.location,
            )
            if checked != slot.text:
                slot.replace(checked)

    if sum(len(slot.text) for slot in slots) > INLINE_CHARS:
        await asyncio.to_thread(run)
    else:
        run()


class ChatStreamFilter:
    """Chat chunks with their content held back, redacted and released."""

    def __init__(self, guard: Guard) -> None:
        self.held = StreamGuard(guard)
        self._last: dict = {}

    def __call__(self, chunk: dict) -> dict:
        self._last = chunk
        for choice in chunk.get("choices") or []:
            if isinstance(choice, dict):
                _filter_choice(self.held, choice)
        return chunk

    def leftovers(self) -> list[dict]:
        """Chunks with the text still held, for a stream that ends early."""
        chunks = []
        for key in self.held.indexes():
            rest = self.held.flush(key)
            if not rest:
                continue
            delta: dict[str, Any]
            if isinstance(key, tuple):
                call = {"index": key[2], "function": {"arguments": rest}}
                delta, index = {"tool_calls": [call]}, key[0]
            else:
                delta, index = {"content": rest}, key
            chunk = {
                name: self._last[name]
                for name in ("id", "object", "created", "model")
                if name in self._last
            }
            chunk["choices"] = [{"index": index, "delta": delta, "finish_reason": None}]
            chunks.append(chunk)
        return chunks


_PART = re.compile(r"^(.*)\[(\d+)\]\.text$")


def _text_parts(slots: list[texts.Slot]) -> list[list[texts.Slot]]:
    """The text parts of each message, in order: a provider joins them, so a
    value split between two parts is one value to it."""
    groups: dict[str, list[tuple[int, texts.Slot]]] = {}
    for slot in slots:
        match = _PART.match(slot.location)
        if match:
            groups.setdefault(match.group(1), []).append((int(match.group(2)), slot))
    return [
        [slot for _, slot in sorted(parts, key=lambda part: part[0])]
        for parts in groups.values()
        if len(parts) > 1
    ]


def chat_stream(guard: Guard) -> ChatStreamFilter | None:
    """A filter for chat chunks, or None when the answer needs none."""
    if not (guard.active("output") or guard.restores):
        return None
    return ChatStreamFilter(guard)


def _filter_choice(held: StreamGuard, choice: dict) -> None:
    index = choice.get("index", 0)
    delta = choice.get("delta")
    if not isinstance(delta, dict):
        delta = {}
    if isinstance(delta.get("content"), str):
        delta["content"] = held.feed(index, delta["content"])
    for call in delta.get("tool_calls") or []:
        _tool_call_arguments(held, index, call)
    if choice.get("finish_reason"):
        rest = held.flush(index)
        if rest:
            delta["content"] = (delta.get("content") or "") + rest
            choice["delta"] = delta
        for key in held.indexes():
            if isinstance(key, tuple) and key[0] == index:
                _flush_tool_call(held, key, delta)
                choice["delta"] = delta
    if held.changed(index):
        choice.pop("logprobs", None)


def _tool_call_arguments(held: StreamGuard, index: int, call: Any) -> None:
    function = call.get("function") if isinstance(call, dict) else None
    if isinstance(function, dict) and isinstance(function.get("arguments"), str):
        key = (index, "tool", call.get("index", 0))
        function["arguments"] = held.feed(key, function["arguments"])


def _flush_tool_call(held: StreamGuard, key: tuple, delta: dict) -> None:
    rest = held.flush(key)
    if rest:
        calls = delta.setdefault("tool_calls", [])
        calls.append({"index": key[2], "function": {"arguments": rest}})


class MessagesStreamFilter:
    """Anthropic stream events with block deltas held back per block."""

    def __init__(self, guard: Guard) -> None:
        self.held = StreamGuard(guard)
        self.kinds: dict[int, tuple[str, str]] = {}  # block: delta type, field

    def __call__(self, name: str, data: dict) -> list[tuple[str, dict]]:
        index = data.get("index", 0)
        delta = data.get("delta")
        if name == "content_block_delta" and isinstance(delta, dict):
            for field in ("text", "partial_json"):
                if isinstance(delta.get(field), str):
                    self.kinds[index] = (delta.get("type", ""), field)
                    delta[field] = self.held.feed(index, delta[field])
                    return [(name, data)] if delta[field] else []
        if name == "content_block_stop" and index in self.kinds:
            return [*self._release(index), (name, data)]
        return [(name, data)]

    def leftovers(self) -> list[tuple[str, dict]]:
        """Deltas with the text still held, for a stream that ends early."""
        return [event for index in list(self.kinds) for event in self._release(index)]

    def _release(self, index: int) -> list[tuple[str, dict]]:
        kind, field = self.kinds.pop(index)
        rest = self.held.flush(index)
        if not rest:
            return []
        delta = {"type": kind, field: rest}
        return [
            (
                "content_block_delta",
                {"type": "content_block_delta", "index": index, "delta": delta},
            )
        ]


def messages_stream(guard: Guard) -> MessagesStreamFilter | None:
    """A filter for Anthropic stream events, or None when none is needed."""
    if not (guard.active("output") or guard.restores):
        return None
    return MessagesStreamFilter(guard)


def refusal(exc: Blocked | GuardFailed) -> ProxyError:
    if isinstance(exc, GuardFailed):
        return ProxyError(
            503,
            "A guardrail could not check this request, so it was not sent; try "
            "again shortly.",
            type="server_error",
            code="guardrail_unavailable",
            headers={"retry-after": "5"},
        )
    what = "request" if exc.direction == "input" else "answer"
    return ProxyError(
        400,
        f"This {what} was blocked by the guardrail rule '{exc.rule}'.",
        code="content_policy_violation",
    )
