"""The safety screen: every typed message passes here before anything else reads it.

Two jobs, both explainable and offline:

* **Crisis** (:mod:`bot.safety.crisis`): signals of acute risk — a stated intent or plan, a death
  wish, farewells, lethal means at hand, an act under way or just done, physical danger signs after
  use, threats against a person, command hallucinations, self-harm with bleeding, and cues such as
  "tonight" or "alone" — in Norwegian (bokmål and dialect), Danish and English, read through the one
  text layer (:mod:`bot.language`: folded spelling, word forms, negation scope, time). The verdict is
  ``acute`` (answer with the crisis guidance first), ``possible`` (one calm line, then the normal
  answer) or ``none``, with the signals that led to it.
* **Personal data** (:mod:`bot.safety.personal_data`): fnr, D-numbers, CPR numbers, phone numbers,
  e-mail addresses and likely names.

All three languages' rules are always applied, whatever language the user chose: staff mix them, and
a missed crisis costs more than a few extra look-ups.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.language.text import analyse
from bot.safety.crisis import CrisisReading, SeenSignal, read_crisis, token_marks
from bot.safety.lexicon import TOPICS, ScreenRules, Signal, bundled_rules
from bot.safety.model import CrisisModel, bundled_model
from bot.safety.personal_data import PII_KINDS, find_identifiers, redact, valid_cpr, valid_fnr

__all__ = ["Screening", "screen", "redact", "valid_fnr", "valid_cpr", "PII_KINDS", "TOPICS", "LEVELS"]

LEVELS = ("none", "possible", "acute")
MODEL_POSSIBLE = 0.5
"""The model's probability at which a message the rules let pass gets the calm ``possible`` line.
The three thresholds were chosen leave-one-author-out on the tuning split
(``python -m benchmarks.crisis_eval --loao``), never on the reporting split."""
MODEL_ACUTE = 0.8
"""The probability at which the model raises a ``possible`` from the rules to ``acute``."""
MODEL_ACUTE_ALONE = 0.95
"""The probability at which the model alone makes a message ``acute``. Leave-one-author-out on the
tuning split, these three thresholds gave 1.6 % false alarms and 0.3 % acute ones (round 4)."""
MODEL_NEVER = 1.01
"""A threshold the probability cannot reach."""
MODEL_SIGNAL = Signal("learned_model", "model", "suicide", "possible")
MODEL_MAX_WORDS = 300
"""The model learned from messages of up to about 150 words; on a long pasted note its word counts
add up to nothing it has seen, so it reads only messages up to this length (the rules read all)."""


@dataclass(frozen=True)
class Screening:
    """The verdict on one message."""

    level: str = "none"
    """``acute``, ``possible`` or ``none``."""
    kinds: tuple[str, ...] = ()
    """Signal kinds that count (intent_plan, death_wish, farewell, means, act, overdose_signs, …;
    ``model`` when only the learned model raised the message)."""
    topics: tuple[str, ...] = ()
    """What the risk is about: suicide, self_harm, overdose, violence."""
    signals: tuple[SeenSignal, ...] = ()
    """Every signal seen, those set aside (negated, past, framed) last, for trainers and ``--json``."""
    pii: list[str] = field(default_factory=list)

    @property
    def crisis(self) -> bool:
        """True for ``acute`` and ``possible``: the message holds a risk sign."""
        return self.level != "none"

    @property
    def acute(self) -> bool:
        return self.level == "acute"

    @property
    def name_hint(self) -> bool:
        """A likely name (a softer warning than a number)."""
        return "name" in self.pii

    def to_json(self) -> dict:
        return {
            "crisis": self.crisis,
            "level": self.level,
            "kinds": list(self.kinds),
            "signals": [s.to_json() for s in self.signals],
            "pii": list(self.pii),
        }


def _summary(reading: CrisisReading) -> tuple[tuple[str, ...], tuple[str, ...]]:
    current = reading.current if reading.level != "none" else ()
    kinds = tuple(dict.fromkeys(s.signal.kind for s in current))
    topics = tuple(t for t in TOPICS if any(s.signal.topic == t and s.signal.level != "cue" for s in current))
    return kinds, topics


def combine(rule_level: str, probability: float, possible_at: float = MODEL_POSSIBLE,
            acute_at: float = MODEL_ACUTE, acute_alone_at: float = MODEL_ACUTE_ALONE) -> str:
    """The rules' level, raised (never lowered) by the learned model's probability."""
    if rule_level == "acute" or probability >= acute_alone_at:
        return "acute"
    if rule_level == "possible":
        return "acute" if probability >= acute_at else "possible"
    return "possible" if probability >= possible_at else "none"


def screen(text: str, lang: str | None = None, rules: ScreenRules | None = None,
           model: CrisisModel | None = None) -> Screening:
    """Screen one message for acute risk and personal identifiers.

    ``lang`` ("nb", "da", "en") is accepted for the command line and front ends, but every language's
    rules apply to every message. ``rules`` defaults to the bundled lexicon; the service passes the
    rules it loaded with its knowledge, so a trainer's reload takes effect.
    """
    del lang
    rules = rules or bundled_rules()
    model = model or bundled_model()
    analysis = analyse(text, rules.variants, rules.clause_words, rules.abbreviations)
    reading = read_crisis(rules, analysis)
    kinds, topics = _summary(reading)
    level, signals = reading.level, reading.signals
    if (model is not None and level != "acute" and 0 < len(analysis.words) <= MODEL_MAX_WORDS
            and not reading.explained):
        marks = token_marks(rules, analysis)
        probability, words = model.probability(analysis, marks)
        # in a lesson, a role-play or a film, the model alone is a second opinion, not an alarm
        alone_at = MODEL_NEVER if level == "none" and "f" in marks else MODEL_ACUTE_ALONE
        raised = combine(level, probability, acute_alone_at=alone_at)
        if raised != level:
            level = raised
            signals = (SeenSignal(MODEL_SIGNAL, ", ".join(words)), *signals)
            kinds = kinds or ("model",)
            topics = topics or ("suicide",)
    return Screening(level, kinds, topics, signals, find_identifiers(text))
