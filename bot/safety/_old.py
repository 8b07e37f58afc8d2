"""Safety screen: acute-risk language and personal identifiers in free text.

Two jobs, both plain and explainable (regular expressions over normalised text, no model, no network):

* **Crisis** — suicide, self-harm, overdose and violence expressed as a *current* risk, in Norwegian
  bokmål or English, first or third person ("sier hun skal ta livet sitt i kveld", "OD'd and won't wake
  up"). Questions and teaching ("hvordan spør jeg om selvmordstanker?"), history ("for ti år siden")
  and negations ("denies suicidal thoughts") are not a crisis; questions and teaching set
  ``educational`` instead, so the bot can answer them as knowledge.
* **Personal data** — national identity numbers (fnr) and D-numbers validated by their two mod-11
  check digits and date, Norwegian phone numbers, e-mail addresses and a likely full name after words
  such as "pasienten" or "the patient". The bot refuses to store such text and tells the user.

How a crisis is decided: the text is normalised (lower case, æ→ae, ø→o, å→a, accents and curly
apostrophes folded, a few typos of key words corrected), cut into sentences and clauses, and matched
against two kinds of rules. *Acute* rules are phrases that state a current risk by themselves ("vil
ikke leve mer", "has a plan to kill himself", "puster nesten ikke"). *Topic* words ("selvmord",
"overdose") only count as acute together with a time word that makes them current ("i natt", "right
now"). A hit is dropped when its clause negates it ("ikke", "denies" just before), when its clause is
about the past ("tidligere", "years ago") and says nothing about now, or when its sentence is framed as
a question of method, research, teaching or a general case ("if a patient says …"), unless a time
word in the clause makes it current.
"""

from __future__ import annotations

import bisect
import calendar
import re
import unicodedata
from dataclasses import dataclass, field

from rapidfuzz.distance import OSA

__all__ = ["Screening", "screen", "redact", "valid_fnr", "PUBLIC_NUMBERS", "CRISIS_KINDS", "PII_KINDS"]

CRISIS_KINDS = ("suicide", "self_harm", "overdose", "violence")
PII_KINDS = ("fnr", "dnr", "phone", "email", "name")

# Public service numbers the bot itself prints (or users quote); never personal data.
PUBLIC_NUMBERS = frozenset(
    {
        "22400040",  # Kirkens SOS
        "22591300",  # Giftinformasjonen
        "80033321",  # Kors på halsen (Røde Kors)
    }
)


@dataclass(frozen=True)
class Screening:
    """The result of :func:`screen`; see the module docstring for what each flag means."""

    crisis: bool
    crisis_kinds: list[str] = field(default_factory=list)
    educational: bool = False
    pii: list[str] = field(default_factory=list)
    name_hint: bool = False


# --------------------------------------------------------------------------------------------------
# National identity numbers
# --------------------------------------------------------------------------------------------------

_W1 = (3, 7, 6, 1, 8, 9, 4, 5, 2)
_W2 = (5, 4, 3, 2, 7, 6, 5, 4, 3, 2)
_ELEVEN_DIGITS = re.compile(r"[0-9]{11}")


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


def _plausible_date(digits: str) -> bool:
    """Day/month of an fnr (day 1-31) or a D-number (day + 40, so 41-71) form a real calendar date."""
    day, month, yy = int(digits[0:2]), int(digits[2:4]), int(digits[4:6])
    if day > 40:
        day -= 40
    if not 1 <= month <= 12 or day < 1:
        return False
    years = _birth_years(yy, int(digits[6:9]))
    return any(day <= calendar.monthrange(year, month)[1] for year in years)


def valid_fnr(digits: str) -> bool:
    """True for an 11-digit fødselsnummer or D-number whose date and both check digits are valid.

    A single space after the 6-digit date part is accepted ("010190 12345"), as people write it so.
    H-numbers (month + 40) and synthetic test numbers are not accepted: staff do not type those.
    """
    if len(digits) == 12 and digits[6] == " ":
        digits = digits[:6] + digits[7:]
    if not _ELEVEN_DIGITS.fullmatch(digits):
        return False
    if _check_digit(digits[:9], _W1) != int(digits[9]):
        return False
    if _check_digit(digits[:10], _W2) != int(digits[10]):
        return False
    return _plausible_date(digits)


# --------------------------------------------------------------------------------------------------
# Personal-data detectors (on the original text; ASCII digits only, so Arabic-Indic digits never pass)
# --------------------------------------------------------------------------------------------------

