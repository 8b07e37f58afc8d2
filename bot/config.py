"""Settings from the environment and command-line flags (flags win)."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from platformdirs import user_data_dir

from bot import paths


def _ids(value: str | None) -> frozenset[int]:
    return frozenset(int(part) for part in re.split(r"[,\s]+", value or "") if part.strip().lstrip("-").isdigit())


def default_db_path() -> Path:
    return Path(user_data_dir("iddt-bot", appauthor=False)) / "iddt-bot.sqlite"


@dataclass
class Config:
    token: str | None = None
    admin_ids: frozenset[int] = frozenset()
    allowed_ids: frozenset[int] = frozenset()
    invite_code: str | None = None
    db_path: Path = field(default_factory=default_db_path)
    knowledge_dir: Path = field(default_factory=paths.knowledge_dir)
    conversations_dir: Path = field(default_factory=paths.conversations_dir)
    lang: str = "nb"
    retention_days: int = 90
    base_url: str | None = None
    webhook_url: str | None = None
    listen: str = "127.0.0.1"
    port: int = 8443
    webhook_secret: str | None = None
    watch: bool = False

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None, **overrides: object) -> Config:
        env = dict(os.environ if env is None else env)
        config = cls(
            token=env.get("TELEGRAM_BOT_TOKEN") or None,
            admin_ids=_ids(env.get("IDDT_ADMIN_IDS")),
            allowed_ids=_ids(env.get("IDDT_ALLOWED_IDS")),
            invite_code=env.get("IDDT_INVITE_CODE") or None,
            retention_days=int(env.get("IDDT_RETENTION_DAYS") or 90),
        )
        if env.get("IDDT_DB"):
            config.db_path = Path(env["IDDT_DB"])
        if env.get("IDDT_KNOWLEDGE"):
            config.knowledge_dir = Path(env["IDDT_KNOWLEDGE"])
        for key, value in overrides.items():
            if value is not None:
                setattr(config, key, Path(value) if key in ("db_path", "knowledge_dir", "conversations_dir") else value)
        return config

