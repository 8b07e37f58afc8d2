"""Practice on cases (J4): the cases themselves, whole practice transcripts, progress and reflection."""

from __future__ import annotations

import re

import pytest

from bot.engine import practice
from bot.engine.effects import SavePractice
from bot.engine.progress import compute, progress_replies
from bot.engine.replies import Incoming
from bot.language.text import fold_phrase
from tests.conftest import ChatDriver

# --------------------------------------------------------------------------- the cases


def test_enough_cases_at_every_level(kb):
    cases = kb.all("cases")
    assert len(cases) >= 24
    for level in range(1, 9):
        assert len(kb.cases_at(level)) >= 3, f"SATS {level} needs at least 3 cases"
    assert sorted(c.number for c in cases) == list(range(1, len(cases) + 1))


def test_cases_are_sound(kb):
    """Every case: both languages, deciding facts, fitting interventions of its stage, real traps."""
    stage_names = {fold_phrase(e.title.get(lang)) for e in (*kb.all("stages"), *kb.all("sats_levels")) for lang in ("nb", "en")}
    for case in kb.all("cases"):
        stage = kb.levels[case.sats_level].stage
        assert case.deciding_facts and case.questions, case.id
        assert len(case.interventions) >= 3, case.id
        for item in case.interventions:
            assert stage in kb.get("interventions", item).stages, (case.id, item)
        for item in case.traps:
            assert kb.get("traps", item) is not None, (case.id, item)
        for lang in ("nb", "en"):
            text = fold_phrase(case.vignette.get(lang))
            assert len(text) > 300, (case.id, lang)
            named = [w for w in stage_names if re.search(rf"(?<!\w){re.escape(w)}(?!\w)", text)]
            assert not named, (case.id, lang, named)
            assert "sats" not in text.split()


def test_options_mix_fitting_and_distractors_and_are_stable(kb):
    for case in kb.all("cases"):
        interventions, traps = practice.option_ids(kb, case)
        assert set(case.interventions) <= set(interventions)
        distractors = [i for i in interventions if i not in case.interventions]
        assert len(distractors) >= practice.MIN_DISTRACTORS
        stage = kb.levels[case.sats_level].stage
        assert all(stage not in kb.get("interventions", i).stages for i in distractors)
        assert set(case.traps) <= set(traps) and len(traps) - len(case.traps) >= practice.MIN_DISTRACTORS
        assert practice.option_ids(kb, case) == (interventions, traps)


def test_tree_paths_lead_to_their_level(kb):
    from bot.assessment.sats import walk

    for level in range(1, 9):
        path = practice.tree_path(kb, level)
        assert walk(kb.sats_tree, dict(path)).level == level


def test_partial_credit():
    assert practice.choice_score({"a", "b", "c", "d"}, ["a", "b", "x"]) == 0.25
    assert practice.choice_score({"a", "b"}, ["a", "b"]) == 1.0
    assert practice.choice_score({"a"}, ["x", "y"]) == 0.0
    assert practice.choice_score(set(), []) == 1.0
    assert practice.choice_score(set(), ["x"]) == 0.5


# ----------------------------------------------------------------------- transcripts


def begin(chat: ChatDriver, lang: str = "en") -> None:
    chat.send("/start")
    chat.press(lang)


def case_by_number(kb, number: int):
    return next(c for c in kb.all("cases") if c.number == number)


def pick_interventions(chat: ChatDriver, kb, titles: list[str]) -> None:
    for title in titles:
        chat.press(title)
    chat.press("Done")


def titles(kb, collection: str, ids: list[str], lang: str = "en") -> list[str]:
    return [kb.get(collection, i).title.get(lang) for i in ids]


def test_right_answer_transcript(make_service, kb):
    chat = ChatDriver(make_service(), user_id=101)
    begin(chat)
    case = case_by_number(kb, 7)
    chat.send("/practice 7")
    assert f"Case 7: {case.title.en}" in chat.text
    assert case.vignette.en[:60] in chat.text
    assert "Which SATS level" in chat.text and len(chat.options()) == 8
    chat.press("5 – early active treatment")
    assert "Right: SATS 5 – early active treatment (active treatment)" in chat.text
    for fact in case.deciding_facts:
        assert fact.en in chat.text
    pick_interventions(chat, kb, titles(kb, "interventions", case.interventions))
    assert "Interventions: 100 %" in chat.text
    assert chat.text.count("✓") == len(case.interventions)
    for title in titles(kb, "traps", case.traps):
        chat.press(title)
    chat.press("Done")
    assert "Traps: 100 %" in chat.text
    assert "Result: 100 of 100" in chat.text
    assert case.questions[0].en in chat.text
    rows = chat.service.storage.practice_results(101)
    assert len(rows) == 1
    row = rows[0]
    assert (row["case_id"], row["gold_level"], row["chosen_level"]) == (case.id, 5, 5)
    assert row["intervention_score"] == 1.0 and row["trap_score"] == 1.0
    assert not chat.service.storage.conversation(101).active


