"""JSON Schemas for editors (``iddt-bot kb schema``), generated from the pydantic models.

Each YAML file names its schema on its first line, for example
``# yaml-language-server: $schema=../schema/knowledge.schema.json``, and editors with YAML support
(VS Code with the Red Hat YAML extension, JetBrains IDEs, Neovim with yaml-language-server) then
complete keys and flag unknown keys, missing translations and wrong types while a trainer types.

Written:

* ``knowledge.schema.json`` — any knowledge file: every collection key is allowed;
* ``<collection>.schema.json`` — a file holding just that collection (for example ``cases``);
* ``flow.schema.json`` — a file in ``conversations/``: a flow, or option sets and commands;
* ``lexicon.schema.json`` — a file in ``knowledge/lexicon/``: word lists and crisis signals.

Cross-file rules (references resolve, ids are unique, the tree ends in levels) are beyond a schema;
``iddt-bot kb check`` covers them.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import ConfigDict, TypeAdapter, create_model

from bot.knowledge.models import COLLECTIONS, SINGLE_OBJECTS, UI_KEY, Text

DIALECT = "https://json-schema.org/draft/2020-12/schema"
KNOWLEDGE_SCHEMA = "knowledge.schema.json"
FLOW_SCHEMA = "flow.schema.json"
LEXICON_SCHEMA = "lexicon.schema.json"
_FORBID = ConfigDict(extra="forbid")


def _finish(schema: dict[str, Any], title: str, description: str) -> dict[str, Any]:
    for prop in schema.get("properties", {}).values():
        if prop.get("default", ...) is None:
            del prop["default"]  # optional top-level keys: an editor should not offer `null`
    schema = {"$schema": DIALECT, **schema}
    schema["title"] = title
    schema["description"] = description
    return schema


def knowledge_schema() -> dict[str, Any]:
    fields: dict[str, Any] = {name: (list[model], None) for name, model in COLLECTIONS.items()}
    fields.update({name: (model, None) for name, model in SINGLE_OBJECTS.items()})
    fields[UI_KEY] = (dict[str, Text], None)
    model = create_model("KnowledgeFile", __config__=_FORBID, **fields)
    return _finish(model.model_json_schema(), "iddt-bot knowledge file",
                   "A file in knowledge/: a mapping of collection names to their entries.")


def collection_schema(name: str) -> dict[str, Any]:
    item = COLLECTIONS.get(name) or SINGLE_OBJECTS[name]
    field_type: Any = list[item] if name in COLLECTIONS else item
    model = create_model(f"{_camel(name)}File", __config__=_FORBID, **{name: (field_type, ...)})
    return _finish(model.model_json_schema(), f"iddt-bot knowledge: {name}",
                   f"A file in knowledge/ holding the collection '{name}'.")


def flow_schema() -> dict[str, Any]:
    from bot.knowledge.flows import CommandDef, Flow, OptionDef

    options_file = create_model("OptionsFile", __config__=_FORBID,
                                option_sets=(dict[str, list[OptionDef]], None), commands=(list[CommandDef], None))
    schema = TypeAdapter(Flow | options_file).json_schema()
    return _finish(schema, "iddt-bot conversation file",
                   "A file in conversations/: one flow (flow, title, start, steps), or shared option sets and commands.")


def _camel(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("_"))


def all_schemas() -> dict[str, dict[str, Any]]:
    """File name → schema, in a stable order."""
    from bot.safety.lexicon import lexicon_schema

    schemas = {KNOWLEDGE_SCHEMA: knowledge_schema(), FLOW_SCHEMA: flow_schema(), LEXICON_SCHEMA: lexicon_schema()}
    for name in (*COLLECTIONS, *SINGLE_OBJECTS):
        schemas[f"{name}.schema.json"] = collection_schema(name)
    return schemas


def render(schema: dict[str, Any]) -> str:
    return json.dumps(schema, ensure_ascii=False, indent=2) + "\n"


def write_schemas(out_dir: Path) -> list[Path]:
    """Write every schema into ``out_dir``; returns the paths written."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for filename, schema in all_schemas().items():
        path = out_dir / filename
        path.write_text(render(schema), encoding="utf-8")
        written.append(path)
    return written
