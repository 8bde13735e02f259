"""Views of a text that detectors scan, each mapping spans back to the original.

An attacker hides a value from a pattern by splitting it with invisible
characters, spelling it with look-alike letters or encoding it. ``views``
returns the original text, a normalised copy (NFKC, invisible characters
removed, confusable letters folded to Latin) when that differs, and one decoded
view per base64, hex or percent-encoded segment that decodes to readable text.
Every view maps a span of its own text back to characters of the original, so
a redaction covers what the caller actually sent.
"""

from __future__ import annotations

import base64
import binascii
import html
import re
import unicodedata
from bisect import bisect_right
from dataclasses import dataclass, field

MIN_ENCODED_LENGTH = 16
MIN_PRINTABLE_SHARE = 0.9
MAX_DECODED_VIEWS = 32

_INVISIBLE_RANGES = (
    (0x0000, 0x0008),  # control characters: never text (tab, line breaks
    (0x000E, 0x001F),  # and the vertical tab and form feed are kept)
    (0x007F, 0x0084),  # delete and the C1 controls (NEL, a line break, is kept)
    (0x0086, 0x009F),
    (0x00AD, 0x00AD),  # soft hyphen
    (0x034F, 0x034F),  # combining grapheme joiner
    (0x115F, 0x1160),  # Hangul choseong and jungseong fillers, blank
    (0x061C, 0x061C),  # Arabic letter mark, a bidi control
    (0x180E, 0x180E),  # Mongolian vowel separator
    (0x200B, 0x200F),  # zero-width space, joiners, LRM, RLM
    (0x202A, 0x202E),  # bidi embeddings and overrides
    (0x2060, 0x2064),  # word joiner and invisible operators
    (0x2066, 0x2069),  # bidi isolates
    (0x2800, 0x2800),  # Braille pattern blank
    (0x3164, 0x3164),  # Hangul filler
    (0xFE00, 0xFE0F),  # variation selectors
    (0xFFA0, 0xFFA0),  # halfwidth Hangul filler
    (0xFEFF, 0xFEFF),  # zero-width no-break space (BOM)
    (0xE0000, 0xE007F),  # tag characters
    (0xE0100, 0xE01EF),  # variation selectors supplement
)

# Letters from other scripts that render like Latin ones in common fonts.
# Fullwidth forms need no entry: NFKC already folds them.
_CONFUSABLES = {
    # Cyrillic lower case
    "а": "a", "в": "b", "г": "r", "е": "e", "ё": "e", "к": "k", "м": "m",
    "н": "h", "о": "o", "р": "p", "с": "c", "т": "t", "у": "y", "х": "x",
    "ѕ": "s", "і": "i", "ї": "i", "ј": "j", "һ": "h", "ԁ": "d", "ԛ": "q",
    "ԝ": "w", "ӏ": "l", "ү": "y", "ь": "b",
    # Cyrillic upper case
    "А": "A", "В": "B", "Е": "E", "К": "K", "М": "M", "Н": "H", "О": "O",
    "Р": "P", "С": "C", "Т": "T", "У": "Y", "Х": "X", "Ѕ": "S", "І": "I",
    "Ј": "J", "Ԛ": "Q", "Ԝ": "W", "Ү": "Y", "Ӏ": "I",
    # Greek lower case
    "α": "a", "ε": "e", "ι": "i", "κ": "k", "ν": "v", "ο": "o", "ρ": "p",
    "τ": "t", "υ": "u", "χ": "x", "γ": "y",
    # Greek upper case
    "Α": "A", "Β": "B", "Ε": "E", "Ζ": "Z", "Η": "H", "Ι": "I", "Κ": "K",
    "Μ": "M", "Ν": "N", "Ο": "O", "Ρ": "P", "Τ": "T", "Υ": "Y", "Χ": "X",
    # Latin letters outside ASCII that NFKC leaves alone
    "ɡ": "g", "ɑ": "a", "ı": "i", "ȷ": "j", "ɩ": "i", "ʏ": "y", "ᴠ": "v",
    "ᴡ": "w", "ᴢ": "z", "ꓲ": "I",
}  # fmt: skip

