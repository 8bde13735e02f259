"""The gateway key format, its checksum and the secret hashing."""

from __future__ import annotations

import pytest

from keys import tokens

ROUNDS = 4


def test_generated_keys_parse():
    for environment in ("live", "test"):
        full, public_id = tokens.generate(environment)
        parsed = tokens.parse(full)
        assert parsed is not None
        assert parsed.environment == environment
        assert parsed.public_id == public_id
        assert parsed.full == full
        assert full.startswith(f"wdn_{environment}_{public_id}_")


def test_generated_keys_differ_between_generations():
    generated = [tokens.generate("live") for _ in range(50)]
    assert len({full for full, _ in generated}) == 50
    assert len({public_id for _, public_id in generated}) == 50
    secrets = {full.rsplit("_", 1)[1] for full, _ in generated}
    assert len(secrets) == 50


def typo(key: str, position: int) -> str:
    """``key`` with one character replaced by a lower-case letter or digit."""
    replacement = "0" if key[position] == "a" else "a"
    return key[:position] + replacement + key[position + 1 :]


def test_every_one_character_typo_fails_the_checksum():
    full, _ = tokens.generate("live")
    assert tokens.parse(full) is not None
    for position in range(len(full)):
        mistyped = typo(full, position)
        assert mistyped != full
        assert tokens.parse(mistyped) is None, f"typo at {position} was accepted"


def test_a_typo_that_keeps_the_shape_fails_only_by_checksum():
    full, _ = tokens.generate("live")
    position = len(full) - tokens.CHECKSUM_LENGTH - 1
    mistyped = typo(full, position)
    assert tokens.KEY_PATTERN.fullmatch(mistyped)
    assert tokens.parse(mistyped) is None


def test_swapped_characters_fail_the_checksum():
    full, _ = tokens.generate("live")
    body = full[: -tokens.CHECKSUM_LENGTH]
    for i in range(len(body) - 1):
        if body[i] != body[i + 1] and "_" not in body[i : i + 2]:
            swapped = body[:i] + body[i + 1] + body[i] + body[i + 2 :]
            assert tokens.parse(swapped + full[-tokens.CHECKSUM_LENGTH :]) is None


def with_checksum(body: str) -> str:
    return body + tokens._checksum(body)


@pytest.mark.parametrize(
    "make",
    [
        lambda f: "sk_" + f[4:],
        lambda f: "WDN" + f[3:],
        lambda f: f.replace("_live_", "_prod_", 1),
        lambda f: f.replace("_live_", "_test_", 1),  # checksum covers the env
        lambda f: f[:-1],
        lambda f: f + "A",
        lambda f: f[1:],
        lambda f: " " + f,
        lambda f: f + "\n",
        lambda f: f.upper(),
        lambda f: "",
    ],
    ids=[
        "other-prefix",
        "upper-prefix",
        "unknown-env",
        "other-env",
        "short",
        "long",
        "cut-front",
        "leading-space",
        "trailing-newline",
        "upper",
        "empty",
    ],
)
def test_wrong_prefix_environment_or_length_fails(make):
    full, _ = tokens.generate("live")
    assert tokens.parse(make(full)) is None


@pytest.mark.parametrize(
    "body",
    [
        "wdn_prod_" + "a" * 16 + "_" + "A" * 40,
        "wdn_live_" + "a" * 15 + "_" + "A" * 41,
        "wdn_live_" + "A" * 16 + "_" + "A" * 40,  # public ids are lower case
        "wdn_live_" + "a" * 16 + "_" + "A" * 39,
        "wdn_live_" + "a" * 16 + "_" + "A" * 41,
        "wdn_live_" + "a" * 16 + "_" + "A" * 39 + "-",
    ],
)
def test_a_valid_checksum_does_not_save_a_wrong_shape(body):
    assert tokens.parse(with_checksum(body)) is None


def test_hash_secret_verifies_the_key_and_rejects_others():
    full, _ = tokens.generate("live")
    other, _ = tokens.generate("live")
    stored = tokens.hash_secret(full, ROUNDS)
    assert full not in stored
    assert stored.startswith("$2")
    assert tokens.check_secret(full, stored)
    assert not tokens.check_secret(other, stored)
    assert not tokens.check_secret(full[:-1], stored)
    assert tokens.hash_secret(full, ROUNDS) != stored  # salted


def test_keys_differing_only_after_byte_72_hash_differently():
    first = "wdn_live_" + "a" * 16 + "_" + "B" * 60
    second = first[:-1] + "C"
    assert len(first) > 80
    assert first[:72] == second[:72]
    stored = tokens.hash_secret(first, ROUNDS)
    assert tokens.check_secret(first, stored)
    assert not tokens.check_secret(second, stored)
    assert tokens._prehash(first) != tokens._prehash(second)


def test_prehash_keeps_bcrypt_input_short_and_nul_free():
    full, _ = tokens.generate("live")
    digest = tokens._prehash(full)
    assert len(digest) <= 72
    assert b"\x00" not in digest
