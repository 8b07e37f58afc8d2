"""Mermaid state diagrams of the flows (``iddt-bot kb diagram`` → ``docs/flows.md``).

Each step is a state labelled with its id and kind. ``next`` is an arrow; a step that may be skipped
(``when``, ``skip_if``, ``once``) is entered through a choice point whose other arrow goes where the
engine goes when the step does not apply; a repeated step (``for_each``) loops on itself; an option
that runs a command leaves the flow. The diagram is generated, never edited: a test checks it is current.
"""

from __future__ import annotations

from pathlib import Path

from bot.knowledge.flows import Flow, Flows, Step

HEADER = """# The conversation flows

Generated from `conversations/*.yaml` by `iddt-bot kb diagram`; do not edit by hand (a test checks that
this file is current). GitHub and most Markdown viewers draw the diagrams. A diamond is a step that may
be skipped: the labelled arrow is taken when the step applies, `otherwise` when it does not.
"""


def _condition(step: Step) -> str | None:
    parts = []
    if step.when:
        parts.append(" or ".join(f"{c.step} in {'/'.join(c.in_)}" for c in step.when))
    if step.skip_if:
        parts.append(f"not {step.skip_if}")
    if step.once:
        parts.append(f"not {step.once}")
    return " and ".join(parts) if parts else None


def _label(text: str) -> str:
    """Mermaid labels may not contain ':' or ';' (they end a label or a statement)."""
    return text.replace(":", " ").replace(";", ",").replace('"', "'")


def flow_diagram(flow: Flow, option_sets: dict | None = None) -> str:
    """The Mermaid ``stateDiagram-v2`` source of one flow."""
    steps = {s.id: s for s in flow.steps}
    lines = ["stateDiagram-v2", "    direction TB"]

    def target(step_id: str | None) -> str:
        if step_id is None:
            return "[*]"
        return f"{step_id}_if" if _condition(steps[step_id]) else step_id

    for step in flow.steps:
        extra = " (SATS tree)" if step.kind == "decision_tree" else ""
        lines.append(f'    state "{step.id} · {step.kind}{extra}" as {step.id}')
        if _condition(step):
            lines.append(f"    state {step.id}_if <<choice>>")
    lines.append(f"    [*] --> {target(flow.start)}")
    for step in flow.steps:
        condition = _condition(step)
        if condition:
            lines.append(f"    {step.id}_if --> {step.id} : {_label(condition)}")
            lines.append(f"    {step.id}_if --> {target(step.next)} : otherwise")
        if step.for_each:
            lines.append(f"    {step.id} --> {step.id} : for each {step.for_each}")
        options = step.options if isinstance(step.options, list) else (option_sets or {}).get(step.options or "", [])
        for option in options:
            if option.command:
                lines.append(f"    {step.id} --> [*] : {_label(option.label.en)} → {option.command}")
        lines.append(f"    {step.id} --> {target(step.next)}")
    return "\n".join(lines) + "\n"


def flows_markdown(flows: Flows) -> str:
    """``docs/flows.md``: every flow in file order of their names, with its diagram."""
    parts = [HEADER]
    for name in sorted(flows.flows):
        flow = flows.flows[name]
        parts.append(f"\n## {flow.title.en} (`{name}`)\n\n{flow.title.nb}. Starts at `{flow.start}`; "
                     f"{len(flow.steps)} steps.\n\n```mermaid\n{flow_diagram(flow, flows.option_sets)}```\n")
    return "".join(parts)


def write_markdown(flows: Flows, path: Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(flows_markdown(flows), encoding="utf-8")
    return path