# Runs start only where the previous character cannot extend them, so each run
# is matched once and the scan stays linear. A hex run is also a base64 run and
# is told apart after matching.
_BASE64_RUN = re.compile(
    rf"(?<![A-Za-z0-9+/_-])[A-Za-z0-9+/_-]{{{MIN_ENCODED_LENGTH},}}={{0,2}}"
)
_PERCENT_RUN = re.compile(
    r"(?<![A-Za-z0-9._~+%-])"
    r"(?:[A-Za-z0-9._~+-]{0,64}%[0-9A-Fa-f]{2})+[A-Za-z0-9._~+-]{0,64}"
)
_HEX = re.compile(r"(?:[0-9a-fA-F]{2})+")
# Text written as escapes, as in source code or HTML, and hex spaced out in
# pairs ("63 61 72" or "63:61:72").
_ONE_ESCAPE = re.compile(
    r"\\x[0-9a-fA-F]{2}|\\u[0-9a-fA-F]{4}|&#(?:[xX][0-9a-fA-F]{1,6}|[0-9]{1,7});"
)
_ESCAPE_RUN = re.compile(
    r"(?:\\x[0-9a-fA-F]{2}|\\u[0-9a-fA-F]{4}|&#(?:[xX][0-9a-fA-F]{1,6}|[0-9]{1,7});){8,}"
)
# The first digit is read before the look back: a pattern that opens with a
# character class lets ``re`` skip every other character without starting a
# match there, about three times quicker over prose.
_SPACED_HEX = re.compile(
    r"[0-9a-fA-F](?<![0-9a-fA-F][0-9a-fA-F])[0-9a-fA-F][ :]"
    r"(?:[0-9a-fA-F]{2}[ :]){6,}[0-9a-fA-F]{2}(?![0-9a-fA-F])"
)
_HEX_SEPARATORS = re.compile(r"[ :]")
# Spelled-out addresses: a bracketed "at" with dots or bracketed "dot"s, or
# the plain words "at" and "dot" (at least one "dot", so prose is left alone).
_BRACKETED_ADDRESS = re.compile(
    r"(?<![\w.+-])[\w.+-]+\s*[\[({]at[\])}]\s*[\w-]+(?:\s*(?:[\[({]dot[\])}]|\.)\s*[\w-]+)+",
    re.IGNORECASE,
)
_WORDED_ADDRESS = re.compile(
    r"(?<![\w.+-])[\w.+-]+\s+at\s+[\w-]+(?:\s+dot\s+[\w-]+)+", re.IGNORECASE
)
_AT = re.compile(r"\s*(?:[\[({]at[\])}]|\sat\s)\s*", re.IGNORECASE)
_DOT = re.compile(r"\s*(?:[\[({]dot[\])}]|\sdot\s|\.)\s*", re.IGNORECASE)
# Five or more single characters, one space apart within a word and two or
# three between words (see _rewritten_view). The match opens at the space
# after the first character, which the look back checks: a pattern opening
# with a plain character lets ``re`` jump from space to space instead of
# starting a match at every character, several times quicker. The run itself
# starts one character before the match.
_SPACED_RUN = re.compile(r" (?<=(?<!\S)\S )(?: {0,2})\S(?: {1,3}\S){3,}(?!\S)")
_WORD_GAP = re.compile(r" {2,3}")
_INWORD_MARKUP = re.compile(r"(?<=[^\W_])[*~`]+(?=[^\W_])")
_INWORD_ENTITY = re.compile(
    r"&(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z]{2,8});(?=[^\W\d_])"
    r"|(?<=[^\W\d_])&(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z]{2,8});"
)
_COMBINING = re.compile("[\u0300-\u036f]")
_ACCENTED = re.compile("(?:[^\\W\\d_]|[\\u0300-\\u036f])+")

# The same characters, for a regular expression.
INVISIBLE = re.compile(
    "["
    + "".join(
        f"{re.escape(chr(low))}-{re.escape(chr(high))}"
        for low, high in _INVISIBLE_RANGES
    )
    + "]"
)

