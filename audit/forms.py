"""The review filters, read from a query string by the pages and the API alike."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from audit.models import AuditEvent
from audit.selectors import MAX_PAGE_SIZE, PAGE_SIZE, EventFilters

FILTER_NAMES = (
    "from",
    "to",
    "actor",
    "action",
    "target_type",
    "target_id",
    "outcome",
    "q",
)


class MomentField(forms.Field):
    """An ISO date or date and time; a time without an offset is taken as UTC."""

    default_error_messages = {
        "invalid": "Enter a date (2025-01-31) or a date and time "
        "(2025-01-31T09:30:00Z)."
    }

    def to_python(self, value: Any) -> date | datetime | None:
        text = str(value or "").strip()
        if not text:
            return None
        try:
            moment = parse_date(text) or parse_datetime(text)
        except ValueError:
            moment = None  # well formed but impossible, such as 2025-02-30
        if moment is None:
            raise forms.ValidationError(self.error_messages["invalid"], "invalid")
        if not 1900 <= moment.year <= 9998:
            # Beyond these the range's arithmetic and the database overflow.
            raise forms.ValidationError(
                "Enter a date between the years 1900 and 9998.", "out_of_range"
            )
        if isinstance(moment, datetime):
            # In UTC from here on: PostgreSQL refuses offsets past 15:59,
            # which Python accepts.
            if timezone.is_naive(moment):
                moment = timezone.make_aware(moment, UTC)
            moment = moment.astimezone(UTC)
        return moment


_MOMENT = forms.TextInput(attrs={"placeholder": "2025-01-31"})


class EventFilterForm(forms.Form):
    # "from" is a keyword, so the time range is declared through the namespace.
    locals()["from"] = MomentField(required=False, label="From", widget=_MOMENT)
    locals()["to"] = MomentField(required=False, label="To", widget=_MOMENT)
    actor = forms.CharField(
        required=False, max_length=254, help_text="User id or part of an email"
    )
    action = forms.CharField(
        required=False, max_length=100, help_text="Exact, or a prefix ending in '.'"
    )
    target_type = forms.CharField(required=False, max_length=60)
    target_id = forms.CharField(required=False, max_length=100)
    outcome = forms.ChoiceField(
        required=False, choices=[("", "Any"), *AuditEvent.Outcome.choices]
    )
    q = forms.CharField(required=False, max_length=200, label="Search")

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        since, until = _start(cleaned.get("from")), _end(cleaned.get("to"))
        if since and until and since >= until:
            raise forms.ValidationError("The start of the range is after its end.")
        return cleaned

    def filters(self) -> EventFilters:
        data = self.cleaned_data
        return EventFilters(
            since=_start(data.get("from")),
            until=_end(data.get("to")),
            **{name: data.get(name) or "" for name in FILTER_NAMES[2:]},
        )

    def params(self) -> dict[str, str]:
        """The filters as given, without the empty ones: for links and records."""
        return {
            name: str(self.data[name]).strip()
            for name in FILTER_NAMES
            if self.cleaned_data.get(name)
        }

    def error_dict(self) -> dict[str, list[str]]:
        """The errors keyed the way DRF keys them."""
        return {
            "non_field_errors" if name == "__all__" else name: [str(m) for m in errors]
            for name, errors in self.errors.items()
        }


class EventPageForm(EventFilterForm):
    """The filters plus the review page's keyset paging."""

    before = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)
    after = forms.IntegerField(required=False, min_value=0, widget=forms.HiddenInput)
    page_size = forms.IntegerField(
        required=False,
        min_value=1,
        max_value=MAX_PAGE_SIZE,
        widget=forms.HiddenInput,
    )

    def paging(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "before": data.get("before"),
            "after": data.get("after"),
            "size": data.get("page_size") or PAGE_SIZE,
        }


def _start(moment: date | datetime | None) -> datetime | None:
    if moment is None or isinstance(moment, datetime):
        return moment
    return datetime.combine(moment, time.min, tzinfo=UTC)


def _end(moment: date | datetime | None) -> datetime | None:
    """The exclusive upper bound: the next day for a date, else one microsecond on.

    created_at keeps microseconds, so ``< to + 1µs`` is exactly ``<= to``.
    """
    if moment is None:
        return None
    if isinstance(moment, datetime):
        return moment + timedelta(microseconds=1)
    return datetime.combine(moment + timedelta(days=1), time.min, tzinfo=UTC)
