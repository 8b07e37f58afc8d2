"""Where the bundled knowledge and flows live: the installed package data, or the checkout."""

from __future__ import annotations

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
CHECKOUT_DIR = PACKAGE_DIR.parent


def bundled(name: str) -> Path:
    """The folder ``name`` (``knowledge`` or ``conversations``).

    A non-editable install carries it as ``bot/_data/<name>``; a checkout (or an editable install)
    has it beside the package.
    """
    installed = PACKAGE_DIR / "_data" / name
    if installed.is_dir():
        return installed
    return CHECKOUT_DIR / name


def knowledge_dir() -> Path:
    return bundled("knowledge")


def conversations_dir() -> Path:
    return bundled("conversations")
