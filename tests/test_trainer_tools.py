"""The trainers' workflow (J5): kb check finds every kind of mistake, schemas and diagrams are current,
reload and --watch load valid changes and refuse invalid ones, admin commands, usage statistics."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import pytest

from bot.cli import main
from bot.config import Config
from bot.engine.diagram import flows_markdown
from bot.engine.usage_report import usage_text
from bot.knowledge.schema import all_schemas, render
from bot.paths import CHECKOUT_DIR, conversations_dir, knowledge_dir
from bot.service import BotService
from bot.stats import usage_stats
from bot.watch import KnowledgeWatcher, reload_notifier
from tests.conftest import ChatDriver

CASE = "cases/04_tablets_for_peace.yaml"
CASE_ID = "tablets_for_peace"


def edit(path: Path, old: str, new: str) -> Path:
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


def line_with(path: Path, needle: str, exact: bool = False) -> int:
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if (line.strip() == needle) if exact else (needle in line):
            return number
    raise AssertionError(needle)


def check(capsys, *args: str) -> tuple[int, str]:
    code = main(["kb", "check", *args])
    return code, capsys.readouterr().out


# ------------------------------------------------------------------ kb check, per mistake


def test_yaml_syntax_error_in_a_case(folder, capsys):
    path = edit(folder / CASE, "title: {nb: Tabletter for å få fred, en: Tablets for some peace}",
                "title: {nb: Tabletter for å få fred, en: Tablets for some peace")
    code, out = check(capsys, str(folder))
    assert code == 1
    line = line_with(path, "title: {nb: Tabletter")
    located = [x for x in out.splitlines() if x.startswith(f"{path}:") and "YAML syntax error" in x]
    assert located and line <= int(located[0].split(":")[1]) <= line + 2, out


def test_an_id_too_long_for_a_button_is_refused(folder, capsys):
    """Ids become buttons (to open an entry, or as options); Telegram's button data holds 64 bytes."""
    too_long = "a" * 57  # no button can carry it
    path = edit(folder / "assessment.yaml", "  - id: housing\n", f"  - id: {too_long}\n")
    code, out = check(capsys, str(folder))
    assert code == 1
    assert f"{path}:" in out and "at most 56 characters" in out, out


def test_option_ids_must_leave_room_for_the_ticks_of_a_multi_select(folder, capsys):
    long_id = "housing_" + "x" * 46  # 54 characters: an entry may have it, a multi-select button may not
    edit(folder / "assessment.yaml", "  - id: housing\n",
         f"  - id: {long_id}\n    title: {{nb: Lang, en: Long}}\n  - id: housing\n")
    code, out = check(capsys, str(folder))
    assert code == 1
    assert (f"assessment.steps[life_areas].options_from: the id '{long_id}' in 'life_areas' is too long for a "
            "button here (54 characters, at most 51 fit): shorten it") in out, out  # 63 − 8 − 1 − 2 − 1


def test_unknown_key_in_a_case_with_suggestion(folder, capsys):
    path = edit(folder / CASE, "    sats_level: 4\n", "    sats_levl: 4\n")
    code, out = check(capsys, str(folder))
    assert code == 1
    line = line_with(path, "sats_levl")
    assert f"{path}:{line}: cases[{CASE_ID}].sats_levl: unknown key 'sats_levl' (did you mean 'sats_level'?)" in out


def test_case_without_a_gold_level(folder, capsys):
    path = edit(folder / CASE, "    sats_level: 4\n", "")
    code, out = check(capsys, str(folder))
    assert code == 1
    line = line_with(path, f"id: {CASE_ID}")
    assert f"{path}:{line}: cases[{CASE_ID}].sats_level: the case has no gold level" in out


def test_missing_translation_in_a_case(folder, capsys):
    path = folder / CASE
    edit(path, "        en: Meets his milieu therapist every Thursday and can talk about his drinking – a working alliance.\n", "")
    code, out = check(capsys, str(folder))
    assert code == 1
    line = line_with(path, "nb: Møter miljøterapeuten hver torsdag")
    assert f"{path}:{line}: cases[{CASE_ID}].deciding_facts[0].en: missing translation 'en'" in out


