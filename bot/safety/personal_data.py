"""Personal identifiers in free text: Norwegian fødselsnummer and D-number, Danish CPR number, phone
numbers (Norwegian and Danish), e-mail addresses and a likely full name after "pasienten"/"the patient".

The bot refuses to store or use a message with an identifier and says what it found. Numbers are
validated, not guessed: an fnr or D-number needs both mod-11 check digits and a real date; a CPR
number needs a real date (since 2007 CPR numbers need not pass the old modulus-11 check, so both
kinds are accepted). Each may be written plain, with a space, a dot or a dash between digit groups.
Doses, dates, amounts, case references and public service numbers (113, 116 117, Livslinien
70 201 201 …) are not identifiers.
"""

from __future__ import annotations

import calendar
import re

PII_KINDS = ("fnr", "dnr", "cpr", "phone", "email", "name")

PUBLIC_NUMBERS = frozenset({
    "22400040",  # Kirkens SOS
    "22591300",  # Giftinformasjonen
    "80033321",  # Kors på halsen (Røde Kors)
    "70201201",  # Livslinien (Denmark)
})  # fmt: skip
"""Public service numbers the bot prints, or users quote; never personal data."""

# ------------------------------------------------------------------------------ national identity numbers
_W1 = (3, 7, 6, 1, 8, 9, 4, 5, 2)
_W2 = (5, 4, 3, 2, 7, 6, 5, 4, 3, 2)
_CPR_WEIGHTS = (4, 3, 2, 7, 6, 5, 4, 3, 2, 1)
_ELEVEN_DIGITS = re.compile(r"[0-9]{11}")
_SEPARATORS = re.compile(r"[ .\-]")


def _check_digit(digits: str, weights: tuple[int, ...]) -> int | None:
    """The mod-11 check digit for ``digits``; None when it would be 10 (such numbers are never issued)."""
    rest = sum(int(d) * w for d, w in zip(digits, weights, strict=True)) % 11
    check = (11 - rest) % 11
    return None if check == 10 else check


def _birth_years(yy: int, individual: int) -> tuple[int, ...]:
    """Candidate birth years from the individual number's century ranges.

    Unallocated combinations fall back to both 19yy and 20yy: we flag rather than miss an identifier.
    """
    if individual <= 499:
        return (1900 + yy,)
    if individual <= 749 and yy >= 54:
        return (1800 + yy,)
    if yy <= 39:
        return (2000 + yy,)
    if individual >= 900:
        return (1900 + yy,)
    return (1900 + yy, 2000 + yy)


def _real_date(day: int, month: int, years: tuple[int, ...]) -> bool:
    return 1 <= month <= 12 and day >= 1 and any(day <= calendar.monthrange(y, month)[1] for y in years)


def _plausible_date(digits: str) -> bool:
    """Day/month of an fnr (day 1-31) or a D-number (day + 40, so 41-71) form a real calendar date."""
    day, month, yy = int(digits[0:2]), int(digits[2:4]), int(digits[4:6])
    if day > 40:
        day -= 40
    return _real_date(day, month, _birth_years(yy, int(digits[6:9])))


def valid_fnr(digits: str) -> bool:
    """True for an 11-digit fødselsnummer or D-number whose date and both check digits are valid.

    Separators (space, dot, dash) between digit groups are ignored ("010190 12345", "010190-12345").
    H-numbers (month + 40) and synthetic test numbers are not accepted: staff do not type those.
    """
    digits = _SEPARATORS.sub("", digits)
    if not _ELEVEN_DIGITS.fullmatch(digits):
        return False
    if _check_digit(digits[:9], _W1) != int(digits[9]):
        return False
    if _check_digit(digits[:10], _W2) != int(digits[10]):
        return False
    return _plausible_date(digits)


def _cpr_century(yy: int, seventh: int) -> int:
    """The CPR register's century rule: the 7th digit and the year decide 18xx, 19xx or 20xx."""
    if seventh <= 3:
        return 1900
    if seventh in (4, 9):
        return 2000 if yy <= 36 else 1900
    return 2000 if yy <= 57 else 1800


def valid_cpr(digits: str) -> bool:
    """True for a 10-digit Danish CPR number (ddmmyy-xxxx) whose date is real.

    The modulus-11 check is not required: numbers issued since 2007 may fail it.
    """
    digits = _SEPARATORS.sub("", digits)
    if len(digits) != 10 or not digits.isascii() or not digits.isdigit():
        return False
    day, month, yy = int(digits[0:2]), int(digits[2:4]), int(digits[4:6])
    return _real_date(day, month, (_cpr_century(yy, int(digits[6])) + yy,))


