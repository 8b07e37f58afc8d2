"""The ``iddt-bot`` command: each subcommand parses its arguments and calls the core."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from bot import paths
from bot.config import Config


def _config(args: argparse.Namespace) -> Config:
    return Config.from_env(
        db_path=getattr(args, "db", None),
        knowledge_dir=getattr(args, "knowledge", None),
        lang=getattr(args, "lang", None),
        base_url=getattr(args, "base_url", None),
        webhook_url=getattr(args, "webhook_url", None),
        listen=getattr(args, "listen", None),
        port=getattr(args, "port", None),
        webhook_secret=getattr(args, "webhook_secret", None),
        watch=getattr(args, "watch", None) or None,
    )


def _knowledge(args: argparse.Namespace):
    from bot.knowledge import KnowledgeError, load_or_raise

    try:
        return load_or_raise(Path(args.knowledge) if args.knowledge else paths.knowledge_dir())
    except KnowledgeError as exc:
        print(exc, file=sys.stderr)
        raise SystemExit(1) from exc


def _service(args: argparse.Namespace):
    from bot.knowledge import KnowledgeError
    from bot.service import BotService

    try:
        return BotService(_config(args))
    except KnowledgeError as exc:
        print(exc, file=sys.stderr)
        raise SystemExit(1) from exc


def cmd_chat(args: argparse.Namespace) -> int:
    from bot.channels.console import ConsoleChat

    service = _service(args)
    try:
        return ConsoleChat(service).run(sys.stdin)
    finally:
        service.close()


def cmd_telegram(args: argparse.Namespace) -> int:
    from bot.channels.telegram import run_telegram

    return run_telegram(_config(args))


def cmd_doctor(args: argparse.Namespace) -> int:
    from bot.doctor import main as doctor_main

    return doctor_main(_config(args), args)


def cmd_kb_check(args: argparse.Namespace) -> int:
    from bot.service import knowledge_problems

    folder = Path(args.dir) if args.dir else Path(args.knowledge or paths.knowledge_dir())
    conversations = Path(args.conversations) if args.conversations else paths.conversations_dir()
    kb, problems = knowledge_problems(folder, conversations)
    for problem in problems:
        print(problem)
    if problems:
        print(f"{len(problems)} problem(s) found", file=sys.stderr)
        return 1
    print(f"ok: {folder} ({sum(kb.counts().values())} entries)")
    return 0


def cmd_kb_forms(args: argparse.Namespace) -> int:
    from bot.language.build_forms import build, write
    from bot.safety.lexicon import load_screen_rules

    folder = Path(args.knowledge or paths.knowledge_dir()) / "lexicon"
    rules, problems = load_screen_rules(folder)
    if rules is None:
        print("\n".join(str(p) for p in problems), file=sys.stderr)
        return 1
    table = build(rules.lemmas())
    write(table)
    print(f"word forms of {sum(len(v) for v in table.values())} lemmas written")
    return 0


def cmd_kb_train_screen(args: argparse.Namespace) -> int:
    from bot.safety.model import retrain

    print(retrain())
    return 0


def cmd_kb_export(args: argparse.Namespace) -> int:
    from bot.knowledge.export import export

    json.dump(export(_knowledge(args)), sys.stdout, ensure_ascii=False, indent=1 if args.pretty else None)
    sys.stdout.write("\n")
    return 0


def cmd_kb_stats(args: argparse.Namespace) -> int:
    from bot.knowledge.export import kb_stats

    stats = kb_stats(_knowledge(args))
    if args.json:
        print(json.dumps(stats, indent=1))
    else:
        width = max(len(k) for k in stats)
        for key, value in stats.items():
            print(f"{key:<{width}}  {value}")
    return 0


def cmd_kb_schema(args: argparse.Namespace) -> int:
    from bot.knowledge.schema import write_schemas

    for path in write_schemas(Path(args.out)):
        print(path)
    return 0


def cmd_kb_diagram(args: argparse.Namespace) -> int:
    from bot.engine.diagram import flows_markdown, write_markdown
    from bot.engine.runner import code_names
    from bot.knowledge.flows import load_flows

    kb = _knowledge(args)
    flows, problems = load_flows(Path(args.conversations) if args.conversations else paths.conversations_dir(), kb, code_names())
    if flows is None:
        for problem in problems:
            print(problem, file=sys.stderr)
        return 1
    if args.out == "-":
        sys.stdout.write(flows_markdown(flows))
    else:
        print(write_markdown(flows, Path(args.out)))
    return 0


def cmd_ask(args: argparse.Namespace) -> int:
    kb = _knowledge(args)
    hits = kb.index.search(" ".join(args.text), args.lang or "nb", args.top)
    if args.json:
        print(json.dumps([h.to_json() for h in hits], ensure_ascii=False))
    else:
        for hit in hits:
            print(f"{hit.score:5.1f}  {hit.kind:<14} {hit.id:<32} {hit.title}")
    return 0


def cmd_estimate(args: argparse.Namespace) -> int:
    from bot.assessment.estimator import estimate

    kb = _knowledge(args)
    result = estimate(sys.stdin.read(), kb.sats_tree, args.lang)
    print(json.dumps(result.to_json(), ensure_ascii=False))
    return 0


def cmd_screen(args: argparse.Namespace) -> int:
    from bot.safety import screen
    from bot.safety.lexicon import load_screen_rules

    rules = None
    if args.knowledge:
        rules, problems = load_screen_rules(Path(args.knowledge) / "lexicon")
        if rules is None:
            print("\n".join(str(p) for p in problems), file=sys.stderr)
            return 1
    result = screen(sys.stdin.read(), args.lang, rules)
    print(json.dumps(result.to_json(), ensure_ascii=False))
    return 0


def cmd_stats(args: argparse.Namespace) -> int:
    from bot.engine.usage_report import usage_text
    from bot.stats import usage_stats
    from bot.storage import Storage

    config = _config(args)
    kb = _knowledge(args)
    storage = Storage(config.db_path)
    try:
        stats = usage_stats(storage, kb)
    finally:
        storage.close()
    if args.json:
        print(json.dumps(stats, ensure_ascii=False, indent=1))
    else:
        print(usage_text(stats, kb, args.lang or "en"), end="")
    return 0


def cmd_data(args: argparse.Namespace) -> int:
    from bot.storage import Storage

    config = _config(args)
    storage = Storage(config.db_path)
    try:
        if args.action == "purge":
            days = args.days if args.days is not None else config.retention_days
            print(json.dumps({"retention_days": days, "removed": storage.purge(days)}))
        elif args.action == "export":
            print(json.dumps(storage.export_user(args.user), ensure_ascii=False, indent=1))
        elif args.action == "delete-user":
            print(json.dumps({"user": args.user, "rows_removed": storage.delete_user(args.user)}))
    finally:
        storage.close()
    return 0


def cmd_bench(args: argparse.Namespace) -> int:
    import os

    if args.knowledge:  # the load runs in a child process, which reads the environment
        os.environ["IDDT_KNOWLEDGE"] = str(Path(args.knowledge).resolve())
    try:
        from benchmarks.run import main as bench_main
    except ImportError:  # an installed wheel: the benchmark lives beside bot/ in a checkout
        if not (paths.CHECKOUT_DIR / "benchmarks" / "run.py").is_file():
            print("iddt-bot bench: run it from a checkout of the repository (benchmarks/ beside bot/)",
                  file=sys.stderr)
            return 2
        sys.path.insert(0, str(paths.CHECKOUT_DIR))
        from benchmarks.run import main as bench_main
    return bench_main(quick=args.quick, as_json=args.json)


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--knowledge", help="knowledge folder (default: the bundled one)")
    common.add_argument("--db", help="SQLite file (default: a per-user data directory)")
    common.add_argument("--lang", choices=["nb", "da", "en"],
                        help="language: nb, da (read in Danish, answered in Danish where a text exists, else bokmål) or en")
    parser = argparse.ArgumentParser(prog="iddt-bot", parents=[common],
                                     description="IDDT decision support bot (console chat by default).")
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("chat", parents=[common], help="console chat").set_defaults(func=cmd_chat)
    tg = sub.add_parser("telegram", parents=[common], help="run the Telegram bot (token in TELEGRAM_BOT_TOKEN)")
    tg.add_argument("--base-url", help="Bot API base URL, e.g. http://127.0.0.1:8081/bot")
    tg.add_argument("--webhook-url", help="use a webhook at this public URL instead of polling")
    tg.add_argument("--listen", help="address the webhook server listens on")
    tg.add_argument("--port", type=int, help="port of the webhook server")
    tg.add_argument("--webhook-secret", help="secret token Telegram sends with webhook calls")
    tg.add_argument("--watch", action="store_true", help="reload the knowledge when its files change")
    tg.set_defaults(func=cmd_telegram)
    from bot import doctor

    doc = sub.add_parser("doctor", parents=[common], help=doctor.SUMMARY, description=doctor.SUMMARY,
                         epilog=doctor.EXIT_CODES_HELP, formatter_class=argparse.RawDescriptionHelpFormatter)
    doctor.add_arguments(doc)
    doc.set_defaults(func=cmd_doctor)

    kb = sub.add_parser("kb", parents=[common], help="trainer tools for the knowledge base")
    kb_sub = kb.add_subparsers(dest="kb_command", required=True)
    check = kb_sub.add_parser("check", parents=[common], help="validate; exit 1 listing every problem")
    check.add_argument("dir", nargs="?")
    check.add_argument("--conversations", help="flows folder (default: the bundled one)")
    check.set_defaults(func=cmd_kb_check)
    forms = kb_sub.add_parser("forms", parents=[common],
                              help="regenerate the word-form table of the lexicons (needs the dev extra: simplemma)")
    forms.set_defaults(func=cmd_kb_forms)
    train = kb_sub.add_parser("train-screen", parents=[common],
                              help="retrain the crisis screen's learned model on the tuning split (a checkout)")
    train.set_defaults(func=cmd_kb_train_screen)
    export = kb_sub.add_parser("export", parents=[common], help="the whole knowledge base as JSON")
    export.add_argument("--json", action="store_true", default=True)
    export.add_argument("--pretty", action="store_true")
    export.set_defaults(func=cmd_kb_export)
    stats = kb_sub.add_parser("stats", parents=[common], help="counts per kind")
    stats.add_argument("--json", action="store_true")
    stats.set_defaults(func=cmd_kb_stats)
    schema = kb_sub.add_parser("schema", parents=[common], help="write JSON Schemas for editors")
    schema.add_argument("--out", default=str(paths.CHECKOUT_DIR / "schema"))
    schema.set_defaults(func=cmd_kb_schema)
    diagram = kb_sub.add_parser("diagram", parents=[common], help="write Mermaid diagrams of the flows (docs/flows.md)")
    diagram.add_argument("--out", default=str(paths.CHECKOUT_DIR / "docs" / "flows.md"), help="file, or - for stdout")
    diagram.add_argument("--conversations", help="flows folder (default: the bundled one)")
    diagram.set_defaults(func=cmd_kb_diagram)

    ask = sub.add_parser("ask", parents=[common], help="search the knowledge")
    ask.add_argument("text", nargs="+")
    ask.add_argument("--json", action="store_true")
    ask.add_argument("--top", type=int, default=5)
    ask.set_defaults(func=cmd_ask)
    est = sub.add_parser("estimate", parents=[common], help="case text on stdin -> stage estimate")
    est.add_argument("--json", action="store_true", default=True)
    est.set_defaults(func=cmd_estimate)
    scr = sub.add_parser("screen", parents=[common], help="text on stdin -> crisis and personal data")
    scr.add_argument("--json", action="store_true", default=True)
    scr.set_defaults(func=cmd_screen)
    usage = sub.add_parser("stats", parents=[common], help="usage statistics (aggregates only)")
    usage.add_argument("--json", action="store_true")
    usage.set_defaults(func=cmd_stats)
    data = sub.add_parser("data", parents=[common], help="stored data: purge, export, delete-user")
    data.add_argument("action", choices=["purge", "export", "delete-user"])
    data.add_argument("user", nargs="?", type=int)
    data.add_argument("--user", dest="user", type=int)
    data.add_argument("--days", type=int, help="retention in days (default IDDT_RETENTION_DAYS or 90)")
    data.set_defaults(func=cmd_data)
    bench = sub.add_parser("bench", parents=[common], help="run the benchmark")
    bench.add_argument("--json", action="store_true")
    bench.add_argument("--quick", action="store_true", help="a short smoke run (CI)")
    bench.set_defaults(func=cmd_bench)
    return parser


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "data" and args.action in ("export", "delete-user") and args.user is None:
        parser.error("data export/delete-user needs a user id")
    func = getattr(args, "func", None) or cmd_chat
    return int(func(args) or 0)


if __name__ == "__main__":
    raise SystemExit(main())