def test_duplicate_case_id_and_number(folder, capsys):
    copy = folder / "cases" / "99_copy.yaml"
    shutil.copy(folder / CASE, copy)
    code, out = check(capsys, str(folder))
    assert code == 1
    first = folder / CASE
    assert f"{copy}:{line_with(copy, 'id: ' + CASE_ID)}: cases[{CASE_ID}].id: duplicate id '{CASE_ID}' (first at {first}:" in out
    edit(copy, f"id: {CASE_ID}", "id: another_case")
    code, out = check(capsys, str(folder))
    assert f"{copy}:{line_with(copy, 'number: 4')}: cases[another_case].number: number 4 is already used by case '{CASE_ID}'" in out


def test_broken_reference_in_a_case(folder, capsys):
    path = edit(folder / CASE, "interventions: [motivational_interviewing,", "interventions: [motivational_interviewin,")
    code, out = check(capsys, str(folder))
    assert code == 1
    line = line_with(path, "interventions: [motivational_interviewin,")
    assert (f"{path}:{line}: cases[{CASE_ID}].interventions[0]: unknown intervention 'motivational_interviewin' "
            "(did you mean 'motivational_interviewing'?)") in out


def test_case_intervention_of_another_stage(folder, capsys):
    path = edit(folder / CASE, "interventions: [motivational_interviewing,", "interventions: [refusal_skills,")
    code, out = check(capsys, str(folder))
    assert code == 1
    line = line_with(path, "interventions: [refusal_skills,")
    assert (f"{path}:{line}: cases[{CASE_ID}].interventions[0]: 'refusal_skills' is not an intervention for "
            "persuasion (SATS 4)") in out


def test_case_that_names_its_stage(folder, capsys):
    path = edit(folder / CASE, "has drunk strong beer every day", "is in late persuasion and has drunk strong beer every day")
    code, out = check(capsys, str(folder))
    assert code == 1
    line = line_with(path, "      en: >-")
    assert f"{path}:{line}: cases[{CASE_ID}].vignette.en: names a stage or level ('late persuasion')" in out


def test_unknown_collection_with_suggestion(folder, capsys):
    path = edit(folder / CASE, "cases:\n", "case:\n")
    code, out = check(capsys, str(folder))
    assert code == 1
    assert f"{path}:{line_with(path, 'case:')}: case: unknown collection (did you mean 'cases'?)" in out


def test_ui_placeholders_must_match(folder, capsys):
    path = folder / "ui.yaml"
    edit(path, 'en: "Attempts: {attempts}.', 'en: "Attempts: {attempt}.')
    code, out = check(capsys, str(folder))
    assert code == 1
    line = line_with(path, "progress_summary:")
    assert f"{path}:{line}: ui.progress_summary.en: placeholders differ from nb: only en has {{attempt}}; only nb has {{attempts}}" in out


def test_decision_tree_dead_end(folder, capsys):
    path = edit(folder / "sats.yaml", "      no: {level: 6}\n", "")
    code, out = check(capsys, str(folder))
    assert code == 1
    line = line_with(path, "- id: six_months")
    assert f"{path}:{line}: sats_tree.questions[5].no: dead end: the answer 'no' leads nowhere" in out
    assert "the SATS decision tree is missing" not in out


def test_decision_tree_loop(folder, capsys):
    path = edit(folder / "sats.yaml", "      yes: {next: remission}", "      yes: {next: contact}")
    code, out = check(capsys, str(folder))
    assert code == 1
    assert f"{path}:" in out and "loops back to 'contact', so this path never ends in a level" in out


def test_flow_step_that_cannot_be_reached(flows_folder, capsys):
    path = edit(flows_folder / "practice.yaml", "        synonyms: [nummer, number, nr]\n    next: pick_stage",
                "        synonyms: [nummer, number, nr]\n    next: case")
    code, out = check(capsys, "--conversations", str(flows_folder))
    assert code == 1
    line = line_with(path, "- id: pick_stage")
    assert f"{path}:{line}: practice.steps[pick_stage].id: unreachable step: no 'next' leads here from the start" in out