def cpr_passes_modulus11(digits: str) -> bool:
    """The pre-2007 check (informational: :func:`valid_cpr` accepts both)."""
    digits = _SEPARATORS.sub("", digits)
    return sum(int(d) * w for d, w in zip(digits, _CPR_WEIGHTS, strict=True)) % 11 == 0


# ------------------------------------------------------------------------------------- detectors
_DIGIT_RUN = re.compile(r"(?<![0-9.,\-/])[0-9](?:[ .\-]?[0-9]){9,10}(?![0-9]|[.,\-/][0-9])")
"""Ten or eleven digits, a single space, dot or dash allowed between any two: fnr, D-number, CPR."""
_ANY_DIGIT = re.compile(r"[0-9]")
_EMAIL_RE = re.compile(r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)*\.[A-Za-z]{2,}(?![\w-])")
_PHONE_GROUPS = r"{first}[0-9]{{7}}|{first}[0-9](?:[ -][0-9]{{2}}){{3}}|{first}[0-9]{{2}}[ -][0-9]{{2}}[ -][0-9]{{3}}" \
    r"|{first}[0-9]{{3}}[ -][0-9]{{4}}|{first}[0-9][ -][0-9]{{3}}[ -][0-9]{{3}}"
"""Eight digits as Norwegian and Danish numbers are written: 12345678, 12 34 56 78, 123 45 678, 1234 5678, 12 345 678."""
_PHONE_RE = re.compile(
    r"(?<![\w+])(?:(?P<prefix>(?:\+|00) ?(?:47|45)[ -]?)(?P<international>" + _PHONE_GROUPS.format(first="[1-9]") + ")"
    r"|(?P<number>" + _PHONE_GROUPS.format(first="[2-9]") + "))(?![0-9])"
)
_PHONE_CUE_RE = re.compile(r"(?i)\b(?:tlf|telefon\w*|mobil\w*|ring\w*|sms|phone|call|tel|cell|mob|nummer|nr)\b")
_NOT_PHONE_BEFORE_RE = re.compile(
    r"(?i)(?:\b(?:ref\w*|sak\w*|sag\w*|case|journal\w*|konto\w*|account|ordre\w*|order|faktura\w*|invoice|"
    r"arkiv\w*|id|kr|nok|dkk|eur|usd)(?: ?(?:no|nr|number|nummer|id))?|[€$£])[\s.:#-]{0,3}$"
)
_NOT_PHONE_AFTER_RE = re.compile(r"(?i)^\s?(?:mg|ml|µg|mcg|kr\b|nok\b|dkk\b|%|g\b|stk\b|kroner|,-|[.,][0-9])")
_NAME_TRIGGER = (
    r"pasienten|pasient|brukeren|bruker|klienten|beboeren|deltakeren|borgeren|ved navn|som heter|heter|"
    r"hedder|navnet er|navn|the patient|my patient|patient|the client|my client|client|the resident|named|name is"
)
_NAME_WORD = r"[A-ZÆØÅÄÖÜÉ][a-zæøåäöüéèáó']+"
_NAME_RE = re.compile(
    rf"\b(?i:{_NAME_TRIGGER})(?:\s*[:,]\s*|\s+)(?P<name>{_NAME_WORD}(?:[ -]{_NAME_WORD}){{1,3}})\b"
)
_CAPITALISED_PAIR = re.compile(rf"{_NAME_WORD}[ -]{_NAME_WORD}")
_NOT_NAMES = frozenset(
    re.findall(
        r"\w+",
        """mandag tirsdag onsdag torsdag fredag lørdag søndag monday tuesday wednesday thursday friday
        saturday sunday januar februar mars april mai juni juli august september oktober november desember
        january february march may june july october december nav dps tsb fact act sats iddt the housing
        first kirkens sos mental helse rusinfo legevakt mandag tirsdag onsdag torsdag fredag lørdag søndag
        marts maj juni juli oktober""",
    )
)
"""Capitalised words that follow "pasienten"/"the patient" without being a name (weekdays, services …)."""


