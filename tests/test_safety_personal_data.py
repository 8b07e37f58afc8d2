"""Tests for bot.safety.personal_data: fnr, D-number and CPR validation in every written form, phone
numbers (Norwegian and Danish), e-mail, names, redaction, and what must never be taken for them."""

from __future__ import annotations

import calendar
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.safety import PII_KINDS, redact, screen, valid_cpr, valid_fnr
from bot.safety.personal_data import cpr_passes_modulus11, find_identifiers

CASES_FILE = Path(__file__).parent / "data" / "screen_cases.yaml"
CASES = yaml.safe_load(CASES_FILE.read_text(encoding="utf-8"))["cases"]

W1 = (3, 7, 6, 1, 8, 9, 4, 5, 2)
W2 = (5, 4, 3, 2, 7, 6, 5, 4, 3, 2)


# ------------------------------------------------------------------ an independent reference for fnr


def ref_check(digits: str, weights: tuple[int, ...]) -> int | None:
    """Mod-11 check digit written out longhand, independent of bot.safety's helper."""
    total = 0
    for digit, weight in zip(digits, weights, strict=True):
        total += int(digit) * weight
    k = 11 - total % 11
    if k == 11:
        return 0
    if k == 10:
        return None
    return k


def ref_checksums_ok(number: str) -> bool:
    """Both check digits of an 11-digit string are right."""
    return ref_check(number[:9], W1) == int(number[9]) and ref_check(number[:10], W2) == int(number[10])


def ref_date_ok(number: str) -> bool:
    """The date part is a real date for an fnr (day 1-31) or a D-number (day 41-71).

    The century follows the individual-number ranges; unallocated ranges may be either 19xx or 20xx.
    """
    day, month, yy, ind = int(number[:2]), int(number[2:4]), int(number[4:6]), int(number[6:9])
    if 41 <= day <= 71:
        day -= 40
    elif not 1 <= day <= 31:
        return False
    if not 1 <= month <= 12:
        return False
    if ind <= 499:
        years = [1900 + yy]
    elif ind <= 749 and yy >= 54:
        years = [1800 + yy]
    elif yy <= 39:
        years = [2000 + yy]
    elif ind >= 900:
        years = [1900 + yy]
    else:
        years = [1900 + yy, 2000 + yy]
    return any(day <= calendar.monthrange(y, month)[1] for y in years)


def complete(first9: str) -> str | None:
    """The 11-digit number with both check digits appended, or None when a check digit would be 10."""
    k1 = ref_check(first9, W1)
    if k1 is None:
        return None
    k2 = ref_check(first9 + str(k1), W2)
    return None if k2 is None else f"{first9}{k1}{k2}"


# ------------------------------------------------------------------ valid_fnr

KNOWN_VALID = [
    "01019012480",  # 1 Jan 1990
    "15038545660",
    "29028410016",  # 29 Feb 1984 (leap year)
    "31129925186",
    "12070551215",  # 2005: individual number 512
    "23117231070",
    "08066104207",
    "30040277729",  # individual 777, year 02 -> 2002
    "17057890185",  # individual 901, year 78 -> 1978
    "03109308853",
    "41019012393",  # D-number, 1 Jan 1990
    "55038545654",
    "70097020130",  # D-number, 30 Sep 1970
    "51028830045",
    "65129540049",
]


@pytest.mark.parametrize("number", KNOWN_VALID)
def test_valid_fnr_accepts_known_valid(number: str) -> None:
    assert ref_checksums_ok(number) and ref_date_ok(number)
    assert valid_fnr(number)
    assert valid_fnr(f"{number[:6]} {number[6:]}")


@pytest.mark.parametrize("number", KNOWN_VALID)
@pytest.mark.parametrize("position", [9, 10])
def test_valid_fnr_rejects_a_wrong_check_digit(number: str, position: int) -> None:
    digit = (int(number[position]) + 1) % 10
    assert not valid_fnr(number[:position] + str(digit) + number[position + 1 :])


@pytest.mark.parametrize(
    "number",
    [
        "12345678901",
        "01019012345",
        "00000000000",  # checksums hold but day and month are 0
        "32139010026",  # checksums hold; day 32, month 13
        "01139010074",  # checksums hold; month 13
        "29028510037",  # checksums hold; 29 Feb 1985
        "81109010081",  # checksums hold; day 81 is neither fnr nor D-number
        "0101901248",  # 10 digits
        "010190124800",  # 12 digits
        "0101901248a",
        "０１０１９０１２４８０",  # full-width digits are not ASCII digits
        "",
    ],
)
def test_valid_fnr_rejects_invalid(number: str) -> None:
    assert not valid_fnr(number)


