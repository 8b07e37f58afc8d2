"""Every reference in the research list of seed 001 (the IDDT page) is in the knowledge base.

The seed is read from ``../shared/seeds`` beside the repository; the test is skipped when that folder is
absent (for example in an installed copy or a CI checkout without the shared material).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
SEEDS = REPO_ROOT.parent / "shared" / "seeds"

START = "Nedenfor finner du relevant forskning"
LAST_SECTION = "Tilbakefallsforebygging"
END = "Implementering"

TRAILING_YEAR = re.compile(r"\s*\(\d{4}\)\s*$")
THESIS = re.compile(r"^(?P<author>.+?) \((?P<year>\d{4})\): (?P<title>.+)$")
SEE_ALSO = re.compile(r"\s*\(Se artikler[^)]*\)\s*$")

pytestmark = pytest.mark.skipif(not SEEDS.is_dir(), reason=f"seed folder {SEEDS} not present")


def normalise(title: str) -> str:
    """Lower case, whitespace collapsed, a trailing "(year)" removed."""
    title = " ".join(title.split())
    title = TRAILING_YEAR.sub("", title)
    return title.strip().lower()


def seed_file() -> Path:
    matches = sorted(SEEDS.glob("001_*.txt"))
    assert matches, f"seed 001 not found in {SEEDS}"
    return matches[0]


def seed_titles() -> list[str]:
    """The titles of the research list: bullet lines between START and the END after the last section."""
    lines = seed_file().read_text(encoding="utf-8").splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(START))
    last = next(i for i in range(start + 1, len(lines)) if lines[i].strip() == LAST_SECTION)
    end = next(i for i in range(last + 1, len(lines)) if lines[i].strip() == END)
    titles = []
    for line in lines[start + 1 : end]:
        if not line.startswith("- "):
            continue  # a section heading
        text = line[2:].strip()
        thesis = THESIS.match(text)
        if thesis:  # "Author, Name (year): Title (Se artikler ...)"
            text = SEE_ALSO.sub("", thesis.group("title"))
        titles.append(text)
    return titles


@pytest.fixture(scope="module")
def research():
    from bot.knowledge import load_or_raise
    from bot.paths import knowledge_dir

    kb = load_or_raise(knowledge_dir())
    return kb.all("research")


def test_seed_list_is_parsed() -> None:
    titles = seed_titles()
    assert len(titles) >= 122, f"only {len(titles)} references parsed from the seed"


def test_every_seed_title_is_in_the_knowledge(research) -> None:
    known = {normalise(item.title) for item in research}
    missing = [title for title in seed_titles() if normalise(title) not in known]
    assert not missing, f"{len(missing)} reference(s) missing from research:\n" + "\n".join(missing)


def test_research_count_and_theses(research) -> None:
    assert len(research) >= 122
    theses = [item for item in research if item.kind == "thesis"]
    assert len(theses) == 3, [item.id for item in theses]
    assert all(item.authors for item in theses)