_FNR_RE = re.compile(r"(?<![0-9])([0-9]{6})[ -]?([0-9]{5})(?![0-9])")
_EMAIL_RE = re.compile(r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)*\.[A-Za-z]{2,}(?![\w-])")
_PHONE_RE = re.compile(
    r"(?<![\w+])(?P<prefix>(?:\+|00) ?47[ -]?)?"
    r"(?P<number>[2-9][0-9]{7}|[2-9][0-9](?:[ -][0-9]{2}){3}|[2-9][0-9]{2}[ -][0-9]{2}[ -][0-9]{3})"
    r"(?![0-9])"
)
_PHONE_CUE_RE = re.compile(r"(?i)\b(?:tlf|telefon\w*|mobil\w*|ring\w*|sms|phone|call|tel|cell|mob)\b")
_NOT_PHONE_BEFORE_RE = re.compile(
    r"(?i)(?:\b(?:ref\w*|sak\w*|case|journal\w*|konto\w*|account|ordre\w*|order|faktura\w*|invoice|"
    r"arkiv\w*|id|kr|nok|eur|usd)(?: ?(?:no|nr|number|nummer|id))?|[€$£])[\s.:#-]{0,3}$"
)
_NOT_PHONE_AFTER_RE = re.compile(r"(?i)^\s?(?:mg|ml|µg|mcg|kr\b|nok\b|%|g\b|stk\b|kroner|,-|[.,][0-9])")
_NAME_TRIGGER = (
    r"pasienten|pasient|brukeren|bruker|klienten|beboeren|deltakeren|ved navn|som heter|heter|navnet er|"
    r"navn|the patient|my patient|patient|the client|my client|client|the resident|named|name is"
)
_NAME_WORD = r"[A-ZÆØÅÄÖÜÉ][a-zæøåäöüéèáó']+"
_NAME_RE = re.compile(
    rf"\b(?i:{_NAME_TRIGGER})(?:\s*[:,]\s*|\s+)(?P<name>{_NAME_WORD}(?:[ -]{_NAME_WORD}){{1,3}})\b"
)
# Capitalised words that follow "pasienten"/"the patient" without being a name (weekdays, services …).
_NOT_NAMES = frozenset(
    re.findall(
        r"\w+",
        """mandag tirsdag onsdag torsdag fredag lørdag søndag monday tuesday wednesday thursday friday
        saturday sunday januar februar mars april mai juni juli august september oktober november desember
        january february march may june july october december nav dps tsb fact act sats iddt the housing
        first kirkens sos mental helse rusinfo legevakt""",
    )
)


def _is_date_like(number: str) -> bool:
    """yyyymmdd or ddmmyyyy with a 19xx/20xx year: a date or reference, not a phone."""
    for year, month, day in ((number[:4], number[4:6], number[6:]), (number[4:], number[2:4], number[:2])):
        if year[:2] in ("19", "20") and 1 <= int(month) <= 12 and 1 <= int(day) <= 31:
            return True
    return False


def _phone_is_real(text: str, match: re.Match[str]) -> bool:
    """Context rules that keep doses, amounts, dates and references from being taken for phones."""
    digits = re.sub(r"[^0-9]", "", match["number"])
    if digits in PUBLIC_NUMBERS:
        return False
    if match["prefix"] or digits != match["number"]:
        return True  # written like a phone number: with +47/0047 or in phone-style groups
    before = text[max(0, match.start() - 24) : match.start()]
    if _NOT_PHONE_BEFORE_RE.search(before) or _NOT_PHONE_AFTER_RE.match(text[match.end() : match.end() + 8]):
        return False
    return bool(_PHONE_CUE_RE.search(before)) or not _is_date_like(digits)


def _overlaps(spans: list[tuple[int, int, str]], start: int, end: int) -> bool:
    """Whether [start, end) overlaps a span already claimed by an earlier detector."""
    return any(s < end and start < e for s, e, _ in spans)


def _identifier_spans(text: str) -> list[tuple[int, int, str]]:
    """All identifiers as (start, end, kind); e-mails first so their digits are not read as phones."""
    spans: list[tuple[int, int, str]] = []
    for m in _EMAIL_RE.finditer(text):
        spans.append((m.start(), m.end(), "email"))
    for m in _FNR_RE.finditer(text):
        digits = m[1] + m[2]
        if valid_fnr(digits) and not _overlaps(spans, m.start(), m.end()):
            spans.append((m.start(), m.end(), "dnr" if digits[0] in "4567" else "fnr"))
    for m in _PHONE_RE.finditer(text):
        if _phone_is_real(text, m) and not _overlaps(spans, m.start(), m.end()):
            spans.append((m.start(), m.end(), "phone"))
    for m in _NAME_RE.finditer(text):
        words = re.split(r"[ -]", m["name"])
        if any(w.lower() in _NOT_NAMES for w in words) or _overlaps(spans, m.start("name"), m.end("name")):
            continue
        spans.append((m.start("name"), m.end("name"), "name"))
    return sorted(spans)


def redact(text: str) -> str:
    """``text`` with every identifier replaced by ``[fnr]``, ``[dnr]``, ``[phone]``, ``[email]``, ``[name]``."""
    parts: list[str] = []
    last = 0
    for start, end, kind in _identifier_spans(text):
        parts.append(text[last:start])
        parts.append(f"[{kind}]")
        last = end
    parts.append(text[last:])
    return "".join(parts)


# --------------------------------------------------------------------------------------------------
# Normalisation for the crisis rules
# --------------------------------------------------------------------------------------------------

