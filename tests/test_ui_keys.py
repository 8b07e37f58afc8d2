"""Every interface string the code asks for exists in knowledge/ui.yaml, in both languages."""

from __future__ import annotations

import re
from pathlib import Path

CODE = Path(__file__).resolve().parents[1] / "bot"
PATTERN = re.compile(r"""\bui\(\s*["']([a-z_]+)["']\s*[,)]""")


def test_every_ui_key_used_in_code_exists(kb):
    used = {key for path in CODE.rglob("*.py") for key in PATTERN.findall(path.read_text(encoding="utf-8"))}
    assert used, "the pattern should find keys"
    missing = sorted(k for k in used if k not in kb.ui_texts)
    assert missing == []


def test_field_labels_used_by_lookups_exist(kb):
    from bot.engine.lookup import DETAIL_FIELDS

    for name in (*DETAIL_FIELDS, "picture", "find_out", "points", "reflection", "steps"):
        assert f"field_{name}" in kb.ui_texts