def test_flow_names_unknown_code(flows_folder, capsys):
    path = edit(flows_folder / "practice.yaml", "show: practice_case\n", "show: practice_cas\n")
    edit(path, "skip_if: case_given", "skip_if: case_givn")
    code, out = check(capsys, "--conversations", str(flows_folder))
    assert code == 1
    assert (f"{path}:{line_with(path, 'show: practice_cas', exact=True)}: practice.steps[case].show: unknown content block "
            "'practice_cas' (did you mean 'practice_case'?)") in out
    assert (f"{path}:{line_with(path, 'skip_if: case_givn')}: practice.steps[mode].skip_if: unknown condition "
            "'case_givn' (did you mean 'case_given'?)") in out


def test_duplicate_command_name(flows_folder, capsys):
    path = edit(flows_folder / "options.yaml", "names: [kasus, case]", "names: [kasus, case, hjelp]")
    code, out = check(capsys, "--conversations", str(flows_folder))
    assert code == 1
    line = line_with(path, "- id: case")
    assert f"{path}:{line}: commands[" in out and "the name 'hjelp' is already used by command 'help'" in out


def test_option_set_mistake_is_located(flows_folder, capsys):
    path = edit(flows_folder / "options.yaml", "      label: {nb: Lett, en: Mild}", "      label: {nb: Lett}")
    code, out = check(capsys, "--conversations", str(flows_folder))
    assert code == 1
    assert f"{path}:{line_with(path, 'label: {nb: Lett}')}: option_sets.severity[0].label.en: missing translation 'en'" in out


# -------------------------------------------------------------- schema and diagram


def test_committed_schemas_are_current():
    folder = CHECKOUT_DIR / "schema"
    for filename, schema in all_schemas().items():
        path = folder / filename
        assert path.is_file(), f"{path} missing: run `iddt-bot kb schema`"
        assert path.read_text(encoding="utf-8") == render(schema), f"{path} is stale: run `iddt-bot kb schema`"
    stale = {p.name for p in folder.glob("*.json")} - set(all_schemas())
    assert not stale, f"schemas of removed kinds: {stale}"


def test_kb_schema_writes_every_schema(tmp_path, capsys):
    assert main(["kb", "schema", "--out", str(tmp_path)]) == 0
    written = capsys.readouterr().out.split()
    assert {Path(p).name for p in written} == set(all_schemas())
    combined = json.loads((tmp_path / "knowledge.schema.json").read_text(encoding="utf-8"))
    assert {"cases", "interventions", "sats_tree", "ui"} <= set(combined["properties"])
    assert combined["additionalProperties"] is False


def _schema_of(folder, path, schema):
    """The lexicon folder's files have their own schema."""
    return "lexicon.schema.json" if "lexicon" in path.relative_to(folder).parts[:-1] else schema


def test_every_yaml_file_names_its_schema():
    for folder, schema in ((knowledge_dir(), "knowledge.schema.json"), (conversations_dir(), "flow.schema.json")):
        for path in sorted(folder.rglob("*.yaml")):
            depth = len(path.relative_to(folder).parts)
            expected = f"# yaml-language-server: $schema={'../' * depth}schema/{_schema_of(folder, path, schema)}"
            assert path.read_text(encoding="utf-8").splitlines()[0] == expected, path


def test_every_yaml_file_is_valid_by_its_schema():
    jsonschema = pytest.importorskip("jsonschema")
    from bot.knowledge.yamlfile import read_yaml

    def plain(value):
        if isinstance(value, dict):
            return {k: plain(v) for k, v in value.items()}
        if isinstance(value, list):
            return [plain(v) for v in value]
        return value

    schemas = all_schemas()
    for folder, name in ((knowledge_dir(), "knowledge.schema.json"), (conversations_dir(), "flow.schema.json")):
        for path in sorted(folder.rglob("*.yaml")):
            validator = jsonschema.Draft202012Validator(schemas[_schema_of(folder, path, name)])
            errors = [e.message for e in validator.iter_errors(plain(read_yaml(path)))]
            assert not errors, (path, errors[:3])
    validator = jsonschema.Draft202012Validator(schemas["knowledge.schema.json"])
    bad = {"cases": [{"id": "x", "number": 1, "title": {"nb": "a"}, "sats_levl": 3}]}
    messages = " | ".join(e.message for e in validator.iter_errors(bad))
    assert "'sats_levl' was unexpected" in messages and "'en' is a required property" in messages