_FOLD = str.maketrans({"æ": "ae", "ø": "o", "œ": "oe", "’": "'", "‘": "'", "ʼ": "'", "`": "'", "´": "'"})
_SPACES_RE = re.compile(r"[^\S\n]+")
# Key words worth correcting when mistyped; whole words, edit distance 1 (a transposition counts as 1).
_TYPO_VOCAB = (
    "selvmord", "selvmordet", "selvmordstanker", "selvmordsforsok", "selvmordsfare", "selvmordsplaner",
    "selvmordsrisiko", "suicide", "suicidal", "suicidale", "suicidalitet", "overdose", "overdoser",
    "overdosen", "overdosert", "overdosed", "overdosing", "selvskading", "selvskader", "overdoserte",
)  # fmt: skip
_REAL_WORDS = frozenset({"overdone", "overdoer", "selvmelding", "suicided"})
_TYPO_CANDIDATE_RE = re.compile(r"\b[so][a-z]{5,15}\b")


def _fix_typo(match: re.Match[str]) -> str:
    """Map a mistyped key word ("selvmrod", "overdoes") to its spelling; real look-alikes ("overdone") stay."""
    word = match[0]
    if word in _REAL_WORDS or word in _TYPO_VOCAB:
        return word
    for target in _TYPO_VOCAB:
        if target[0] == word[0] and abs(len(target) - len(word)) <= 1 and OSA.distance(word, target) <= 1:
            return target
    return word


def _normalise(text: str) -> str:
    """Lower case, æ→ae ø→o å→a (and "aa"→"a"), accents dropped, apostrophes unified, typos fixed."""
    text = unicodedata.normalize("NFKC", text).casefold().translate(_FOLD)
    text = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    text = _SPACES_RE.sub(" ", text).replace("aa", "a")
    return _TYPO_CANDIDATE_RE.sub(_fix_typo, text)


# --------------------------------------------------------------------------------------------------
# Crisis rules (written for normalised text: no æøå, lower case, "'" as the only apostrophe)
# --------------------------------------------------------------------------------------------------

# Up to two filler words that are not a negation ("vil bare ta livet sitt", not "vil ikke ta …").
_GAP = r"(?:(?!(?:ikke|ingen|aldri|not|no|never|nei)\b)(?![\w']*n't\b)[\w']+ ){0,2}"
_SELF_EN = r"(?:my|him|her|them|your|one)sel(?:f|ves)"
_INTENT_NB = (
    r"(?:vil|skal|ska|kommer til a|tenker (?:pa )?a|tenkt pa a|tenker pa|planlegger a|planlegger|"
    r"har planer? (?:om|for) a|har en plan (?:om|for|til) a|har en plan|plan om a|truer med a|truet med a|"
    r"har lyst (?:til )?a|lyst til a|onsker a|prover a|forsoker a|forsokte a|provde a|har (?:forsokt|provd) a|"
    r"vurderer a|bestemt seg for a|er klar til a|snakker om a)"
)
_INTENT_EN = (
    r"(?:wants?|wanted|wanna|wanting|going|gonna|plans?|planning|planned|has a plan|have a plan|"
    r"threat\w*|tr(?:y|ies|ying|ied)|intends?|intending|will|'ll|about|thinking (?:about|of)|"
    r"thinks (?:about|of)|thought about|decided|ready|considering|talking about|talks about|"
    r"says (?:he|she|they) (?:will|is going|wants)|said (?:he|she|they) (?:would|was going|wanted))(?: to)?"
)
_TAKE_LIFE_NB = (
    r"ta (?:livet (?:sitt|sit|mitt|mit|sin|av seg|av meg)|livet(?= ?[.!?,;\n]| ?$)|(?:sitt|mitt) (?:eget )?liv)"
)
_VIOLENT_NB = (
    r"(?:drepe|skade|sla (?:ned|ihjel|til)|sla|knivstikke|stikke (?:ned|til)|skyte|angripe|banke(?: opp)?|"
    r"kverke|myrde|ta livet av (?!seg\b|meg\b)\w+|brenne ned|sette fyr pa)\b(?! (?:seg|tiden)\b)"
)
_VIOLENT_EN = (
    rf"(?:kill|hurt|stab|shoot|harm|beat(?: up)?|attack|murder|strangle)(?! {_SELF_EN}\b)"
    r" (?:someone|somebody|people|everyone|him|her|them|me|you|us|his|her|their|my|the|a|staff|\w+'s)\b"
)
_PILL_QUANT_NB = (
    r"(?:en hel|et helt|hele|alle|mange|masse|en haug(?: med)?|en boks(?: med)?|for mange|en full|[1-9][0-9]+)"
)
_PILLS_NB = r"(?:piller|pillene|tabletter|tablettene|pakke|pakka|pakken|brett|brettet|eske|esken|glass|medisin\w*)"
_PILL_QUANT_EN = (
    r"(?:a whole|the whole|an entire|all(?: of)?|a handful of|handfuls of|a bunch of|loads of|lots of|"
    r"a lot of|too many|a full|a bottle of|a packet of|a box of|a pack of|a strip of|[1-9][0-9]+)"
)
_PILLS_EN = r"(?:pills|tablets|meds|medication|medicine|packet|pack|bottle|box|paracetamol|sleeping)"

