"""One request's guard: findings, actions, placeholders, streams."""

from __future__ import annotations

import pytest

from guardrails.engine import Blocked, Guard, GuardFailed, _recent
from guardrails.policy import effective_policy
from guardrails.rules import compile_rule
from guardrails.stream import StreamGuard
from guardrails.texts import Slot, chat_request, messages_request

EMAIL = "jane.doe@example.com"
HOLD_BACK = 64
OTHER = "joe@example.org"


def guard(rules=(), **policy) -> Guard:
    everything_off = {
        name: {"action": "off"} for name in ("pii", "secrets", "jailbreak")
    }
    return Guard(effective_policy(everything_off, policy), list(rules), b"k" * 32)


def test_redaction_numbers_values_and_reuses_placeholders():
    g = guard(pii={"action": "redact"})

    first = g.check(
        f"mail {EMAIL} or {OTHER}", direction="input", source="user", location="a"
    )
    second = g.check(f"again: {EMAIL}", direction="input", source="user", location="b")

    assert first == "mail [EMAIL_1] or [EMAIL_2]"
    assert second == "again: [EMAIL_1]"
    assert g.restore(second) == f"again: {EMAIL}"


def test_hits_keep_a_keyed_hash_never_the_value():
    g = guard(pii={"action": "flag"})
    text = f"mail {EMAIL}"

    assert g.check(text, direction="input", source="user", location="m") == text

    (hit,) = g.hits
    assert (hit.detector, hit.type, hit.action) == ("pii", "EMAIL_ADDRESS", "flag")
    assert hit.location == "m[5:25]"
    assert EMAIL not in repr(hit)
    other = guard(pii={"action": "flag"})
    other.check(f"x {EMAIL}", direction="input", source="user", location="m")
    assert other.hits[0].value_hash == hit.value_hash
    assert len(hit.value_hash) == 32


def test_block_names_the_rule_and_not_the_value():
    rule = compile_rule(
        name="codename", kind="keywords", pattern="Falcon", action="block"
    )
    g = guard([rule])

    with pytest.raises(Blocked) as blocked:
        g.check("Project Falcon ships", direction="input", source="user", location="x")

    assert blocked.value.rule == "codename"
    assert "Falcon" not in str(blocked.value)


def test_direction_decides_what_runs():
    g = guard(pii={"action": "redact", "applies_to": "output"})
    text = f"mail {EMAIL}"

    assert g.check(text, direction="input", source="user", location="x") == text
    assert g.check(text, direction="output", source="user", location="x") != text
    assert g.active("output") and not g.active("input")


def test_a_failing_detector_blocks_unless_the_policy_fails_open(monkeypatch):
    def broken(text):
        raise RuntimeError("detector bug")

    monkeypatch.setattr("guardrails.detectors.secrets", broken)
    _recent.clear()  # findings remembered from a working detector
    closed = guard(secrets={"action": "redact"})
    with pytest.raises(GuardFailed):
        closed.check("hello", direction="input", source="user", location="x")

    opened = guard(secrets={"action": "redact"}, on_error="open")
    assert opened.check("hello", direction="input", source="user", location="x")


def test_every_text_of_a_chat_request_is_found():
    body = {
        "messages": [
            {"role": "system", "content": "sys"},
            {"role": "user", "content": [{"type": "text", "text": "part"}]},
            {
                "role": "assistant",
                "tool_calls": [{"function": {"name": "f", "arguments": '{"a":1}'}}],
            },
            {"role": "tool", "tool_call_id": "1", "content": "result"},
        ]
    }

    slots = list(chat_request(body))

    assert [(s.location, s.source, s.text) for s in slots] == [
        ("messages[0].content", "system", "sys"),
        ("messages[1].content[0].text", "user", "part"),
        ("messages[2].tool_calls[0].function.name", "assistant", "f"),
        ("messages[2].tool_calls[0].function.arguments", "assistant", '{"a":1}'),
        ("messages[3].content", "tool", "result"),
    ]
    slots[1].replace("changed")
    assert body["messages"][1]["content"][0]["text"] == "changed"


