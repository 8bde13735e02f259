"""Server-sent events read as a byte stream.

Events are split only on complete blank lines and decoded only once whole, so
an event split across reads, or a multi-byte character split across reads,
arrives intact.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Event:
    event: str
    data: str


class SSEDecoder:
    def __init__(self) -> None:
        self._buffer = b""

    def feed(self, chunk: bytes) -> list[Event]:
        if b"\r" in chunk or self._buffer.endswith(b"\r"):
            chunk = self._normalise(chunk)
        self._buffer += chunk
        events: list[Event] = []
        while True:
            end = self._buffer.find(b"\n\n")
            if end < 0:
                return events
            block, self._buffer = self._buffer[:end], self._buffer[end + 2 :]
            event = parse_block(block)
            if event is not None:
                events.append(event)

    def _normalise(self, chunk: bytes) -> bytes:
        if self._buffer.endswith(b"\r"):
            self._buffer = self._buffer[:-1]
            chunk = b"\r" + chunk
        held = b""
        if chunk.endswith(b"\r"):
            chunk, held = chunk[:-1], b"\r"
        chunk = chunk.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        # A trailing CR may be the first half of a CRLF that the next read
        # completes; it stays in the buffer until then.
        return chunk + held

    @property
    def pending(self) -> bytes:
        return self._buffer


def parse_block(block: bytes) -> Event | None:
    name = "message"
    data: list[str] = []
    for line in block.decode("utf-8", errors="replace").split("\n"):
        if not line or line.startswith(":"):
            continue
        field, _, value = line.partition(":")
        if value.startswith(" "):
            value = value[1:]
        if field == "data":
            data.append(value)
        elif field == "event":
            name = value
    if not data:
        return None
    return Event(event=name, data="\n".join(data))