# The ASCII characters the normalised view removes.
_ASCII_CONTROL = re.compile("[\x00-\x08\x0e-\x1f\x7f]")


def _is_invisible(code: int) -> bool:
    return any(low <= code <= high for low, high in _INVISIBLE_RANGES)


def _fold_char(char: str) -> str:
    """Return what one character of the original becomes in the normalised view."""
    if _is_invisible(ord(char)):
        return ""
    if char.isdigit() and not char.isascii():
        # Arabic-Indic, Devanagari and other digits NFKC leaves as they are.
        digit = unicodedata.digit(char, None)
        if digit is not None:
            return str(digit)
    folded = unicodedata.normalize("NFKC", char)
    return "".join(_CONFUSABLES.get(part, part) for part in folded)


class _FoldTable(dict[int, str]):
    """What each character becomes, computed on first sight and kept."""

    def __missing__(self, code: int) -> str:
        folded = _fold_char(chr(code))
        self[code] = folded
        return folded


_TABLE = _FoldTable()


@dataclass(frozen=True)
class View:
    """Text a detector scans, and how its offsets map to the original.

    The map is a list of pieces sorted by view offset. A piece is
    ``(view_start, original_start, original_end, exact)``: an exact piece maps
    character for character, any other covers ``original_start..original_end``
    whole (an expanded ligature, a decoded segment).
    """

    text: str
    kind: str = "original"
    pieces: list[tuple[int, int, int, bool]] = field(default_factory=list, repr=False)
    _starts: list[int] = field(default_factory=list, repr=False)

    def original_span(self, start: int, end: int) -> tuple[int, int]:
        """Return the span of the original text that ``start..end`` came from."""
        if not self.pieces:
            return start, end
        first = self._piece(start)
        last = self._piece(max(start, end - 1))
        view_start, orig_start, _, exact = first
        low = orig_start + start - view_start if exact else orig_start
        view_start, orig_start, orig_end, exact = last
        high = orig_start + max(start, end - 1) - view_start + 1 if exact else orig_end
        return low, high

    def _piece(self, offset: int) -> tuple[int, int, int, bool]:
        index = max(0, bisect_right(self._starts, offset) - 1)
        return self.pieces[index]


def _view(text: str, kind: str, pieces: list[tuple[int, int, int, bool]]) -> View:
    return View(text, kind, pieces, [piece[0] for piece in pieces])


def views(text: str) -> list[View]:
    """Return the original view, then the normalised and decoded ones if any."""
    original = View(text)
    result = [original]
    base = original
    normalised = _normalise(text)
    if normalised is not None:
        result.append(normalised)
        base = normalised
    result.extend(_decoded_views(base))
    result.extend(_spelled_address_views(base))
    rewritten = _rewritten_view(base, has_marks=bool(_COMBINING.search(text)))
    if rewritten is not None:
        result.append(rewritten)
    return result


@dataclass(frozen=True)
class _OnTop(View):
    """A view whose pieces map to another view's offsets, not the original's."""

    under: View | None = None

    def original_span(self, start: int, end: int) -> tuple[int, int]:
        low, high = super().original_span(start, end)
        if self.under is None:
            return low, high
        return self.under.original_span(low, max(low + 1, high))