def test_anthropic_tool_results_and_documents_count_as_data():
    body = {
        "system": [{"type": "text", "text": "be brief"}],
        "messages": [
            {
                "role": "user",
                "content": [
                    {"type": "tool_result", "content": "from the tool"},
                    {"type": "document", "source": {"type": "text", "data": "doc"}},
                    {"type": "text", "text": "question"},
                ],
            },
            {
                "role": "assistant",
                "content": [{"type": "tool_use", "input": {"q": ["deep"]}}],
            },
        ],
    }

    found = {(s.source, s.text) for s in messages_request(body)}

    assert found == {
        ("system", "be brief"),
        ("tool", "from the tool"),
        ("document", "doc"),
        ("user", "question"),
        ("assistant", "deep"),
    }


@pytest.mark.parametrize("size", [1, 3, 7])
def test_a_value_split_across_stream_chunks_is_still_redacted(size):
    g = guard(pii={"action": "redact", "applies_to": "output"})
    streamed = StreamGuard(g, hold_back=HOLD_BACK)
    answer = "Sure. " + "x" * (HOLD_BACK + 40) + f" write to {EMAIL} today."

    sent = "".join(
        streamed.feed(0, answer[i : i + size]) for i in range(0, len(answer), size)
    )
    sent += streamed.flush(0)

    assert EMAIL not in sent
    assert sent == answer.replace(EMAIL, "[EMAIL_1]")
    assert streamed.changed(0)


def test_text_is_held_back_only_by_the_window():
    policy = {"action": "redact", "applies_to": "output"}
    streamed = StreamGuard(guard(pii=policy), hold_back=HOLD_BACK)

    sent = streamed.feed(0, "a" * (HOLD_BACK + 100))

    assert sent == "a" * 100
    assert not streamed.changed(0)


def test_slot_replaces_in_place():
    holder = {"content": "old"}
    Slot(holder, "content", "content", "user").replace("new")
    assert holder == {"content": "new"}


def test_an_output_policy_that_only_flags_holds_nothing_back():
    g = guard(pii={"action": "flag", "applies_to": "output"})
    streamed = StreamGuard(g, hold_back=HOLD_BACK)
    pieces = ["write to ", EMAIL[:6], EMAIL[6:], " now"]

    sent = [streamed.feed(0, piece) for piece in pieces]
    streamed.flush(0)

    assert sent == pieces
    assert [(h.type, h.action) for h in g.hits] == [("EMAIL_ADDRESS", "flag")]


def test_tool_definitions_and_output_schemas_are_texts_too():
    body = {
        "messages": [],
        "tools": [
            {
                "type": "function",
                "function": {
                    "name": "lookup",
                    "description": "Find a customer",
                    "parameters": {"type": "object", "description": "by email"},
                },
            }
        ],
        "response_format": {"type": "json_schema", "json_schema": {"name": "out"}},
    }

    found = {s.location: s.source for s in chat_request(body)}

    assert found == {
        "tools[0].function.name": "system",
        "tools[0].function.description": "system",
        "tools[0].function.parameters.description": "system",
        "response_format.json_schema.name": "system",
    }


def test_every_other_string_the_provider_gets_is_found_but_not_binaries():
    body = {
        "model": "openai/x",
        "user": "u@example.com",
        "stop": ["END"],
        "metadata": {"ticket": "T-1"},
        "messages": [
            {
                "role": "user",
                "name": "jane",
                "content": [
                    {
                        "type": "image_url",
                        "image_url": {"url": "data:image/png;base64,AAA"},
                    },
                    {
                        "type": "input_audio",
                        "input_audio": {"data": "AAA", "format": "wav"},
                    },
                    {"type": "image", "source": {"type": "base64", "data": "AAA"}},
                ],
            }
        ],
        "some_future_field": "text",
    }

    found = {s.location for s in chat_request(body)}

    assert found == {
        "user",
        "stop[0]",
        "metadata.ticket",
        "messages[0].name",
        "some_future_field",
    }


@pytest.mark.parametrize("size", [1, 6])
def test_a_secret_known_by_its_name_is_redacted_in_a_stream(size):
    g = guard(secrets={"action": "redact", "applies_to": "output"})
    streamed = StreamGuard(g, hold_back=HOLD_BACK)
    answer = "Config: password = Xk7#mQ2vL9pRw " + "lorem ipsum " * 30

    sent = "".join(
        streamed.feed(0, answer[i : i + size]) for i in range(0, len(answer), size)
    )
    sent += streamed.flush(0)

    assert "Xk7#mQ2vL9pRw" not in sent
    assert sent.startswith("Config: password = [SECRET_1] lorem")