def _is_date_like(number: str) -> bool:
    """yyyymmdd or ddmmyyyy with a 19xx/20xx year: a date or reference, not a phone."""
    for year, month, day in ((number[:4], number[4:6], number[6:]), (number[4:], number[2:4], number[:2])):
        if year[:2] in ("19", "20") and 1 <= int(month) <= 12 and 1 <= int(day) <= 31:
            return True
    return False


def _phone_is_real(text: str, match: re.Match[str]) -> bool:
    """Context rules that keep doses, amounts, dates and references from being taken for phones."""
    written = match["international"] or match["number"]
    digits = re.sub(r"[^0-9]", "", written)
    if digits in PUBLIC_NUMBERS:
        return False
    if match["prefix"]:
        return True  # +47 / +45: written as a phone number
    before = text[max(0, match.start() - 24) : match.start()]
    if _NOT_PHONE_BEFORE_RE.search(before) or _NOT_PHONE_AFTER_RE.match(text[match.end() : match.end() + 8]):
        return False  # "ref 2024-0391", "kr 12 500 000", "40 mg"
    if digits != written:
        return True  # in phone-style groups
    return bool(_PHONE_CUE_RE.search(before)) or not _is_date_like(digits)


def _overlaps(spans: list[tuple[int, int, str]], start: int, end: int) -> bool:
    """Whether [start, end) overlaps a span already claimed by an earlier detector."""
    return any(s < end and start < e for s, e, _ in spans)


def _national_id(written: str) -> str | None:
    digits = _SEPARATORS.sub("", written)
    if len(digits) == 11 and valid_fnr(digits):
        return "dnr" if digits[0] in "4567" else "fnr"
    if len(digits) == 10 and valid_cpr(digits) and _cpr_shaped(written):
        return "cpr"
    return None


def _cpr_shaped(written: str) -> bool:
    """Plain ten digits, or the date part (ddmmyy, maybe dd.mm.yy) apart from the four last digits."""
    groups = _SEPARATORS.split(written)
    if len(groups) == 1:
        return True
    return len(groups[-1]) == 4 and "".join(groups[:-1]).isdigit() and len("".join(groups[:-1])) == 6


def identifier_spans(text: str) -> list[tuple[int, int, str]]:
    """All identifiers as (start, end, kind); e-mails first so their digits are not read as phones."""
    spans: list[tuple[int, int, str]] = []
    if "@" in text:
        for m in _EMAIL_RE.finditer(text):
            spans.append((m.start(), m.end(), "email"))
    digits = len(_ANY_DIGIT.findall(text))
    if digits >= 10:
        for m in _DIGIT_RUN.finditer(text):
            kind = _national_id(m.group())
            if kind and not _overlaps(spans, m.start(), m.end()):
                spans.append((m.start(), m.end(), kind))
    if digits >= 8:
        for m in _PHONE_RE.finditer(text):
            if _phone_is_real(text, m) and not _overlaps(spans, m.start(), m.end()):
                spans.append((m.start(), m.end(), "phone"))
    for m in _names(text):
        words = re.split(r"[ -]", m["name"])
        if any(w.lower() in _NOT_NAMES for w in words) or _overlaps(spans, m.start("name"), m.end("name")):
            continue
        spans.append((m.start("name"), m.end("name"), "name"))
    return sorted(spans)


def _names(text: str) -> list[re.Match[str]]:
    """Name matches, looked for only near two capitalised words in a row: the full pattern, with its
    many trigger words, is slow to try at every word of a long note."""
    found: dict[int, re.Match[str]] = {}
    for pair in _CAPITALISED_PAIR.finditer(text):
        for m in _NAME_RE.finditer(text, max(0, pair.start() - 40), min(len(text), pair.end() + 80)):
            found.setdefault(m.start("name"), m)
    return [found[key] for key in sorted(found)]


def find_identifiers(text: str) -> list[str]:
    """The kinds of identifier in ``text``, in :data:`PII_KINDS` order."""
    found = {kind for _, _, kind in identifier_spans(text)}
    return [k for k in PII_KINDS if k in found]


def redact(text: str) -> str:
    """``text`` with every identifier replaced by ``[fnr]``, ``[dnr]``, ``[cpr]``, ``[phone]``, ``[email]``, ``[name]``."""
    parts: list[str] = []
    last = 0
    for start, end, kind in identifier_spans(text):
        parts.append(text[last:start])
        parts.append(f"[{kind}]")
        last = end
    parts.append(text[last:])
    return "".join(parts)