# (kind, needs a substance word in the sentence, pattern) — each states a current risk by itself.
_ACUTE_RULES: tuple[tuple[str, bool, str], ...] = (
    # suicide, nb
    ("suicide", False, rf"\b{_INTENT_NB} {_GAP}(?:{_TAKE_LIFE_NB}|drepe seg|bega selvmord|"
     r"gjore slutt pa (?:det|livet|alt)|avslutte livet|ende livet|henge seg|skyte seg|drukne seg|"
     r"hoppe(?= ?[.!?,;\n]| ?$| (?:fra|foran|ut|ned|av)\b)|kaste seg (?:foran|ut))\b"),
    ("suicide", False, rf"\b{_INTENT_NB} {_GAP}selvmord\b"),
    ("suicide", False, r"\b(?:vil|skal|onsker a|har lyst (?:til )?a|lyst til a) (?:bare |helst |heller )?"
     r"(?:do|doe)\b"),
    ("suicide", False, r"\b(?:vil|onsker a|har lyst til a) (?:bare |helst |heller )?forsvinne\b"),
    ("suicide", False, r"\bjeg (?:\w+ ){0,3}ta livet av meg\b"),
    ("suicide", False, r"\b(?:vil|orker|klarer|gidder|onsker|har lyst til a) ikke (?:a )?leve\b"),
    ("suicide", False, r"\bikke (?:vil|orker|klarer|gidder|onsker a|har lyst til a) (?:a )?leve\b"),
    ("suicide", False, r"\bvil ikke (?:vaere (?:her|i live|til)|vakne)\b"),
    ("suicide", False, r"\bikke (?:(?:noe )?lyst (?:til )?a leve|verdt a leve|vits (?:i|med) a leve)\b"),
    ("suicide", False, r"\bingen grunn til a leve\b"),
    ("suicide", False, r"\bbedre (?:for alle )?(?:om|hvis) (?:jeg|han|hun|hen) (?:var|er|blir) (?:dod|borte)\b"),
    ("suicide", False, r"\b(?:er|blitt|blir|virker|fremstar(?: som)?|oppleves) (?:akutt |sterkt |veldig |svaert |"
     r"aktivt |tydelig |na )?suicidal\b"),
    ("suicide", False, rf"\b(?:har|uttrykker|forteller om|beskriver|melder om|rapporterer|snakker om) {_GAP}"
     r"(?:selvmordstanker|selvmordsplaner?|dodsonsker|suicidale tanker|tanker om (?:selvmord|a do|a ta livet))"),
    ("suicide", False, r"\b(?:selvmordsplan\w*|avskjedsbrev\w*|farvelbrev\w*|selvmordsbrev\w*)"),
    ("suicide", False, r"\btruer med selvmord\b"),
    ("suicide", False, r"\b(?:samlet|samler|hamstret|hamstrer) (?:opp |pa )?(?:piller|tabletter|medisiner)\b"),
    # suicide, en
    ("suicide", False, rf"\b(?:kill|killing|kills) {_SELF_EN}\b"),
    ("suicide", False, r"\b(?:take|taking|end|ending) (?:my|his|her|their|your) (?:own )?life\b"),
    ("suicide", False, r"\bend(?:ing)? it all\b"),
    ("suicide", False, rf"\b{_INTENT_EN} {_GAP}(?:end it(?! with)|end things|commit suicide|disappear|"
     r"jump (?:off|from|in front)|overdose)\b"),
    ("suicide", False, r"\b(?:wants?|wanted|wanna|wanting|wish(?:es)?|ready|plans?|planning|decided|tr(?:y|ies|ying|ied)"
     r"|going|gonna) to die\b(?! (?:of|from)\b)"),
    ("suicide", False, rf"\b(?:hang|hanging|shoot|shooting|drown|drowning) {_SELF_EN}\b"),
    ("suicide", False, r"\b(?:do|does)(?:n'?t| not) want to (?:be alive|live|wake up|be here|exist|go on)\b"),
    ("suicide", False, r"\b(?:no|any) (?:reason|point) (?:to|in) (?:live|living|going on)\b"),
    ("suicide", False, r"\bbetter off (?:dead|without (?:me|him|her|them))\b"),
    ("suicide", False, r"\bwish(?:es)? (?:i|he|she|they) (?:was|were) dead\b"),
    ("suicide", False, r"\b(?:is|'s|are|am|feels?|feeling|seems?|appears?|sounds?|becoming|getting) "
     r"(?:actively |acutely |very |highly |really |now )?suicidal\b"),
    ("suicide", False, rf"\b(?:has|have|having|reports?|reporting|expresses|expressing|voices|voicing) {_GAP}"
     r"(?:suicidal (?:thoughts|ideation|feelings|plans?|intent)|thoughts (?:of|about) "
     r"(?:suicide|killing|ending|dying))\b"),
    ("suicide", False, r"\b(?:suicide|goodbye|farewell) (?:note|letter|plan)s?\b"),
    ("suicide", False, r"\b(?:stockpil\w*|hoard\w*|saving up) (?:pills|tablets|meds|medication)\b"),
    # self-harm
    ("self_harm", False, r"\b(?:kutter|skjaerer|risper|brenner) seg\b"),
    ("self_harm", False, r"\b(?:har )?(?:kuttet|skaret|skjaert|rispet) seg\b"),
    ("self_harm", False, r"\b(?:skader|skade|skadet|brenner|brenne|brent|slar|sla) seg selv\b"),
    ("self_harm", False, r"\bselvskader\b"),
    # "hurt herself" alone is often an accident ("fell off the bike"); it counts when intended or ongoing.
    ("self_harm", False, rf"\b(?:cut|cuts|cutting|burns|burning|burned|burnt|hurting|harms|harming|harmed|"
     rf"injures|injuring|scratches|scratching|scratched) {_SELF_EN}\b"),
    ("self_harm", False, rf"\b{_INTENT_EN} {_GAP}(?:hurt|harm|cut|burn|injure|scratch) {_SELF_EN}\b"),
    ("self_harm", False, r"\b(?:is|'s|are|am|has been|started|keeps|currently) self[- ]?harming\b"),
    # overdose
    ("overdose", False, r"\b(?:har|hadde) (?:tatt|fatt) (?:en )?overdose\b"),
    ("overdose", False, r"\btok (?:en )?overdose\b"),
    ("overdose", False, r"\b(?:har overdosert|overdoserer|overdoserte)\b"),
    ("overdose", False, rf"\b(?:har tatt|tok|har svelget|svelget|har slukt|slukte) {_PILL_QUANT_NB} "
     rf"(?:\w+ ){{0,3}}?{_PILLS_NB}"),
    ("overdose", False, r"\bpuster (?:nesten ikke|ikke|knapt|svakt|veldig sakte|sakte|langsomt|uregelmessig|"
     r"darlig|rallende)\b"),
    ("overdose", False, r"\bbla (?:i ansiktet|i fjeset|rundt munnen|om munnen|pa leppene|lepper)\b"),
    ("overdose", False, r"\b(?:leppene|ansiktet|fjeset) (?:hans |hennes )?(?:er|blir|ble) bla\b"),
    ("overdose", False, r"\b(?:knappenalspupiller|far ikke liv i)\b"),
    ("overdose", True, r"\b(?:vakner ikke|er bevisstlos|bevisstlos|ikke kontaktbar|far ikke kontakt med|"
     r"reagerer ikke|livlos)\b"),
    ("overdose", False, r"\b(?:has |just |have )?(?:overdosed|overdosing|od'?d|od'?ed|od-ed|o\.d\.'?d)\b"),
    ("overdose", False, r"\b(?:took|has taken|have taken|had taken|taken) (?:an |a )?(?:overdose|od)\b"),
    ("overdose", False, rf"\b(?:took|has taken|have taken|swallowed|has swallowed|downed) {_PILL_QUANT_EN} "
     rf"(?:\w+ ){{0,3}}?{_PILLS_EN}"),
    ("overdose", False, r"\b(?:not breathing|barely breathing|hardly breathing|stopped breathing|"
     r"breathing (?:very )?(?:slowly|shallowly|shallow)|pinpoint pupils)\b"),
    ("overdose", False, r"\b(?:lips|face) (?:is |are |has |have )?(?:turning|turned|gone|going|is|are) blue\b"),
    ("overdose", False, r"\b(?:blue lips|turning blue|(?:is|'s) blue in the face)\b"),
    ("overdose", True, r"\b(?:won'?t wake up|will not wake up|can'?t wake (?:him|her|them)|cannot wake|"
     r"unresponsive|unconscious)\b"),
    # violence, nb
    ("violence", False, rf"\b{_INTENT_NB} {_GAP}{_VIOLENT_NB}"),
    ("violence", False, r"\btruer (?:med )?(?:vold|kniv|vapen|pistol|a bruke)\b"),
    ("violence", False, r"\btruer (?:personalet|ansatte|meg|oss|naboen|naboene|kona|samboeren|moren|moren sin|"
     r"faren|familien|noen|andre|legen|barna)\b"),
    ("violence", False, r"\b(?:vifter|truer|fekter|gar los pa \w+|star) (?:\w+ ){0,2}med (?:en )?"
     r"(?:kniv|oks|balltre|vapen|pistol|machete|gevaer)\b"),
    ("violence", False, r"\bhar (?:en |et )?(?:kniv|vapen|pistol|oks|gevaer|machete) og\b"),
    ("violence", False, r"\b(?:han|hun|hen|de) (?:\w+ ){0,3}ta livet av meg\b"),
    ("violence", False, r"\b(?:er|blir|ble) (?:svaert |veldig |helt |na )?(?:truende|voldelig)\b"),
    ("violence", False, r"\b(?:slar|angriper|banker) (?:personalet|ansatte|noen|meg|oss|kona|samboeren|barna|"
     r"naboen|andre)\b"),
    ("violence", False, r"\bgar til angrep\b"),
    # violence, en
    ("violence", False, rf"\b{_INTENT_EN} {_GAP}{_VIOLENT_EN}"),
    ("violence", False, r"\bthreat(?:en|ens|ening|ened) (?:staff|me|us|the|his|her|people|someone|neighbou?rs?|"
     r"violence|to use)\b"),
    ("violence", False, r"\b(?:waving|brandishing|wielding|pulled|pulling|pointing) (?:a|an|the|his|her) "
     r"(?:knife|gun|weapon|axe|machete|bat)\b"),
    ("violence", False, r"\b(?:has|have|got) (?:a|an) (?:knife|gun|weapon|axe|machete) and\b"),
    ("violence", False, r"\b(?:is|'s) (?:being |getting |becoming |now )?(?:violent|threatening)\b"),
    ("violence", False, r"\b(?:is|'s) (?:hitting|attacking|beating|assaulting|punching)\b"),
)  # fmt: skip

