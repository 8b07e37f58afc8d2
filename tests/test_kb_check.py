"""`iddt-bot kb check`: one small broken knowledge folder per kind of problem, located as path:line: field."""

from __future__ import annotations

import json
from pathlib import Path

from bot.cli import main
from bot.paths import knowledge_dir


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def check(folder: Path, capsys) -> tuple[int, str]:
    code = main(["kb", "check", str(folder)])
    return code, capsys.readouterr().out


ENTRY = """interventions:
  - id: extra_one
    title: {nb: Ekstra, en: Extra}
    stages: [engagement]
    category: organisation
    summary: {nb: Noe, en: Something}
    why: {nb: Fordi, en: Because}
    elements: [relationship]
"""


def test_the_bundled_knowledge_is_clean(capsys):
    code, out = check(knowledge_dir(), capsys)
    assert code == 0, out
    assert out.startswith("ok:")


def test_duplicate_id(folder, capsys):
    path = write(folder, "zz_extra.yaml", ENTRY + ENTRY.split("\n", 1)[1])
    code, out = check(folder, capsys)
    assert code == 1
    assert f"{path}:9: interventions[extra_one].id: duplicate id 'extra_one'" in out


def test_unknown_reference_with_suggestion(folder, capsys):
    path = write(folder, "zz_extra.yaml", ENTRY.replace("[relationship]", "[relationshp]"))
    code, out = check(folder, capsys)
    assert code == 1
    assert f"{path}:8: interventions[extra_one].elements[0]: unknown element 'relationshp' (did you mean 'relationship'?)" in out


def test_missing_translation(folder, capsys):
    path = write(folder, "zz_extra.yaml", ENTRY.replace("why: {nb: Fordi, en: Because}", "why: {nb: Fordi}"))
    code, out = check(folder, capsys)
    assert code == 1
    assert f"{path}:7: interventions[extra_one].why.en: missing translation 'en'" in out


def test_unknown_key_with_suggestion(folder, capsys):
    path = write(folder, "zz_extra.yaml", ENTRY.replace("    why:", "    summery: {nb: a, en: b}\n    why:"))
    code, out = check(folder, capsys)
    assert code == 1
    assert f"{path}:7: interventions[extra_one].summery: unknown key 'summery' (did you mean 'summary'?)" in out


def test_wrong_type(folder, capsys):
    path = write(folder, "zz_extra.yaml", ENTRY.replace("category: organisation", "category: 12"))
    code, out = check(folder, capsys)
    assert code == 1
    assert f"{path}:5: interventions[extra_one].category:" in out


def test_yaml_syntax_error_has_its_line(folder, capsys):
    path = write(folder, "zz_extra.yaml", ENTRY.replace("    category: organisation", "    category: [organisation"))
    code, out = check(folder, capsys)
    assert code == 1
    assert f"{path}:" in out and "YAML syntax error" in out


def test_decision_tree_dead_end_and_unreachable_question(folder, capsys):
    sats = folder / "sats.yaml"
    text = sats.read_text(encoding="utf-8")
    sats.write_text(text.replace("      no: {level: 2}\n      yes: {next: reduced}", "      no: {level: 2}\n      yes: {next: reducd}"),
                    encoding="utf-8")
    code, out = check(folder, capsys)
    assert code == 1
    assert "sats_tree.questions[regular].yes.next: unknown question 'reducd' (did you mean 'reduced'?)" in out


def test_unreachable_flow_step(flows_folder, capsys):
    flows = flows_folder
    path = flows / "assessment.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("    next: co_mental\n", "    next: severity\n"), encoding="utf-8")
    code = main(["kb", "check", "--conversations", str(flows)])
    out = capsys.readouterr().out
    assert code == 1
    assert "assessment.steps[co_mental].id: unreachable step" in out


def test_kb_export_has_every_collection(capsys):
    assert main(["kb", "export", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    for key in ("stages", "sats_levels", "interventions", "traps", "elements", "services", "resources", "research",
                "webinars", "chapters", "glossary", "cases"):
        assert key in data
    assert all(i["stages"] for i in data["interventions"])
    assert {lvl["level"] for lvl in data["sats_levels"]} == set(range(1, 9))
