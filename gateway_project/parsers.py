"""The management API's JSON parser."""

from __future__ import annotations

import re

from rest_framework import parsers
from rest_framework.exceptions import ParseError

_SURROGATE = re.compile("[\ud800-\udfff]")


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser, refusing strings that hold a lone surrogate.

    JSON can spell one (``"\\ud800"``) and Python reads it into a string that
    no response, database row or log line can write as UTF-8: without this,
    the request would fail later with a 500.
    """

    def parse(self, stream, media_type=None, parser_context=None):
        data = super().parse(stream, media_type, parser_context)
        if _holds_surrogate(data):
            raise ParseError(
                "JSON parse error - a string holds a lone surrogate "
                "(\\ud800 to \\udfff), which is not text."
            )
        return data


def _holds_surrogate(data: object) -> bool:
    pending = [data]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            if _SURROGATE.search(item):
                return True
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return False