def test_valid_fnr_hand_computed_example() -> None:
    # 010190 123: 0*3 + 1*7 + 0*6 + 1*1 + 9*8 + 0*9 + 1*4 + 2*5 + 3*2 = 100; 100 % 11 = 1 -> k1 = 10: never issued
    assert complete("010190123") is None
    # 010190 124: the sum is 102; 102 % 11 = 3 -> k1 = 8.
    # k2: 0*5 + 1*4 + 0*3 + 1*2 + 9*7 + 0*6 + 1*5 + 2*4 + 4*3 + 8*2 = 110; 110 % 11 = 0 -> k2 = 11 -> 0
    number = complete("010190124")
    assert number == "01019012480"
    assert valid_fnr(number)


# ------------------------------------------------------------------ properties

eleven_digits = st.text(alphabet="0123456789", min_size=11, max_size=11)
checksum_valid = st.text(alphabet="0123456789", min_size=9, max_size=9).map(complete).filter(bool)
plausible = st.builds(
    lambda d, m, y, i, dnr: complete(f"{d + (40 if dnr else 0):02d}{m:02d}{y:02d}{i:03d}"),
    st.integers(1, 31),
    st.integers(1, 12),
    st.integers(0, 99),
    st.integers(0, 999),
    st.booleans(),
).filter(bool)


@settings(max_examples=400, deadline=None)
@given(st.one_of(eleven_digits, checksum_valid, plausible), st.booleans(), st.sampled_from(["{}", "fnr {} ok"]))
def test_eleven_digits_flagged_iff_valid(number: str, spaced: bool, template: str) -> None:
    expected = ref_checksums_ok(number) and ref_date_ok(number)
    assert valid_fnr(number) is expected
    written = f"{number[:6]} {number[6:]}" if spaced else number
    pii = find_identifiers(template.format(written))
    if expected:
        assert pii == (["dnr"] if number[0] in "4567" else ["fnr"])
    else:
        assert pii == []


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_redact_output_has_no_identifiers(text: str) -> None:
    assert find_identifiers(redact(text)) == []


def written_forms(number: str) -> list[str]:
    """The ways staff write an 11-digit fnr: plain, with a space, a dot or a dash after the date,
    and with the date's own parts separated."""
    date, rest = number[:6], number[6:]
    return [number, f"{date} {rest}", f"{date}.{rest}", f"{date}-{rest}",
            f"{date[:2]}.{date[2:4]}.{date[4:]} {rest}", f"{date[:2]} {date[2:4]} {date[4:]} {rest}"]


@pytest.mark.parametrize("number", KNOWN_VALID)
def test_every_written_form_of_an_fnr_or_dnr_is_caught(number: str) -> None:
    kind = "dnr" if number[0] in "4567" else "fnr"
    for written in written_forms(number):
        assert find_identifiers(f"Pas. med fnr {written} er innlagt") == [kind], written
        assert find_identifiers(f"{written}") == [kind], written
        assert f"[{kind}]" in redact(f"nr {written}."), written


def test_a_d_number_is_reported_as_dnr() -> None:
    assert find_identifiers("D-nummer 41019012393") == ["dnr"]
    assert find_identifiers("fødselsnummer 01019012480") == ["fnr"]


# ------------------------------------------------------------------ CPR (Denmark)

def cpr(day: int, month: int, yy: int, serial: str) -> str:
    return f"{day:02d}{month:02d}{yy:02d}{serial}"


CPR_VALID = [
    cpr(1, 1, 90, "1234"),    # 1990; fails the old modulus-11 check (allowed since 2007)
    cpr(29, 2, 84, "2345"),   # 29 Feb 1984
    cpr(31, 12, 5, "4321"),   # 7th digit 4, year 05 -> 2005
    cpr(15, 6, 70, "0017"),
    cpr(1, 1, 65, "4001"),    # passes modulus 11 (see test below)
]


