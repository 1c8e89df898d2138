"""Reading the bot's message components (buttons) as a Discord client shows them."""

from __future__ import annotations

from typing import Any

from tests.e2e.fake_discord import FakeDiscord
from tests.e2e.fake_records import InteractionLog

__all__ = ["buttons", "message_buttons", "message_id"]


def buttons(message: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The message's buttons by label (``custom_id``, ``disabled`` ...)."""
    return {
        component["label"]: component
        for row in message.get("components") or []
        for component in row.get("components") or []
        if component.get("type") == 2
    }


def message_id(fake: FakeDiscord, log: InteractionLog) -> int:
    return int(fake.original_message(log)["id"])


def message_buttons(fake: FakeDiscord, log: InteractionLog) -> dict[str, dict[str, Any]]:
    """The buttons now on the message that answers ``log``."""
    return buttons(fake.original_message(log))
