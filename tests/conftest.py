"""Shared fixtures: the real bundled knowledge and flows, and services on temporary databases."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from bot.config import Config
from bot.engine.replies import Incoming, Reply
from bot.paths import conversations_dir, knowledge_dir
from bot.service import BotService, load_all


@pytest.fixture(scope="session")
def loaded():
    return load_all(Config())


@pytest.fixture(scope="session")
def kb(loaded):
    return loaded[0]


@pytest.fixture(scope="session")
def flows(loaded):
    return loaded[1]


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """A copy of the bundled knowledge that a test may break."""
    target = tmp_path / "knowledge"
    shutil.copytree(knowledge_dir(), target)
    return target


@pytest.fixture
def flows_folder(tmp_path: Path) -> Path:
    """A copy of the bundled flows that a test may break."""
    target = tmp_path / "conversations"
    shutil.copytree(conversations_dir(), target)
    return target


@pytest.fixture
def make_service(tmp_path: Path) -> Iterator[Callable[..., BotService]]:
    """Build services on one temporary database (a second call simulates a restart)."""
    made: list[BotService] = []

    def make(**overrides) -> BotService:
        config = Config(db_path=tmp_path / "bot.sqlite")
        for key, value in overrides.items():
            setattr(config, key, value)
        service = BotService(config)
        made.append(service)
        return service

    yield make
    for service in made:
        service.close()


class ChatDriver:
    """Talks to a service like a user: types text, presses buttons by label or key."""

    def __init__(self, service: BotService, user_id: int = 42, language_code: str | None = None) -> None:
        self.service = service
        self.user_id = user_id
        self.language_code = language_code
        self.last: list[Reply] = []

    def send(self, text: str) -> list[Reply]:
        return self.act(Incoming.typed(text))

    def act(self, incoming: Incoming) -> list[Reply]:
        """Any action: a photo (``Incoming.media()``), an edit, a front end's failure …"""
        self.last = self.service.handle(self.user_id, incoming, language_code=self.language_code)
        return self.last

    def press(self, label_or_key: str) -> list[Reply]:
        for reply in reversed(self.last):
            for option in reply.options:
                if label_or_key in (option.key, option.label) or option.label.startswith(label_or_key):
                    self.last = self.service.handle(self.user_id, Incoming.pressed(option.key, reply.token))
                    return self.last
        raise AssertionError(f"no button {label_or_key!r} in {[o.label for r in self.last for o in r.options]}")

    @property
    def text(self) -> str:
        return "\n".join(f"{r.title or ''}\n{r.text}" for r in self.last)

    def options(self) -> list[str]:
        return [o.label for r in self.last for o in r.options]


@pytest.fixture
def driver(make_service) -> ChatDriver:
    return ChatDriver(make_service())


def step_version(token: str | None) -> str:
    """The step part of a reply's token (a multi-select adds its ticks after a dot)."""
    return (token or "").partition(".")[0]


def press_until_summary(service: BotService, user_id: int, replies: list[Reply]) -> list[Reply]:
    """Answer each question with its first option (one choice in a multi-select, then done) until the
    summary document arrives; the welcome menu's "assess" is taken when offered."""
    toggled = None
    for _ in range(200):
        if any(r.document is not None for r in replies):
            return replies
        asking = [r for r in replies if r.options]
        assert asking, [r.text[:80] for r in replies]
        reply = asking[-1]
        keys = [o.key for o in reply.options]
        if reply.multi and "done" in keys:
            step = step_version(reply.token)
            key = "done" if toggled == step else keys[0]
            toggled = step
        else:
            key = "assess" if "assess" in keys else keys[0]
        replies = service.handle(user_id, Incoming.pressed(key, reply.token))
    raise AssertionError("the assessment did not finish")
