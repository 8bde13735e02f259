"""Guardrail policies and custom rules: what may be stored, and how it combines."""

from __future__ import annotations

import time

import pytest

from guardrails.policy import (
    DEFAULT_POLICY,
    PolicyError,
    applies,
    effective_policy,
    normalise_policy,
)
from guardrails.rules import RuleError, compile_rule


def test_defaults_redact_secrets_and_flag_pii_and_jailbreaks():
    policy = effective_policy()

    assert policy["secrets"]["action"] == "redact"
    assert policy["pii"]["action"] == "flag"
    assert policy["jailbreak"]["action"] == "flag"
    assert policy["on_error"] == "closed"


def test_a_project_overrides_single_entries_of_its_organisation():
    organization = normalise_policy({"pii": {"action": "redact"}, "on_error": "open"})
    project = normalise_policy({"pii": {"applies_to": "input"}})

    policy = effective_policy(organization, project)

    assert policy["pii"] == {"action": "redact", "applies_to": "input"}
    assert policy["on_error"] == "open"
    assert policy["secrets"] == DEFAULT_POLICY["secrets"]
    assert applies(policy["pii"], "input") and not applies(policy["pii"], "output")


@pytest.mark.parametrize(
    ("policy", "message"),
    [
        ({"pii": {"action": "shout"}}, "pii.action must be one of"),
        ({"jailbreak": {"action": "redact"}}, "jailbreak.action must be block"),
        ({"secrets": {"applies_to": "sideways"}}, "secrets.applies_to"),
        ({"jailbreak": {"threshold": 0}}, "threshold"),
        ({"pii": {"region": "US"}}, "unknown setting 'region'"),
        ({"toxicity": {}}, "unknown policy entry 'toxicity'"),
        ({"on_error": "maybe"}, "on_error must be one of"),
        ({"phone_region": "XX"}, "phone_region"),
        ({"restore_placeholders": "yes"}, "restore_placeholders"),
        ([], "JSON object"),
    ],
)
def test_bad_policies_are_refused_with_the_part_named(policy, message):
    with pytest.raises(PolicyError, match=message):
        normalise_policy(policy)


def test_keyword_rules_match_whole_words_case_insensitively():
    rule = compile_rule(name="codenames", kind="keywords", pattern="Falcon\nC++")

    found = rule.findings("the FALCON plan, not falconry; written in c++")

    assert [(f.start, f.end) for f in found] == [(4, 10), (42, 45)]
    assert {f.type for f in found} == {"codenames"}


@pytest.mark.parametrize(
    ("pattern", "reason"),
    [
        ("(unclosed", "not a valid RE2"),
        (r"(a)\1", "not a valid RE2"),
        ("x*", "matches empty text"),
        ("", "must not be empty"),
        ("a" * 2001, "longer than 2000"),
        (r"\C\C", "any single byte"),
        (r"ab[\C]", "any single byte"),
        ("ab\x00", "NUL character"),
    ],
)
def test_bad_patterns_are_refused_when_saved(pattern, reason):
    with pytest.raises(RuleError, match=reason):
        compile_rule(name="r", kind="regex", pattern=pattern)


def test_an_escaped_backslash_before_c_is_a_plain_c():
    rule = compile_rule(name="r", kind="regex", pattern=r"a\\C")

    assert [f.start for f in rule.findings("xa\\C")] == [1]


def test_a_catastrophic_pattern_runs_in_linear_time():
    rule = compile_rule(name="evil", kind="regex", pattern=r"(a+)+$")
    text = "a" * 50_000 + "!"

    started = time.perf_counter()
    found = rule.findings(text)
    elapsed = time.perf_counter() - started

    assert found == []
    # Python's backtracking engine takes longer than the universe on this.
    assert elapsed < 1.0
