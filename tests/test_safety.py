"""Tests for bot.safety: the labelled screen cases, fnr/D-number validation, redaction and robustness."""

from __future__ import annotations

import calendar
import random
import time
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot import safety
from bot.safety import CRISIS_KINDS, PII_KINDS, Screening, redact, screen, valid_fnr

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


# ------------------------------------------------------------------ the labelled cases


def test_case_file_is_big_and_balanced() -> None:
    assert len(CASES) >= 120
    kinds = {k for case in CASES for k in case.get("kinds", [])}
    assert kinds == set(CRISIS_KINDS)
    assert sum(case["crisis"] for case in CASES) >= 40
    for case in CASES:
        assert set(case) <= {"text", "crisis", "pii", "kinds", "educational"}, case
        assert case["pii"] == [k for k in PII_KINDS if k in case["pii"]], case


@pytest.mark.parametrize("case", CASES, ids=[c["text"][:50] for c in CASES])
def test_screen_case(case: dict) -> None:
    result = screen(case["text"])
    assert result.crisis is case["crisis"], result
    assert result.pii == case["pii"], result
    if "kinds" in case:
        assert result.crisis_kinds == case["kinds"], result
    if not case["crisis"]:
        assert result.crisis_kinds == []
    if "educational" in case:
        assert result.educational is case["educational"], result
    assert result.name_hint is ("name" in case["pii"])


@pytest.mark.parametrize("case", [c for c in CASES if c["pii"]], ids=lambda c: c["text"][:50])
def test_redact_removes_every_identifier(case: dict) -> None:
    redacted = redact(case["text"])
    assert screen(redacted).pii == []
    for kind in case["pii"]:
        assert f"[{kind}]" in redacted


@pytest.mark.parametrize("case", [c for c in CASES if not c["pii"]], ids=lambda c: c["text"][:50])
def test_redact_leaves_clean_text_alone(case: dict) -> None:
    assert redact(case["text"]) == case["text"]


risk_words = st.sampled_from(["ta livet mitt", "overdose", "kutter meg", "drepe", "selvmord", "suicide",
                              "kill myself", "pills", "i kveld", "now", "ikke", "tanker om", "tok en hel pakke"])


@given(st.lists(st.one_of(risk_words, st.text(max_size=30)), max_size=8).map(" ".join))
def test_the_one_pattern_shortcut_never_skips_a_rule_hit(text: str) -> None:
    """screen() skips the rule-by-rule scan when the combined pattern finds nothing; that must be exact."""
    norm = safety._normalise(text)
    if safety._ANY_RULE.search(norm) is None:
        scan = safety._Scan(norm)
        scan.run()
        assert not scan.crisis_kinds and not scan.mention_sentences


@pytest.mark.parametrize("case", CASES, ids=[c["text"][:50] for c in CASES])
def test_the_combined_pattern_sees_every_labelled_mention(case: dict) -> None:
    norm = safety._normalise(case["text"])
    scan = safety._Scan(norm)
    scan.run()
    assert bool(scan.mention_sentences) == (safety._ANY_RULE.search(norm) is not None)


def test_lang_does_not_change_the_result() -> None:
    text = "Hun sier hun skal ta livet sitt i kveld. He took a whole packet of pills."
    assert screen(text, "nb") == screen(text, "en") == screen(text)
    assert screen(text).crisis_kinds == ["suicide", "overdose"]


def test_screening_is_frozen() -> None:
    result = screen("hei")
    assert result == Screening(crisis=False, crisis_kinds=[], educational=False, pii=[], name_hint=False)
    with pytest.raises(AttributeError):
        result.crisis = True  # type: ignore[misc]


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
    pii = screen(template.format(written)).pii
    if expected:
        assert pii == (["dnr"] if number[0] in "4567" else ["fnr"])
    else:
        assert pii == []


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_redact_output_has_no_identifiers(text: str) -> None:
    assert screen(redact(text)).pii == []


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.text(min_size=0, max_size=10_000))
def test_screen_never_raises_on_any_text(text: str) -> None:
    result = screen(text)
    assert isinstance(result, Screening)
    assert set(result.crisis_kinds) <= set(CRISIS_KINDS)
    assert set(result.pii) <= set(PII_KINDS)
    redact(text)


def _ten_thousand(rng: random.Random, seed_text: str) -> str:
    """10 000 chars: a Hypothesis text tiled, with random code points and risk/number words mixed in."""
    pieces = ["selvmord ", "vil ", "ikke ", "overdose ", "91234567 ", "010190 ", "@", ".", "?", "\n", "Ola "]
    out: list[str] = []
    size = 0
    while size < 10_000:
        roll = rng.random()
        if roll < 0.3 and seed_text:
            piece = seed_text
        elif roll < 0.6:
            piece = rng.choice(pieces)
        else:
            piece = "".join(chr(rng.randrange(0x20, 0x3000)) for _ in range(rng.randrange(1, 40)))
        out.append(piece)
        size += len(piece)
    return "".join(out)[:10_000]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(min_value=0, max_value=2**32), st.text(max_size=200))
def test_screen_is_fast_on_10k_random_chars(seed: int, seed_text: str) -> None:
    text = _ten_thousand(random.Random(seed), seed_text)
    assert len(text) == 10_000
    start = time.perf_counter()
    screen(text)
    redact(text)
    assert time.perf_counter() - start < 1.0


ADVERSARIAL = [
    "a" * 10_000,
    "1" * 10_000,
    "1 " * 5_000,
    "12 " * 3_333,
    "+47 " * 2_500,
    "a." * 5_000,
    "a@" * 5_000,
    "x@" + "a." * 4_999,
    "a" * 9_990 + "@example.no",
    "Pasienten " + "Ab " * 3_300,
    "Pasienten Ab" + "-Ab" * 3_300,
    "vil " * 2_500,
    "vil ikke " * 1_111,
    "har tatt en hel " * 625,
    "overdose " * 1_111,
    "selvmrod " * 1_111,
    "ikke " * 2_000,
    "? " * 5_000,
    "\n" * 10_000,
    ", og " * 2_000,
    "he wants to " * 833,
    "010190 " * 1_428,
]


@pytest.mark.parametrize("text", ADVERSARIAL, ids=lambda t: repr(t[:12]))
def test_screen_is_linear_on_adversarial_input(text: str) -> None:
    start = time.perf_counter()
    screen(text)
    redact(text)
    assert time.perf_counter() - start < 1.0