def test_wrong_answer_explains_why_the_level_does_not_fit(make_service, kb):
    chat = ChatDriver(make_service(), user_id=102)
    begin(chat)
    chat.send("/practice 4")
    chat.press("5 – early active treatment")
    text = chat.text
    assert "Not quite: the case is SATS 4 – late persuasion (persuasion)" in text
    assert "You chose SATS 5 – early active treatment." in text
    assert "SATS 5 – early active treatment needs: An own goal of abstinence or control" in text
    assert "The deciding question: «Is the person working toward abstinence" in text
    assert "For SATS 5 the answer would have to be yes; in this case it is no." in text
    assert "further along than they are" in text


def test_same_stage_and_worst_substance_notes(make_service, kb):
    chat = ChatDriver(make_service(), user_id=103)
    begin(chat)
    chat.send("/practice 14")  # heroin (SATS 5) and benzodiazepines (abstinent): rated on heroin
    chat.press("6 – late active treatment")
    assert "right stage, but not the right level" in chat.text
    assert "least far along" in chat.text


def test_partial_credit_for_interventions_with_explanations(make_service, kb):
    chat = ChatDriver(make_service(), user_id=104)
    begin(chat)
    case = case_by_number(kb, 4)
    chat.send("/practice 4")
    chat.press("4 – late persuasion")
    offered, _ = practice.option_ids(kb, case)
    wrong = [i for i in offered if i not in case.interventions][0]
    chosen = case.interventions[:2] + [wrong]
    pick_interventions(chat, kb, titles(kb, "interventions", chosen))
    expected = round((2 - 1) / len(case.interventions) * 100)
    assert f"Interventions: {expected} % (2 of {len(case.interventions)} fitting, 1 not fitting)" in chat.text
    wrong_title = kb.get("interventions", wrong).title.en
    assert f"✗ {wrong_title} – does not fit now – it belongs to" in chat.text
    assert "too early" in chat.text or "past this" in chat.text
    missed = kb.get("interventions", case.interventions[2]).title.en
    assert f"○ {missed} – also fits:" in chat.text
    chat.send("none")
    assert "Traps: 0 %" in chat.text
    assert "○" in chat.text and "was present." in chat.text
    row = chat.service.storage.practice_results(104)[0]
    assert row["chosen_level"] == 4 and row["intervention_score"] == pytest.approx(1 / len(case.interventions))
    assert row["trap_score"] == 0.0


def test_typed_answers_work_too(make_service, kb):
    chat = ChatDriver(make_service(), user_id=105)
    begin(chat, "nb")
    chat.send("/ov 11")
    assert "Kasus 11:" in chat.text
    chat.send("tidlig overtalelse")
    assert "Riktig: SATS 3" in chat.text
    chat.send("1, 3")
    assert "Tiltak:" in chat.text
    chat.send("ingen")
    assert "Feller:" in chat.text and "Resultat:" in chat.text


def test_a_case_without_traps_rewards_none_of_these(make_service, kb):
    chat = ChatDriver(make_service(), user_id=106)
    begin(chat)
    chat.send("/practice 5")
    chat.press("8 – remission/recovery")
    chat.press("Done")
    chat.press("None of these")
    assert "Traps: 100 %" in chat.text and "without any of these traps" in chat.text


def test_deep_link_and_unknown_case(make_service, kb):
    chat = ChatDriver(make_service(), user_id=107)
    begin(chat)
    case = case_by_number(kb, 12)
    chat.send(f"/start case_{case.id}")
    assert f"Case 12: {case.title.en}" in chat.text and "Which SATS level" in chat.text
    chat.send("/start case_12")
    assert "Case 12:" in chat.text
    chat.send("/start case_no_such_case")
    assert "can't find case «no_such_case»" in chat.text
    assert "How do you want to choose a case?" in chat.text


