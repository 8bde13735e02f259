"""The limits a key carries: checked and normalised in one place."""

from __future__ import annotations

import pytest

from keys.limits import LimitError, normalise_limits


def test_budgets_are_accepted_now_the_proxy_enforces_them():
    limits = normalise_limits({"budget_usd": "1", "budget_period": "week"})

    assert limits == {"budget_usd": "1.000000", "budget_period": "week"}


def test_every_limit_is_normalised():
    limits = normalise_limits(
        {
            "rpm": 5,
            "tpm": 20000,
            "max_concurrency": 2,
            "allowed_models": [
                "openai/gpt-4o-mini",
                "anthropic/*",
                "openai/gpt-4o-mini",
            ],
            "allowed_ips": ["10.0.0.7/8", "2001:db8::1"],
            "allowed_endpoints": ["/chat/completions", "embeddings"],
            "budget_usd": "1",
            "budget_period": "day",
            "budget_tokens": 100000,
        }
    )
    assert limits["allowed_models"] == ["anthropic/*", "openai/gpt-4o-mini"]
    assert limits["allowed_ips"] == ["10.0.0.0/8", "2001:db8::1/128"]
    assert limits["allowed_endpoints"] == ["chat/completions", "embeddings"]
    assert limits["budget_usd"] == "1.000000"
    assert normalise_limits(None) == {} == normalise_limits({})


@pytest.mark.parametrize(
    ("limits", "message"),
    [
        ([], "JSON object"),
        ({"rpm": 0}, "rpm"),
        ({"rpm": "5"}, "rpm"),
        ({"rpm": True}, "rpm"),
        ({"burst": 3}, "unknown limit 'burst'"),
        ({"allowed_models": ["gpt-4o"]}, "provider/model"),
        ({"allowed_models": []}, "must not be empty"),
        ({"allowed_ips": ["10.0.0.300/8"]}, "CIDR"),
        ({"allowed_endpoints": ["completions"]}, "allowed_endpoints"),
        ({"budget_usd": "-1"}, "more than 0"),
        ({"budget_usd": "NaN"}, "more than 0"),
        ({"budget_usd": "one dollar"}, "amount"),
        ({"budget_period": "day"}, "needs budget_usd"),
        ({"budget_usd": 1, "budget_period": "year"}, "budget_period"),
    ],
)
def test_bad_limits_are_refused_with_the_part_named(limits, message):
    with pytest.raises(LimitError, match=message):
        normalise_limits(limits)