# Topic words: a risk named without saying it is happening. Current only with a time word.
_TOPIC_RULES: tuple[tuple[str, str], ...] = (
    ("suicide", r"\b(?:selvmord\w*|suicid\w*|livslede|dodsonsker?|" + _TAKE_LIFE_NB + r"|tok livet (?:sitt|av seg)|"
     r"kill\w* " + _SELF_EN + r"|take (?:his|her|their|my) (?:own )?life)\b"),
    ("self_harm", r"\b(?:selvskad\w*|self[- ]?harm\w*|self[- ]?injur\w*|kutt\w* seg|skad\w* seg selv|cutting)"),
    ("overdose", r"\b(?:overdos\w*|od|od'?d|nalokson\w*|naloxon\w*|forgiftning)\b"),
    ("violence", r"\b(?:vold\w*|violen\w*|drap\w*|homicid\w*|trussel\w*|trusler\w*|threat\w*|aggress\w*|"
     r"aggresjon\w*|drepe|murder\w*)"),
)  # fmt: skip
_SUBSTANCE_RE = re.compile(
    r"\b(?:heroin|opioid\w*|opiat\w*|fentanyl|metadon|methadone|subutex|buprenorfin\w*|morfin\w*|morphine|"
    r"oxy\w*|piller|pills|tabletter|tablets|overdos\w*|od'?d|od|dop|drugs?|rus\w*|alkohol|alcohol|drunk|full|"
    r"benzo\w*|sovemedisin\w*|medisin\w*|medication|ghb|sprøyte|sproyte|needle|injected|satte et skudd)\b"
)
_NOW_RE = re.compile(
    r"\b(?:na|akkurat na|na nettopp|nettopp|i dag|i kveld|i natt|i morges|i formiddag|i ettermiddag|"
    r"i morgen|i helgen|nylig|snart|fortsatt|igjen|for (?:en|et par|noen|\d+|fa) (?:minutt\w*|time\w*) siden|"
    r"now|right now|just now|just|today|tonight|this (?:morning|afternoon|evening)|last night|earlier today|"
    r"(?:a few |some |\d+ )?(?:minutes|an hour|hours) ago|currently|at the moment|still|again|recently|"
    r"soon|tomorrow|this weekend|about to)\b"
)
_STRICT_NOW_RE = re.compile(
    r"\b(?:na|akkurat na|na nettopp|nettopp|i dag|i kveld|i natt|i morges|"
    r"for (?:en|et par|noen|\d+|fa) (?:minutt\w*|time\w*) siden|now|right now|just now|today|tonight|"
    r"this (?:morning|afternoon|evening)|last night|earlier today|(?:a few |some |\d+ )?(?:minutes|an hour|hours) "
    r"ago|at the moment|currently)\b"
)
_HISTORY_RE = re.compile(
    r"\b(?:tidligere|for (?:\w+ ){1,2}(?:ar|maneder|mnd|uker) siden|for lenge siden|(?:i|fra|in|back in) "
    r"(?:19|20)\d\d|i fjor|som (?:ung|tenaring|barn|ungdom|student)|i (?:ungdommen|ungdomstiden|barndommen)|"
    r"historikk|anamnes\w*|kjent med|har en historie|i sin tid|flere ganger|mange ganger|da (?:han|hun|hen) var|"
    r"history of|in the past|previously|previous|prior|years ago|months ago|weeks ago|last year|"
    r"as a (?:teenager|child|teen|kid|student)|when (?:he|she|they) (?:was|were)|long ago|formerly|former|"
    r"several times|many times|multiple times|used to)\b"
)
_TEACHING_RE = re.compile(
    r"\b(?:hvordan (?:\w+ ){0,2}(?:spor\w*|kartlegg\w*|vurder\w*|snakk\w*|ta opp|tar opp|forebygg\w*|"
    r"handter\w*|mote|moter|reager\w*|svar\w*|dokumenter\w*|undervis\w*|forklar\w*|kjenne igjen|gjenkjenne|"
    r"oppdage|avdekke|screen\w*|identifiser\w*|skille|vet|ser|merker|finne ut)|"
    r"hva (?:sier|vet vi|viser|betyr|anbefal\w*)|hva (?:er|gjor|bor|kan|skal) man|hvilke (?:tegn|risikofaktorer|"
    r"verktoy|sporsmal|kartleggingsverktoy)|forskning\w*|studie\w*|evidens\w*|kunnskapsgrunnlag\w*|kurs|kurset|"
    r"opplaering\w*|undervisning\w*|foredrag\w*|webinar\w*|forelesning\w*|pensum|eksamen|retningslinje\w*|"
    r"veileder|veilederen|statistikk\w*|risikofaktor\w*|forebygg\w*|kartleggingsverktoy\w*|generelt|typisk|"
    r"vanligvis|snakket om|diskuterte|(?:hvis|dersom|nar) (?:en|ei|et|noen|man|pasienter|brukere) |"
    r"(?:pasienter|brukere|personer|folk|klienter|de|mange|noen|en) som |"
    r"how (?:do|can|should|would|could|to|does|did|is|are) (?:\w+ ){0,2}(?:ask|assess|screen|talk|approach|"
    r"raise|bring up|document|teach|explain|respond|handle|deal|recogni[sz]e|identify|prevent|manage|evaluate|"
    r"discuss|address|know|tell|spot|support|measure|estimate|reduce)|how to|"
    r"what (?:does|do) (?:the )?(?:research|evidence|literature|studies|guidelines?)|research|studies|study|"
    r"the evidence|evidence base|training|course|curriculum|lecture|webinar|teach\w*|lesson|guidelines?|"
    r"statistic\w*|risk factors?|prevention|preventing|screening tools?|in general|typically|usually|"
    r"(?:if|when|whether) (?:a|an|someone|somebody|one|patients|clients|people|anyone) |"
    r"(?:patients|people|clients|those|someone|anyone|somebody) who )"
)  # fmt: skip
_QUESTION_START_RE = re.compile(
    r"^\W*(?:hvordan|hva|hvorfor|nar|hvilke|hvilken|hvem|kan|bor|skal|er det|finnes|how|what|why|when|which|"
    r"who|is there|are there|should|can|could|does|do)\b"
)
_NEGATION_RE = re.compile(r"\b(?:ikke|ingen|aldri|uten|intet|not|no|never|without|\w+n't)\b")
# Denials negate everything after them in the clause ("benekter at hun har tanker om å skade seg selv").
_DENIAL_RE = re.compile(
    r"\b(?:benekter|benektet|avkrefter|avkreftet|nekter for|negerer|denies|denied|denying|negative for|"
    r"rules? out|ruled out)\b"
)
_SENTENCE_RE = re.compile(r"[^.!?\n;]+[.!?\n;]*")
_CLAUSE_SPLIT_RE = re.compile(r",|:| - | (?:og|and|men|but|eller|or) ")
_NEG_STOP_RE = re.compile(r"\b(?:sier|sa|sagt|says|said|saying|forteller|fortalte|tells|told|telling)\b")
_NEGATION_WINDOW = 4  # words before a hit that may negate it