def test_deep_link_for_a_new_user_survives_the_privacy_note(make_service, kb):
    chat = ChatDriver(make_service(), user_id=113)
    chat.send("/start case_wine_for_sleep")
    assert "choose your language" in chat.text
    chat.press("en")
    assert "Case 11: Wine to sleep" in chat.text and "Which SATS level" in chat.text


def test_choose_by_stage_and_by_number(make_service, kb):
    chat = ChatDriver(make_service(), user_id=108)
    begin(chat)
    chat.send("/practice")
    chat.press("By stage")
    chat.press("persuasion")
    number = int(re.search(r"Case (\d+):", chat.text).group(1))
    assert kb.levels[case_by_number(kb, number).sats_level].stage == "persuasion"
    chat.send("/practice")
    chat.press("By number")
    assert len(chat.options()) == len(kb.all("cases"))
    chat.send("19")
    assert "Case 19:" in chat.text
    chat.send("/practice relapse prevention")
    number = int(re.search(r"Case (\d+):", chat.text).group(1))
    assert case_by_number(kb, number).sats_level in (7, 8)


def test_case_command_and_first_answer_counts(make_service, kb):
    chat = ChatDriver(make_service(), user_id=109)
    begin(chat)
    chat.send("/case")
    assert "not practising a case" in chat.text
    chat.send("/practice 2")
    chat.send("/case")
    assert case_by_number(kb, 2).vignette.en[:50] in chat.text and "Which SATS level" in chat.text
    chat.press("3 – early persuasion")
    chat.send("/back")
    chat.press("1 – pre-engagement")
    assert "Right:" in chat.text and "your first answer is the one that counts" in chat.text
    chat.press("Done")
    chat.press("Done")
    assert chat.service.storage.practice_results(109)[0]["chosen_level"] == 3


def test_stop_and_resume_in_a_fresh_service(make_service, kb):
    first = ChatDriver(make_service(), user_id=110)
    begin(first)
    first.send("/practice 21")
    first.press("6 – late active treatment")
    assert "Which interventions fit" in first.text
    first.service.close()

    second = ChatDriver(make_service(), user_id=110)
    second.send("/start")
    assert "Welcome back" in second.text and "Which interventions fit" in second.text
    case = case_by_number(kb, 21)
    pick_interventions(second, kb, titles(kb, "interventions", case.interventions))
    assert "Interventions: 100 %" in second.text
    second.press("Done")
    assert "Result:" in second.text
    rows = second.service.storage.practice_results(110)
    assert len(rows) == 1 and rows[0]["chosen_level"] == 6


def test_engine_returns_the_record_instead_of_storing_it(make_service, kb):
    service = make_service()
    chat = ChatDriver(service, user_id=111)
    begin(chat)
    chat.send("/practice 1")
    chat.press("3 – early persuasion")
    chat.press("Done")
    profile, conv = service.storage.profile(111), service.storage.conversation(111)
    token = str(conv.seq)
    outcome = service.engine.handle(profile, conv, Incoming.pressed("done", token))
    assert SavePractice(case_by_number(kb, 1).id, 3, 3, 0.0, 0.0) in outcome.effects
    assert {"kind": "practice_done", "name": case_by_number(kb, 1).id} in outcome.events
    assert service.storage.practice_results(111) == []  # the engine stored nothing


def test_stale_button_in_practice_is_answered(make_service):
    chat = ChatDriver(make_service(), user_id=112)
    begin(chat)
    chat.send("/practice 3")
    old = chat.last
    chat.press("6 – late active treatment")
    level_reply = next(r for r in old if r.options)
    replies = chat.service.handle(112, Incoming.pressed("sats_1", level_reply.token))
    assert "moved on" in "\n".join(r.text for r in replies)


# -------------------------------------------------------------------------- progress


def seed(storage, user_id: int, rows: list[tuple[str, int, int, float, float]]) -> None:
    for case_id, gold, chosen, interventions, traps in rows:
        storage.save_practice(user_id, case_id, gold, chosen, interventions, traps)


