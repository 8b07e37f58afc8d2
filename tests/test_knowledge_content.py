"""The bundled knowledge meets the coverage the product promises (issue: the complete knowledge base)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.cli import main
from bot.knowledge.models import STAGE_IDS

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
REQUIRED_ELEMENTS = {"mi", "harm_reduction", "stagewise", "long_term", "relationship", "trauma", "imr", "ips",
                     "housing", "psychoeducation", "family", "medication", "physical_health", "groups",
                     "social_skills", "substance_treatment", "criminal_justice", "older_adults"}


@pytest.mark.parametrize("stage", STAGE_IDS)
def test_every_stage_has_enough_interventions_and_traps(kb, stage):
    assert len(kb.interventions_for(stage)) >= 8
    assert len(kb.traps_for(stage)) >= 5
    categories = {i.category for i in kb.interventions_for(stage)}
    assert categories >= {"organisation", "psychotherapeutic"}


def test_counts_meet_the_minimums(kb):
    counts = kb.counts()
    assert counts["stages"] == 4 and counts["sats_levels"] == 8 and counts["core_questions"] == 7
    assert counts["chapters"] == 21 and counts["webinars"] == 12
    assert counts["services"] >= 12 and counts["glossary"] >= 50 and counts["research"] >= 122
    assert sum(1 for r in kb.all("research") if r.kind == "thesis") == 3
    assert set(kb.ids("elements")) >= REQUIRED_ELEMENTS
    assert {i.category for i in kb.all("interventions")} == {"organisation", "psychotherapeutic", "social"}


def test_practice_cases_cover_every_level(kb):
    assert len(kb.all("cases")) >= 24
    assert all(len(kb.cases_at(level)) >= 3 for level in range(1, 9))


def test_elements_link_partners_resources_research_and_chapters(kb):
    for element in kb.all("elements"):
        assert element.partners and element.stages, element.id
    core = [e for e in kb.all("elements") if e.id in REQUIRED_ELEMENTS]
    assert all(e.chapters for e in core)
    assert all(e.resources or e.research_topics for e in core)


def test_crisis_numbers_per_locale(kb):
    numbers = {c.id: {n.number for n in c.numbers} for c in kb.all("crisis")}
    assert {"113", "116 117", "116 123"} <= numbers["no"]
    assert "70 201 201" in numbers["dk"] and "112" in numbers["dk"]


def test_every_entry_can_be_found_by_more_than_its_title(kb):
    for collection in ("stages", "interventions", "traps", "elements", "services", "resources", "glossary"):
        assert all(e.synonyms or e.tags for e in kb.all(collection)), collection


@pytest.mark.skipif(not SHARED.is_dir(), reason="shared/ (seeds and reference) not beside the checkout")
def test_no_invented_urls(kb):
    """Every link to a resource, service, tool or article comes from the seeds or the reference."""
    sources = [*SHARED.joinpath("seeds").glob("*.txt"), *SHARED.joinpath("reference").glob("*.md")]
    corpus = "".join(p.read_text(encoding="utf-8") for p in sources)
    for collection in ("resources", "services", "screening_tools", "articles"):
        for entry in kb.all(collection):
            if entry.url:
                assert entry.url.rstrip("/") in corpus, (collection, entry.id, entry.url)


def test_kb_stats_prints_the_counts(capsys):
    assert main(["kb", "stats"]) == 0
    out = capsys.readouterr().out
    for key in ("interventions[persuasion]", "traps[relapse_prevention]", "cases[sats_8]", "research[thesis]"):
        assert key in out