def _compile_rules() -> tuple[tuple[str, bool, re.Pattern[str]], ...]:
    """Compile the acute rules once."""
    return tuple((kind, needs_substance, re.compile(p)) for kind, needs_substance, p in _ACUTE_RULES)


_ACUTE = _compile_rules()
_TOPICS = tuple((kind, re.compile(p)) for kind, p in _TOPIC_RULES)
_ANY_RULE = re.compile("|".join(f"(?:{p})" for p in (*(r[2] for r in _ACUTE_RULES), *(r[1] for r in _TOPIC_RULES))))
"""Every acute and topic rule in one pattern: most messages ("ja", "motiverende intervju") match none,
and one search rules that out for a tenth of the cost of running the rules one by one."""


@dataclass
class _Clause:
    """A clause of normalised text: its offsets and the sentence it belongs to."""

    start: int
    end: int
    sentence: int


def _split(norm: str) -> tuple[list[tuple[int, int, str]], list[_Clause]]:
    """Sentences as (start, end, text) and clauses with their sentence index, both as offsets in ``norm``."""
    sentences: list[tuple[int, int, str]] = []
    clauses: list[_Clause] = []
    for m in _SENTENCE_RE.finditer(norm):
        index = len(sentences)
        sentences.append((m.start(), m.end(), m[0]))
        cursor = m.start()
        for cut in _CLAUSE_SPLIT_RE.finditer(m[0]):
            clauses.append(_Clause(cursor, m.start() + cut.start(), index))
            cursor = m.start() + cut.end()
        clauses.append(_Clause(cursor, m.end(), index))
    return sentences, clauses