def test_progress_statistics_from_a_seeded_history(make_service, kb):
    service = make_service()
    cases = {c.number: c for c in kb.all("cases")}
    history = [
        (cases[4].id, 4, 5, 0.6, 1.0),    # late persuasion placed as early active treatment
        (cases[10].id, 4, 5, 0.4, 0.5),   # ... again
        (cases[23].id, 4, 4, 0.8, 1.0),
        (cases[2].id, 1, 1, 1.0, 1.0),
        (cases[7].id, 5, 6, 0.5, 0.0),
        (cases[3].id, 6, 6, 1.0, 1.0),
    ]
    seed(service.storage, 201, history)
    progress = compute(service.storage.practice_results(201), kb)
    assert progress.attempts == 6 and progress.right == 3
    assert (progress.per_stage["persuasion"].total, progress.per_stage["persuasion"].right_level) == (3, 1)
    assert progress.per_stage["persuasion"].right_stage == 1
    assert progress.per_stage["active_treatment"].right_stage == 2
    assert progress.per_stage["relapse_prevention"].total == 0
    assert progress.confusions == [(4, 5, 2)]
    assert progress.suggest_stage == "persuasion"
    assert kb.levels[cases[progress.suggest_case].sats_level].stage == "persuasion"
    assert progress.suggest_case not in (4, 10, 23)
    assert progress.intervention_mean == pytest.approx(sum(r[3] for r in history) / 6)

    chat = ChatDriver(service, user_id=201)
    begin(chat)
    chat.send("/progress")
    text = chat.text
    assert "Attempts: 6. Right SATS level: 3 (50 %)." in text
    assert "persuasion: right level 1 of 3 (33 %), right stage 1 of 3" in text
    assert "relapse prevention: not practised yet" in text
    assert ("You tend to place late persuasion (SATS 4) as early active treatment (SATS 5) (2 times) – "
            "you see the person as further along than they are.") in text
    assert f"Practise persuasion next: try case {progress.suggest_case} (/practice {progress.suggest_case})." in text
    chat.send("/sprak nb")
    chat.send("/fremgang")
    assert "Du plasserer ofte sen overtalelse (SATS 4) som tidlig aktiv behandling (SATS 5)" in chat.text


def test_progress_empty_single_miss_and_all_done(make_service, kb):
    service = make_service()
    chat = ChatDriver(service, user_id=202)
    begin(chat)
    chat.send("/progress")
    assert "not practised yet" in chat.text.lower() or "have not practised" in chat.text
    seed(service.storage, 202, [(kb.all("cases")[0].id, 3, 2, 1.0, 1.0)])
    chat.send("/progress")
    assert "The last time you missed, you placed early persuasion (SATS 3) as engagement (SATS 2)" in chat.text
    assert "less far along" in chat.text
    seed(service.storage, 203, [(c.id, c.sats_level, c.sats_level, 1.0, 1.0) for c in kb.all("cases")])
    assert compute(service.storage.practice_results(203), kb).suggest_stage is None
    assert "You have tried every case" in progress_replies(service.storage.practice_results(203), kb, "en")[0].text


def test_progress_is_per_user(make_service, kb):
    service = make_service()
    seed(service.storage, 204, [(kb.all("cases")[0].id, 3, 3, 1.0, 1.0)])
    assert "have not practised" in progress_replies(service.storage.practice_results(205), kb, "en")[0].text


# ------------------------------------------------------------------------ reflection


def test_reflection_questions_of_a_webinar(make_service, kb):
    chat = ChatDriver(make_service(), user_id=301)
    begin(chat)
    chat.send("/reflection")
    assert "/reflection 1" in chat.text and "/reflection 4" in chat.text and "/reflection 3" not in chat.text
    chat.send("/reflection 1")
    webinar = next(w for w in kb.all("webinars") if w.number == 1)
    assert "Reflection – webinar 1" in chat.text and webinar.reflection[1].en in chat.text
    assert chat.text.count("\n1. ") == 1  # the two parts share their questions: shown once
    chat.send("/reflection housing")
    assert "Reflection – webinar 1" in chat.text
    chat.send("/reflection 3")
    assert "has no reflection questions" in chat.text and "1, 2, 4" in chat.text
    chat.send("/refleksjon 2")
    assert "webinar 2" in chat.text


def test_reflection_during_practice_returns_to_the_question(make_service):
    chat = ChatDriver(make_service(), user_id=302)
    begin(chat, "nb")
    chat.send("/ov 9")
    chat.send("/refleksjon 4")
    assert "Refleksjon – webinar 4" in chat.text
    assert "Hvilket SATS-nivå" in chat.text
