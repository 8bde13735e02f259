"""Server-sent events read from a byte stream cut at arbitrary places."""

import pytest

from providers.sse import Event, SSEDecoder

STREAM = (
    "event: message_start\r\n"
    'data: {"text": "héllo ☃ 日本"}\r\n'
    "\r\n"
    ": a comment line\n"
    "data: first line\n"
    "data: second line\n"
    "\n"
    "data: [DONE]\n\n"
).encode()

EXPECTED = [
    Event(event="message_start", data='{"text": "héllo ☃ 日本"}'),
    Event(event="message", data="first line\nsecond line"),
    Event(event="message", data="[DONE]"),
]


def feed_in_pieces(size: int) -> list[Event]:
    decoder = SSEDecoder()
    events: list[Event] = []
    for start in range(0, len(STREAM), size):
        events.extend(decoder.feed(STREAM[start : start + size]))
    return events


@pytest.mark.parametrize("size", [1, 2, 3, 5, 7, 64, len(STREAM)])
def test_events_arrive_whole_however_the_bytes_are_cut(size):
    assert feed_in_pieces(size) == EXPECTED


def test_every_cut_point_between_two_reads_gives_the_same_events():
    for cut in range(1, len(STREAM)):
        decoder = SSEDecoder()
        events = decoder.feed(STREAM[:cut]) + decoder.feed(STREAM[cut:])
        assert events == EXPECTED, cut


def test_an_unfinished_event_waits_for_its_blank_line():
    decoder = SSEDecoder()

    assert decoder.feed(b'data: {"partial": ') == []
    assert decoder.feed(b"1}\n") == []
    assert decoder.feed(b"\n") == [Event(event="message", data='{"partial": 1}')]