def _rewritten_view(base: View, *, has_marks: bool) -> View | None:
    """The whole text with tricks inside words undone, in place, or None.

    Letters spelled out with spaces ("I g n o r e   a l l") read as words;
    markup inside a word ("Ig*nore*") is dropped; an HTML entity touching a
    letter ("&#73;gnore") is decoded; and when the text carries combining
    accents, every letter loses its accent ("I\u0301gnore"). Each trick is
    rare in honest text, so the extra view costs nothing most of the time.
    """
    text = base.text
    edits: list[tuple[int, int, str]] = []
    if " " in text:
        for match in _SPACED_RUN.finditer(text):
            start = match.start() - 1
            run = text[start : match.end()]
            if len(run.replace(" ", "")) < 10 and not any(c.isalpha() for c in run):
                continue
            words = [part.replace(" ", "") for part in _WORD_GAP.split(run)]
            edits.append((start, match.end(), " ".join(words)))
    for pattern, sign in ((_INWORD_MARKUP, "*~`"), (_INWORD_ENTITY, "&")):
        if not any(char in text for char in sign):
            continue
        for match in pattern.finditer(text):
            found = match.group()
            new = html.unescape(found) if found.startswith("&") else ""
            edits.append((match.start(), match.end(), new))
    if has_marks:
        for match in _ACCENTED.finditer(text):
            bare = _unaccented(match.group())
            if bare != match.group():
                edits.append((match.start(), match.end(), bare))
    if not edits:
        return None
    pieces: list[tuple[int, int, int, bool]] = []
    out: list[str] = []
    view_at = base_at = 0
    for start, end, new in sorted(edits):
        if start < base_at:
            continue  # overlaps an earlier edit
        if start > base_at:
            pieces.append((view_at, base_at, start, True))
            out.append(text[base_at:start])
            view_at += start - base_at
        if new:
            pieces.append((view_at, start, end, False))
            out.append(new)
            view_at += len(new)
        base_at = end
    pieces.append((view_at, base_at, len(text), True))
    out.append(text[base_at:])
    under = base if base.pieces else None
    return _OnTop(
        "".join(out), "rewritten", pieces, [piece[0] for piece in pieces], under
    )


def _unaccented(word: str) -> str:
    return "".join(
        c for c in unicodedata.normalize("NFD", word) if not unicodedata.combining(c)
    )


def normalise(text: str) -> str:
    """Return ``text`` in NFKC with invisible characters gone and look-alikes folded."""
    changes = _changes(text)
    return text.translate(changes) if changes else text


def _changes(text: str) -> dict[int, str]:
    # Distinct characters are few even in long texts, so this is cheap, and
    # text that needs no change (most of it) is never translated.
    if text.isascii() and not _ASCII_CONTROL.search(text):
        return {}
    changes = {}
    for char in set(text):
        folded = _TABLE[ord(char)]
        if folded != char:
            changes[ord(char)] = folded
    return changes


def _normalise(text: str) -> View | None:
    changes = _changes(text)
    if not changes:
        return None
    folded = text.translate(changes)
    resizing = {chr(code) for code, new in changes.items() if len(new) != 1}
    if not resizing:
        return _view(folded, "normalised", [(0, 0, len(text), True)])
    return _view(folded, "normalised", _resized_pieces(text, resizing, changes))


def _resized_pieces(
    text: str, resizing: set[str], changes: dict[int, str]
) -> list[tuple[int, int, int, bool]]:
    pattern = re.compile("[" + re.escape("".join(sorted(resizing))) + "]")
    pieces: list[tuple[int, int, int, bool]] = []
    view_at = orig_at = 0
    for match in pattern.finditer(text):
        position = match.start()
        if position > orig_at:
            pieces.append((view_at, orig_at, position, True))
            view_at += position - orig_at
        replacement = changes[ord(match.group())]
        if replacement:
            pieces.append((view_at, position, position + 1, False))
            view_at += len(replacement)
        orig_at = position + 1
    pieces.append((view_at, orig_at, len(text), True))
    return pieces


def _decoded_views(base: View) -> list[View]:
    decoded_views: list[View] = []
    for match in _encoded_segments(base.text):
        decoded = decode_segment(match.group())
        if decoded is None:
            continue
        orig_start, orig_end = base.original_span(match.start(), match.end())
        text = normalise(decoded)
        decoded_views.append(_view(text, "decoded", [(0, orig_start, orig_end, False)]))
        # Encoded twice (base64 of base64, hex of base64...): one level more,
        # mapped to the same original segment.
        for inner in _encoded_segments(text):
            twice = decode_segment(inner.group())
            if twice is not None:
                piece = [(0, orig_start, orig_end, False)]
                decoded_views.append(_view(normalise(twice), "decoded", piece))
        if len(decoded_views) >= MAX_DECODED_VIEWS:
            break
    return decoded_views[:MAX_DECODED_VIEWS]