@pytest.mark.parametrize("number", CPR_VALID)
def test_cpr_numbers_are_caught_in_every_form(number: str) -> None:
    assert valid_cpr(number)
    date, serial = number[:6], number[6:]
    for written in (number, f"{date}-{serial}", f"{date} {serial}", f"{date}.{serial}",
                    f"{date[:2]}.{date[2:4]}.{date[4:]}-{serial}"):
        assert find_identifiers(f"Borgeren har CPR {written}, kan du hjælpe") == ["cpr"], written
        assert "[cpr]" in redact(f"cpr: {written}")


def test_cpr_with_and_without_the_old_modulus_check_are_both_accepted() -> None:
    # 0101654001: 0*4+1*3+0*2+1*7+6*6+5*5+4*4+0*3+0*2+1*1 = 88 = 8*11; 0101901234: 84, not a multiple of 11
    passing = cpr(1, 1, 65, "4001")
    failing = cpr(1, 1, 90, "1234")
    assert cpr_passes_modulus11(passing) and not cpr_passes_modulus11(failing)
    assert valid_cpr(passing) and valid_cpr(failing)


@pytest.mark.parametrize("number", ["3201901234", "0013901234", "2902851234", "3104901234", "0000000000"])
def test_cpr_shaped_numbers_with_an_impossible_date_are_not_identifiers(number: str) -> None:
    assert not valid_cpr(number)
    assert find_identifiers(f"sagsnr {number[:6]}-{number[6:]}") == []


def test_the_cpr_century_rule_decides_a_leap_day() -> None:
    # 29 Feb 00: year 2000 (a leap year) with 7th digit 4-9 -> valid; 1900 (not a leap year) with 0-3 -> invalid
    assert valid_cpr(cpr(29, 2, 0, "4000"))
    assert not valid_cpr(cpr(29, 2, 0, "1000"))
    assert calendar.isleap(2000) and not calendar.isleap(1900)


# ------------------------------------------------------------------ phones

@pytest.mark.parametrize("text", [
    "ring meg på 912 34 567", "tlf 91234567", "mobil 91 23 45 67", "+47 912 34 567", "0047 91234567",
    "hans nummer er +45 12 34 56 78", "ring 0045 2345 6789", "+45 23456789", "dansk mobil 2345 6789",
    "tlf 23 456 789",
])
def test_norwegian_and_danish_phone_numbers_are_caught(text: str) -> None:
    assert find_identifiers(text) == ["phone"]


@pytest.mark.parametrize("text", [
    "Livslinien 70 201 201 har åbent", "Kirkens SOS 22 40 00 40", "Giftinformasjonen 22 59 13 00",
    "ring 113 eller 112", "legevakt 116 117", "metadon 90 mg fra 1.4.2024", "møte 12.03.2024 kl 14.30",
    "skylder 12 500 kr", "husleie 8 450 kroner", "ref 2024-0391", "saksnr 2023-1187-04", "rom 3.14",
    "buprenorfin 16 mg, ned til 12 mg fra 3. juni", "sagsnr. 23-118-07, udbetaling 2.450 kr.",
    "konto 1234.56.78903",
])
def test_service_numbers_doses_dates_amounts_and_references_are_not_personal_data(text: str) -> None:
    assert find_identifiers(text) == []


# ------------------------------------------------------------------ the labelled cases (first round)

@pytest.mark.parametrize("case", CASES, ids=[c["text"][:50] for c in CASES])
def test_regression_cases_personal_data(case: dict) -> None:
    result = screen(case["text"])
    assert result.pii == case["pii"], result
    assert result.name_hint is ("name" in case["pii"])


@pytest.mark.parametrize("case", [c for c in CASES if c["pii"]], ids=lambda c: c["text"][:50])
def test_redact_removes_every_identifier(case: dict) -> None:
    redacted = redact(case["text"])
    assert find_identifiers(redacted) == []
    for kind in case["pii"]:
        assert f"[{kind}]" in redacted


@pytest.mark.parametrize("case", [c for c in CASES if not c["pii"]], ids=lambda c: c["text"][:50])
def test_redact_leaves_clean_text_alone(case: dict) -> None:
    assert redact(case["text"]) == case["text"]


def test_pii_kinds_come_in_a_stable_order() -> None:
    text = "e-post ola@example.no, tlf 91234567, CPR 010190-1234, fnr 01019012480"
    assert find_identifiers(text) == ["fnr", "cpr", "phone", "email"]
    assert list(PII_KINDS) == ["fnr", "dnr", "cpr", "phone", "email", "name"]