def _is_question(sentence: str) -> bool:
    """A sentence that asks something (ends with '?' or opens with a question word)."""
    return sentence.rstrip().endswith("?") or bool(_QUESTION_START_RE.match(sentence))


class _Scan:
    """One pass over normalised text.

    Flags are computed once per clause and sentence and looked up per hit, so text full of hits stays
    linear (a 10 000-character message of "overdose overdose …" must not cost a re-scan per word).
    """

    def __init__(self, norm: str) -> None:
        self.norm = norm
        self.sentences, self.clauses = _split(norm)
        self.starts = [c.start for c in self.clauses]
        self.stops = [m.end() for m in _NEG_STOP_RE.finditer(norm)]
        self.denials = [m.end() for m in _DENIAL_RE.finditer(norm)]
        self.crisis_kinds: set[str] = set()
        self.crisis_sentences: set[int] = set()
        self.mention_sentences: set[int] = set()
        self._clause_flags: dict[int, tuple[bool, bool, bool]] = {}
        self._teaching: dict[int, bool] = {}

    def clause_of(self, pos: int) -> _Clause:
        """The clause holding offset ``pos`` (rules start at a word, so some clause always holds it)."""
        if not self.clauses:  # pragma: no cover - a match implies at least one sentence
            return _Clause(0, len(self.norm), 0)
        return self.clauses[max(0, bisect.bisect_right(self.starts, pos) - 1)]

    def negated(self, clause: _Clause, pos: int) -> bool:
        """A negation among the few words before ``pos``, or a denial earlier in the clause.

        Reporting verbs ("sier", "says") end a negation's reach: "he won't stop saying he wants to die".
        """
        stop = bisect.bisect_right(self.stops, pos)
        base = max(clause.start, self.stops[stop - 1] if stop else 0)
        denial = bisect.bisect_right(self.denials, pos)
        if denial and self.denials[denial - 1] > base:
            return True
        words = self.norm[max(base, pos - 120) : pos].split()[-_NEGATION_WINDOW:]
        return bool(_NEGATION_RE.search(" ".join(words)))

    def clause_flags(self, clause: _Clause) -> tuple[bool, bool, bool]:
        """(a time word, a strict time word, a past marker) in the clause."""
        flags = self._clause_flags.get(clause.start)
        if flags is None:
            text = self.norm[clause.start : clause.end]
            flags = (
                _NOW_RE.search(text) is not None,
                _STRICT_NOW_RE.search(text) is not None,
                _HISTORY_RE.search(text) is not None,
            )
            self._clause_flags[clause.start] = flags
        return flags

    def teaching(self, index: int) -> bool:
        """The sentence is framed as method, research, teaching or a general case."""
        if index not in self._teaching:
            self._teaching[index] = _TEACHING_RE.search(self.sentences[index][2]) is not None
        return self._teaching[index]

    def current(self, m: re.Match[str], topic: bool) -> bool:
        """Whether a hit is a current risk: not negated, not past, not a teaching or general framing.

        An acute phrase counts unless its clause is negated, or is past or framed as teaching without a
        time word that makes it current again. A topic word needs such a time word and no teaching frame.
        """
        clause = self.clause_of(m.start())
        if self.negated(clause, m.start()):
            return False
        now, strict_now, past = self.clause_flags(clause)
        teaching = self.teaching(clause.sentence)
        if topic:
            return strict_now and not teaching
        return now or not (teaching or past)

    def run(self) -> None:
        """Apply every rule; record crisis kinds and the sentences that mention a risk."""
        substance: dict[int, bool] = {}
        for kind, needs_substance, pattern in _ACUTE:
            for m in pattern.finditer(self.norm):
                clause = self.clause_of(m.start())
                self.mention_sentences.add(clause.sentence)
                if needs_substance:
                    if clause.sentence not in substance:
                        found = _SUBSTANCE_RE.search(self.sentences[clause.sentence][2])
                        substance[clause.sentence] = found is not None
                    if not substance[clause.sentence]:
                        continue
                if self.current(m, topic=False):
                    self.crisis_kinds.add(kind)
                    self.crisis_sentences.add(clause.sentence)
        for kind, pattern in _TOPICS:
            for m in pattern.finditer(self.norm):
                clause = self.clause_of(m.start())
                self.mention_sentences.add(clause.sentence)
                if self.current(m, topic=True):
                    self.crisis_kinds.add(kind)
                    self.crisis_sentences.add(clause.sentence)

    def educational(self) -> bool:
        """A risk mentioned in a question or in teaching, in a sentence that raised no alarm."""
        for index in sorted(self.mention_sentences - self.crisis_sentences):
            sentence = self.sentences[index][2]
            if _is_question(sentence) or self.teaching(index):
                return True
        return False


def screen(text: str, lang: str | None = None) -> Screening:
    """Screen one message for acute risk and personal identifiers.

    ``lang`` ("nb"/"en") is accepted for symmetry with the rest of the bot but both languages are
    always checked: staff mix them, and a missed crisis costs more than a few extra regex passes.
    """
    del lang
    norm = _normalise(text)
    scan = _Scan(norm) if _ANY_RULE.search(norm) else None
    if scan is not None:
        scan.run()
    kinds = [k for k in CRISIS_KINDS if k in scan.crisis_kinds] if scan is not None else []
    found = {kind for _, _, kind in _identifier_spans(text)}
    pii = [k for k in PII_KINDS if k in found]
    return Screening(
        crisis=bool(kinds),
        crisis_kinds=kinds,
        educational=scan.educational() if scan is not None else False,
        pii=pii,
        name_hint="name" in found,
    )
