"""A writer for the crash-safety test: many users complete assessments, until it is killed.

    python tests/crash_writer.py DB [--users N] [--seed S]

Every user is driven step by step, round-robin, through ``BotService.handle`` with scripted
messages and button presses (so at any moment most users are in the middle of an assessment). After a
reply carries the summary document — the user has been told the assessment is complete — it prints
``CONFIRMED <user_id> <number of assessments stored for that user>`` and flushes. ``READY`` is printed
once the service is up. A restarted writer resumes every user from the saved state with /start.
"""

from __future__ import annotations

import argparse
import random
import sys
from pathlib import Path

from bot.config import Config
from bot.engine.replies import Incoming, Reply
from bot.service import BotService

FIRST_USER = 7_000_000
PREFERRED = ("assess",)
"""Keys pressed whenever offered (the welcome menu's "assess a case")."""


class Writer:
    def __init__(self, service: BotService, users: int, seed: int) -> None:
        self.service = service
        self.rng = random.Random(seed)
        self.users = [FIRST_USER + i for i in range(users)]
        self.last: dict[int, list[Reply]] = {}
        self.toggled: dict[int, str | None] = {}

    def send(self, user_id: int, incoming: Incoming) -> None:
        replies = self.service.handle(user_id, incoming)
        self.last[user_id] = replies
        if any(reply.document is not None for reply in replies):
            count = len(self.service.storage.assessments(user_id, limit=1_000_000))
            print(f"CONFIRMED {user_id} {count}", flush=True)

    def step(self, user_id: int) -> None:
        replies = self.last.get(user_id)
        if replies is None:  # first contact in this process: resume (or start) with /start
            self.send(user_id, Incoming.typed("/start"))
            return
        asking = [r for r in replies if r.options]
        if not asking:
            self.send(user_id, Incoming.typed("/vurdering"))
            return
        reply = asking[-1]
        keys = [o.key for o in reply.options]
        if reply.multi and "done" in keys:
            step = (reply.token or "").partition(".")[0]  # ticking a box changes the rest of the token
            if self.toggled.get(user_id) == step:
                key = "done"
            else:
                self.toggled[user_id] = step
                key = self.rng.choice([k for k in keys if k not in ("done", "none")] or keys)
        else:
            key = next((k for k in keys if k in PREFERRED), None) or self.rng.choice(keys)
        self.send(user_id, Incoming.pressed(key, reply.token))

    def run(self) -> None:
        while True:
            for user_id in self.users:
                self.step(user_id)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("db")
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    service = BotService(Config.from_env(db_path=Path(args.db)))
    print("READY", flush=True)
    Writer(service, args.users, args.seed).run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