def test_flow_diagrams_are_current(flows):
    path = CHECKOUT_DIR / "docs" / "flows.md"
    assert path.read_text(encoding="utf-8") == flows_markdown(flows), "docs/flows.md is stale: run `iddt-bot kb diagram`"


def test_diagram_shows_steps_skips_and_loops(flows):
    text = flows_markdown(flows)
    assert "stateDiagram-v2" in text
    assert "mode_if --> mode : not case_given" in text
    assert "stage --> stage : for each substances" in text
    assert "menu --> [*] : Assess a case → /vurdering" in text
    for name, flow in flows.flows.items():
        assert f"(`{name}`)" in text
        for step in flow.steps:
            assert f"as {step.id}" in text


def test_kb_diagram_command(tmp_path, capsys):
    out = tmp_path / "flows.md"
    assert main(["kb", "diagram", "--out", str(out)]) == 0
    assert out.read_text(encoding="utf-8").startswith("# The conversation flows")


# ------------------------------------------------------------------------ reload


ADMIN, STUDENT = 900, 901


@pytest.fixture
def live(tmp_path, folder, flows_folder):
    """A running service on a knowledge copy a trainer can edit; 900 is the admin."""
    config = Config(db_path=tmp_path / "bot.sqlite", knowledge_dir=folder, conversations_dir=flows_folder,
                    admin_ids=frozenset({ADMIN}))
    service = BotService(config)
    yield service
    service.close()


def chat(service, user_id: int) -> ChatDriver:
    driver = ChatDriver(service, user_id=user_id)
    driver.send("/start")
    driver.press("en")
    return driver


def test_reload_valid_change_takes_effect(live, folder):
    admin = chat(live, ADMIN)
    admin.send("/interventions persuasion")
    assert "Decisional balance: pros and cons" in admin.text
    edit(folder / "interventions.yaml", "Decisional balance: pros and cons", "Weighing pros and cons")
    admin.send("/reload")
    assert "The knowledge has been reloaded" in admin.text
    admin.send("/interventions persuasion")
    assert "Weighing pros and cons" in admin.text and "Decisional balance: pros and cons" not in admin.text


def test_reload_invalid_change_is_refused_and_the_admin_told_why(live, folder):
    admin = chat(live, ADMIN)
    path = edit(folder / CASE, "    sats_level: 4\n", "")
    edit(folder / "interventions.yaml", "Decisional balance: pros and cons", "Weighing pros and cons")
    admin.send("/reload")
    text = admin.text
    assert "The reload was refused: 1 problem(s). The bot still serves the last good knowledge." in text
    assert f"{path}:{line_with(path, 'id: ' + CASE_ID)}: cases[{CASE_ID}].sats_level:" in text
    admin.send("/interventions persuasion")
    assert "Decisional balance: pros and cons" in admin.text  # the last good knowledge still serves
    student = chat(live, STUDENT)
    student.send("/practice 4")
    assert "Case 4:" in student.text


def test_admin_only_commands_are_refused_for_others(live):
    student = chat(live, STUDENT)
    for command in ("/reload", "/stats", "/statistikk", "/lastinn"):
        student.send(command)
        assert "for administrators only" in student.text, command
    admin = chat(live, ADMIN)
    admin.send("/stats")
    assert "Per week (assessments / practice attempts)" in admin.text


def test_admin_commands_are_not_in_the_help(live):
    student = chat(live, STUDENT)
    student.send("/help")
    assert "/stats" not in student.text and "/reload" not in student.text
    assert "/refleksjon" in student.text or "/reflection" in student.text


# ------------------------------------------------------------------------- watching


def test_watcher_reports_a_settled_change_once(tmp_path):
    (tmp_path / "a.yaml").write_text("x: 1\n", encoding="utf-8")
    seen: list[list[Path]] = []
    watcher = KnowledgeWatcher([tmp_path], seen.append, interval=0.01)
    assert watcher.check() == []
    (tmp_path / "a.yaml").write_text("x: 22\n", encoding="utf-8")
    (tmp_path / "b.yml").write_text("y: 1\n", encoding="utf-8")
    (tmp_path / "notes.txt").write_text("ignored", encoding="utf-8")
    assert watcher.check() == []  # first sight of the change: wait until it settles
    assert watcher.check() == [tmp_path / "a.yaml", tmp_path / "b.yml"]
    assert watcher.check() == []
    assert seen == [[tmp_path / "a.yaml", tmp_path / "b.yml"]]


