"""The console chat: the same service as Telegram, in a terminal.

Options are numbered; typing a number presses that button (the service also understands the
label or a close misspelling). When stdin is not a terminal, each line is one message, so a whole
session can be scripted.
"""

from __future__ import annotations

import sys
from typing import TextIO

from bot.engine.replies import Incoming, Reply

CONSOLE_USER_ID = 1


class ConsoleChat:
    def __init__(self, service, out: TextIO = sys.stdout, user_id: int = CONSOLE_USER_ID) -> None:
        self.service = service
        self.out = out
        self.user_id = user_id
        self.buttons: list[tuple[str, str | None]] = []

    def render(self, replies: list[Reply]) -> None:
        for reply in replies:
            if reply.options:
                self.buttons = [(o.key, reply.token) for o in reply.options]
            self.out.write("\n")
            if reply.title:
                self.out.write(f"== {reply.title} ==\n")
            if reply.text:
                self.out.write(reply.text.rstrip() + "\n")
            for number, option in enumerate(reply.options, 1):
                mark = "[x] " if option.selected else ("[ ] " if reply.multi and option.key not in ("done", "none") else "")
                self.out.write(f"  {number}. {mark}{option.label}\n")
            if reply.document is not None:
                self.out.write(f"\n--- {reply.document.filename} ---\n{reply.document.content}\n--- end ---\n")
        self.out.flush()

    def to_incoming(self, line: str) -> Incoming:
        """A number presses the matching button; anything else is typed text."""
        stripped = line.strip()
        if stripped.isdigit() and self.buttons:
            index = int(stripped) - 1
            if 0 <= index < len(self.buttons):
                key, token = self.buttons[index]
                return Incoming.pressed(key, token)
        return Incoming.typed(stripped)

    def send(self, line: str) -> list[Reply]:
        replies = self.service.handle(self.user_id, self.to_incoming(line))
        self.render(replies)
        return replies

    def run(self, stdin: TextIO = sys.stdin) -> int:
        interactive = stdin.isatty()
        if interactive:
            self.out.write("iddt-bot (console). /hjelp for help, Ctrl-D to quit.\n")
        self.send("/start")
        while True:
            if interactive:
                self.out.write("\n> ")
                self.out.flush()
            line = stdin.readline()
            if not line:
                break
            if not line.strip():
                continue
            if not interactive:
                self.out.write(f"\n> {line.strip()}\n")
            self.send(line)
        return 0