def _spelled_address_views(base: View) -> list[View]:
    """Addresses written out to dodge filters: ``jane [at] example [dot] com``,
    ``jane at example dot com``, read as ``jane@example.com``."""
    lowered = base.text.lower()
    patterns = []
    if "at]" in lowered or "at)" in lowered or "at}" in lowered:
        patterns.append(_BRACKETED_ADDRESS)
    # "at" and "dot" are everyday words; both must be there, spaced as words.
    if " at " in lowered and " dot " in lowered:
        patterns.append(_WORDED_ADDRESS)
    found = []
    for pattern in patterns:
        for match in pattern.finditer(base.text):
            address = _AT.sub("@", match.group())
            address = _DOT.sub(".", address)
            orig_start, orig_end = base.original_span(match.start(), match.end())
            found.append(_view(address, "decoded", [(0, orig_start, orig_end, False)]))
    return found[:MAX_DECODED_VIEWS]


def _encoded_segments(text: str) -> list[re.Match[str]]:
    segments = list(_BASE64_RUN.finditer(text))
    if "%" in text:
        runs = _PERCENT_RUN.finditer(text)
        segments.extend(m for m in runs if len(m.group()) >= MIN_ENCODED_LENGTH)
    if "\\" in text or "&#" in text:
        segments.extend(_ESCAPE_RUN.finditer(text))
    segments.extend(_SPACED_HEX.finditer(text))
    return segments


def decode_segment(segment: str) -> str | None:
    """Return the readable text ``segment`` encodes, or None if it encodes none."""
    if segment.startswith(("\\", "&#")):
        return _readable(_unescape(segment))
    if " " in segment or ":" in segment:
        return _readable(bytes.fromhex(_HEX_SEPARATORS.sub("", segment)))
    if "%" in segment:
        return _readable(_unquote(segment))
    if len(segment) % 2 == 0 and _HEX.fullmatch(segment):
        text = _readable(bytes.fromhex(segment))
        if text is not None:
            return text
    return _readable(_b64decode(segment))


def _unquote(segment: str) -> bytes:
    from urllib.parse import unquote_to_bytes

    return unquote_to_bytes(segment.replace("+", " "))


def _b64decode(segment: str) -> bytes | None:
    body = segment.rstrip("=")
    if len(body) % 4 == 1:
        return None
    padded = body + "=" * (-len(body) % 4)
    altchars = b"-_" if ("-" in body or "_" in body) else b"+/"
    try:
        return base64.b64decode(padded, altchars=altchars, validate=True)
    except (binascii.Error, ValueError):
        return None


def _readable(data: bytes | None) -> str | None:
    """The text in ``data``, if most of it is text: a stray byte planted in
    front does not hide the rest, nor does UTF-16."""
    if not data or len(data) < MIN_ENCODED_LENGTH // 2:
        return None
    encoding = "utf-8"
    if data[1::2].count(0) > len(data) // 4 or data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        encoding = (
            "utf-16-be" if data[0] == 0 or data[:2] == b"\xfe\xff" else "utf-16-le"
        )
    text = data.decode(encoding, errors="replace").lstrip("\ufeff")
    printable = sum(
        1
        for char in text
        if (char.isprintable() and char != "\ufffd") or char in "\n\r\t"
    )
    return text if printable >= MIN_PRINTABLE_SHARE * len(text) else None


def _unescape(segment: str) -> bytes:
    """``\\x63``, ``\\u0063`` and ``&#99;`` / ``&#x63;`` escapes, as UTF-8 bytes."""
    out = bytearray()
    for match in _ONE_ESCAPE.finditer(segment):
        code = match.group()
        if code.startswith("\\x"):
            out.append(int(code[2:], 16))
        elif code.startswith("\\u"):
            out += chr(int(code[2:], 16)).encode("utf-8", errors="replace")
        else:
            number = code[2:-1]
            value = int(number[1:], 16) if number[:1] in "xX" else int(number)
            out += chr(min(value, 0x10FFFF)).encode("utf-8", errors="replace")
    return bytes(out)
