from __future__ import annotations

import pytest

from guardrails.evaluation import part
from guardrails.pii import card_issuer_known, detect_pii, luhn_valid


def found(text: str, type_: str, **options: str) -> list[str]:
    return [
        text[f.start : f.end] for f in detect_pii(text, **options) if f.type == type_
    ]


def confidence(text: str, type_: str, **options: str) -> float:
    return max(f.confidence for f in detect_pii(text, **options) if f.type == type_)


def test_email_stops_before_sentence_punctuation():
    assert found("Write to ann.lee+news@mail.example.co.uk.", "EMAIL_ADDRESS") == [
        "ann.lee+news@mail.example.co.uk"
    ]


def test_at_sign_without_an_address_is_ignored():
    assert found("meet @ noon, or ping @team", "EMAIL_ADDRESS") == []


@pytest.mark.parametrize(
    ("digits", "valid"),
    [("4539578763621486", True), ("4539578763621487", False), ("79927398713", True)],
)
def test_luhn_checksum(digits, valid):
    assert luhn_valid(digits) is valid


def test_card_with_spaces_or_dashes_is_found():
    text = "card 4539 5787 6362 1486 or 5425-2334-3010-9903 please"

    assert found(text, "CREDIT_CARD") == ["4539 5787 6362 1486", "5425-2334-3010-9903"]


def test_card_failing_luhn_is_not_reported():
    assert found("card 4539 5787 6362 1487", "CREDIT_CARD") == []


def test_mastercard_two_series_and_nineteen_digits_are_known():
    assert card_issuer_known("2720990000000007")
    assert card_issuer_known("4000123412341234008")
    assert not card_issuer_known("2721000000000000")


def test_short_card_needs_the_word_card_nearby():
    number = "501800000009"  # 12-digit Maestro, Luhn-valid

    assert found(f"order {number} shipped", "CREDIT_CARD") == []
    assert found(f"my debit card {number}", "CREDIT_CARD") == [number]


def test_delimited_ssn_is_found_without_context():
    assert found("record 536-22-8741 updated", "US_SSN") == ["536-22-8741"]


@pytest.mark.parametrize(
    "number",
    ["000-22-8741", "666-22-8741", "536-00-8741", "536-22-0000", "912-22-8741"],
)
def test_ssn_never_issued_is_rejected(number):
    assert found(f"SSN {number}", "US_SSN") == []


def test_undelimited_ssn_needs_a_context_word():
    assert found("invoice 536228741 paid", "US_SSN") == []
    assert found("social security no. 536228741", "US_SSN") == ["536228741"]


def test_nine_hundred_area_with_context_is_an_itin():
    assert found("My SSN is 923-71-4410", "US_ITIN") == ["923-71-4410"]
    assert found("ticket 923-71-4410", "US_ITIN") == []


def test_ipv4_is_validated_and_not_taken_from_longer_numbers():
    text = "hosts 192.168.10.4, 300.1.1.1, 1.2.3.4.5 and version 10.2.0.7"

    assert found(text, "IP_ADDRESS") == ["192.168.10.4"]


def test_ipv6_full_and_compressed_forms():
    text = (
        "from 2001:db8:85a3::8a2e:370:7334 and fe80:0:0:0:202:b3ff:fe1e:8329"
        " at 12:30:45"
    )

    assert found(text, "IP_ADDRESS") == [
        "2001:db8:85a3::8a2e:370:7334",
        "fe80:0:0:0:202:b3ff:fe1e:8329",
    ]


def test_uuid_is_not_a_phone():
    assert (
        found("trace 5e1d2c3b-9a8f-4e21-8046-1297901ea002 failed", "PHONE_NUMBER") == []
    )


@pytest.mark.parametrize(
    "text", ["ISBN 978-3-16-148410-0", "SKU 4155550100", "model 415-555-0100"]
)
def test_a_number_named_as_something_else_is_not_a_phone(text):
    assert not [f for f in detect_pii(text) if f.type == "PHONE_NUMBER"]


def test_date_is_not_a_phone():
    assert found("due 2024-11-03 14:30 sharp", "PHONE_NUMBER") == []


def test_phone_in_national_and_international_format():
    text = "Call (415) 555-0132 or +44 20 7946 0958 x12."

    assert found(text, "PHONE_NUMBER") == ["(415) 555-0132", "+44 20 7946 0958 x12"]


def test_phone_region_is_tried_first():
    text = "ring 020 7946 0958 today"

    assert confidence(text, "PHONE_NUMBER", region="GB") > confidence(
        text, "PHONE_NUMBER"
    )


def test_prefixed_high_entropy_token_is_an_api_key():
    token = "sk-proj-" + "Zq81xLm0Vb7Rt2Wc9Ny4Hd6Kf3"

    assert found(f"key={token}", "API_KEY") == [token]
    assert found("sk-" + "a" * 30 + "1", "API_KEY") == []


@pytest.mark.parametrize(
    "text",
    [
        "a" * 2**20 + "@",
        "7" * 2**20,
        "1 " * 2**19,
        "12.3" * 2**18,
        "ab:" * 349_525,
    ],
    ids=["at-after-run", "digit-run", "spaced-digits", "dotted", "colons"],
)
def test_megabyte_of_adversarial_input_completes(text):
    findings = detect_pii(text)

    assert all(0 <= f.start < f.end <= len(text) for f in findings)
    assert not [f for f in findings if f.type in ("EMAIL_ADDRESS", "IP_ADDRESS")]


def test_hold_out_split_is_stable_and_near_thirty_percent():
    parts = [part(f"row-{index}") for index in range(2000)]

    assert parts == [part(f"row-{index}") for index in range(2000)]
    assert 0.25 < parts.count("holdout") / len(parts) < 0.35


def test_a_phone_number_hidden_in_a_flood_of_numbers_is_still_found():
    from guardrails.pii import PARSED_PHONES

    flood = " ".join(f"+44 20 7946 {n:04d}" for n in range(PARSED_PHONES + 500))
    text = f"{flood} call me on (415) 555-0172 {flood}"

    found = [f for f in detect_pii(text) if f.type == "PHONE_NUMBER"]

    hidden = text.index("(415)")
    assert any(f.start <= hidden < f.end for f in found)


@pytest.mark.parametrize("word", ["server", "driver", "observer"])
def test_an_address_after_a_word_ending_in_ver_is_still_found(word):
    text = f"{word} 10.20.30.40 is down"

    found = [f for f in detect_pii(text) if f.type == "IP_ADDRESS"]

    assert [text[f.start : f.end] for f in found] == ["10.20.30.40"]
    assert detect_pii("version 10.20.30.40") == []


@pytest.mark.parametrize("separator", ["/", "_", "\n"])
def test_a_card_written_with_other_separators_is_found(separator):
    card = separator.join(["4111", "1111", "1111", "1111"])
    text = f"card {card} ok"

    found = [f for f in detect_pii(text) if f.type == "CREDIT_CARD"]

    assert [text[f.start : f.end] for f in found] == [card]