def test_watch_reloads_and_notifies_admins(live, folder):
    messages: list[str] = []
    watcher = KnowledgeWatcher([folder], reload_notifier(live, messages.append), interval=0.01)
    edit(folder / "interventions.yaml", "Decisional balance: pros and cons", "Weighing pros and cons")
    watcher.check()
    watcher.check()
    assert messages and "Kunnskapen er lastet inn på nytt" in messages[-1] and "interventions.yaml" in messages[-1]
    assert "Weighing pros and cons" in live.kb.get("interventions", "decisional_balance").title.en

    path = edit(folder / CASE, "    sats_level: 4\n", "")
    watcher.check()
    watcher.check()
    assert "Innlastingen ble avvist" in messages[-1] and f"{path}:" in messages[-1]
    assert live.kb.get("cases", CASE_ID).sats_level == 4  # still the last good knowledge


def test_watcher_thread(tmp_path):
    (tmp_path / "a.yaml").write_text("x: 1\n", encoding="utf-8")
    seen: list[list[Path]] = []
    watcher = KnowledgeWatcher([tmp_path], seen.append, interval=0.02).start()
    try:
        time.sleep(0.05)
        (tmp_path / "a.yaml").write_text("x: 2\n", encoding="utf-8")
        deadline = time.monotonic() + 5
        while not seen and time.monotonic() < deadline:
            time.sleep(0.02)
    finally:
        watcher.stop()
    assert seen == [[tmp_path / "a.yaml"]]


# ------------------------------------------------------------------------- statistics


def test_usage_statistics_are_aggregates_only(make_service, kb, capsys, tmp_path):
    service = make_service()
    cases = {c.number: c for c in kb.all("cases")}
    for user, (number, chosen) in enumerate([(4, 5), (10, 5), (4, 4), (2, 1), (7, 6)], start=7001):
        case = cases[number]
        service.storage.save_practice(user, case.id, case.sats_level, chosen, 0.5, 1.0)
    searcher = ChatDriver(service, user_id=7100)
    searcher.send("/start")
    searcher.press("en")
    searcher.send("/cancel")
    searcher.send("qwzx plokk vrrm")  # nothing in the knowledge fits
    stats = usage_stats(service.storage, kb)
    assert stats["practice_attempts"] == 5 and stats["practising_students"] == 5
    assert sum(stats["practice_per_week"].values()) == 5
    assert stats["accuracy_per_level"][4]["attempts"] == 3 and stats["accuracy_per_level"][4]["accuracy"] == 0.33
    assert stats["accuracy_per_case"][cases[4].id]["attempts"] == 2
    assert stats["accuracy_per_stage"]["persuasion"]["accuracy"] == 0.33
    assert stats["confused_levels"][0] == {"gold": 4, "chosen": 5, "count": 2, "gold_title": "late persuasion",
                                           "chosen_title": "early active treatment"}
    misses = stats["searches_without_good_answer"]
    assert misses and misses[0]["count"] == 1
    dumped = json.dumps(stats)
    assert "qwzx" not in dumped and "7001" not in dumped and "user" not in dumped.replace("users", "")
    text = usage_text(stats, kb, "en")
    for heading in ("Per week", "Accuracy per stage", "Accuracy per SATS level", "Accuracy per case",
                    "Most confused levels", "Searches without a good answer"):
        assert heading in text
    assert "SATS 4 late persuasion → SATS 5 early active treatment: 2" in text
    levels = kb.levels
    norsk = usage_text(stats, kb, "nb")  # titles follow the language of the text, not the JSON's English
    assert f"SATS 4 {levels[4].title.nb} → SATS 5 {levels[5].title.nb}: 2" in norsk
    assert kb.get("stages", "persuasion").title.nb in norsk and "late persuasion" not in norsk

    db = str(tmp_path / "bot.sqlite")
    assert main(["stats", "--db", db]) == 0
    assert "Most confused levels" in capsys.readouterr().out
    assert main(["stats", "--db", db, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["practice_attempts"] == 5