def test_a_text_sent_again_gets_the_findings_of_its_own_configuration(monkeypatch):
    from guardrails import engine

    scans = []
    real_scan = engine.scan
    monkeypatch.setattr(
        engine,
        "scan",
        lambda text, wanted: scans.append(text) or real_scan(text, wanted),
    )
    _recent.clear()
    text = f"mail {EMAIL}"
    flagging = guard(pii={"action": "flag"})
    flagging.check(text, direction="input", source="user", location="a")

    again = guard(pii={"action": "flag"})
    again.check(text, direction="input", source="user", location="b")
    redacting = guard(pii={"action": "redact"})

    assert len(scans) == 1  # the second time, remembered
    assert [h.type for h in again.hits] == ["EMAIL_ADDRESS"]
    assert again.hits[0].location == "b[5:25]"
    assert (
        redacting.check(text, direction="input", source="user", location="c")
        == "mail [EMAIL_1]"
    )
    assert len(scans) == 2  # another configuration, scanned afresh


def test_a_value_split_across_parts_is_redacted_where_it_starts():
    g = guard(pii={"action": "redact"})
    parts = ["write to jane.do", "e@exam", "ple.com today"]

    checked = g.check_across(parts, direction="input", source="user", location="m")

    assert checked == ["write to [EMAIL_1]", "", " today"]
    assert [h.type for h in g.hits] == ["EMAIL_ADDRESS"]


def test_a_value_split_across_parts_is_blocked_by_a_block_policy():
    g = guard(pii={"action": "block"})

    with pytest.raises(Blocked):
        g.check_across(
            ["card 4111 1111", " 1111 1111"],
            direction="input",
            source="user",
            location="m",
        )


def test_parts_without_a_split_value_are_left_alone():
    g = guard(pii={"action": "redact"})
    parts = [f"mail {EMAIL}", " and more"]

    assert (
        g.check_across(parts, direction="input", source="user", location="m") == parts
    )
    assert g.hits == []


def test_long_numbers_inside_messages_are_read_and_redacted_as_text():
    body = {
        "max_tokens": 1024,
        "seed": 4111111111111111,  # the API's own setting: never read
        "messages": [
            {
                "role": "assistant",
                "content": [
                    {
                        "type": "tool_use",
                        "input": {"card": 4111111111111111, "count": 3, "ok": True},
                    }
                ],
            }
        ],
    }
    g = guard(pii={"action": "redact"})

    slots = list(messages_request(body))
    for slot in slots:
        checked = g.check(slot.text, direction="input", source="user", location="x")
        if checked != slot.text:
            slot.replace(checked)

    assert [s.location for s in slots] == ["messages[0].content[0].input.card"]
    assert body["messages"][0]["content"][0]["input"] == {
        "card": "[CARD_1]",
        "count": 3,
        "ok": True,
    }
    assert body["seed"] == 4111111111111111


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"card": 4111111111111111, "n": 1}', '{"card": "[CARD_1]", "n": 1}'),
        (
            '{"cards": [4111111111111111, 5500000000000004]}',
            '{"cards": ["[CARD_1]", "[CARD_2]"]}',
        ),
        ("card 4111 1111 1111 1111, thanks", "card [CARD_1], thanks"),
        ('{"note": "card 4111111111111111"}', '{"note": "card [CARD_1]"}'),
    ],
)  # fmt: skip
def test_a_number_in_json_is_replaced_by_a_quoted_placeholder(text, expected):
    g = guard(pii={"action": "redact"})

    out = g.check(text, direction="input", source="assistant", location="x")

    assert out == expected


def test_an_email_in_a_url_is_redacted_without_the_url():
    g = guard(pii={"action": "redact"})

    out = g.check(
        "see https://x.test/?email=jane.doe@example.com now",
        direction="input",
        source="user",
        location="x",
    )

    assert out == "see https://x.test/?email=[EMAIL_1] now"
