"""The ``iddt-bot`` command: each subcommand parses its arguments and calls the core."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from bot import paths


def _kb_check(args: argparse.Namespace) -> int:
    from bot.knowledge import load_knowledge

    folder = Path(args.dir) if args.dir else Path(args.knowledge or paths.knowledge_dir())
    kb, problems = load_knowledge(folder)
    for problem in problems:
        print(problem)
    if problems:
        print(f"{len(problems)} problem(s) found in {folder}", file=sys.stderr)
        return 1
    assert kb is not None
    total = sum(kb.counts().values())
    print(f"ok: {folder} ({total} entries)")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="iddt-bot", description=__doc__)
    parser.add_argument("--knowledge", help="knowledge folder (default: the bundled one)")
    sub = parser.add_subparsers(dest="command")
    kb = sub.add_parser("kb", help="trainer tools for the knowledge base")
    kb_sub = kb.add_subparsers(dest="kb_command", required=True)
    check = kb_sub.add_parser("check", help="validate the knowledge; exit 1 with every problem")
    check.add_argument("dir", nargs="?")
    check.set_defaults(func=_kb_check)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    func = getattr(args, "func", None)
    if func is None:
        parser.print_help()
        return 0
    return int(func(args) or 0)


if __name__ == "__main__":
    raise SystemExit(main())
