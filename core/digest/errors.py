"""Errors of the digest features; each message is fit to show a user as it is."""

from __future__ import annotations

from core.errors import InputError, IntelError

__all__ = ["DigestAccessError", "MessageContentDisabledError", "ScheduleError"]

MESSAGE_CONTENT_HELP = (
    "Digests need the Message Content intent: the bot's owner must set MESSAGE_CONTENT_INTENT=true and turn on "
    "\"Message Content Intent\" (Developer Portal > the application > Bot > Privileged Gateway Intents), then restart."
)


class MessageContentDisabledError(IntelError):
    """``/digest`` without the Message Content intent.  Inherits from :class:`IntelError`."""

    def __init__(self) -> None:
        super().__init__(MESSAGE_CONTENT_HELP)


class DigestAccessError(IntelError):
    """The invoker or the bot may not read a channel's history.  Inherits from :class:`IntelError`."""

    def __init__(self, message: str, *, who: str) -> None:
        self.who = who
        super().__init__(message)


class ScheduleError(InputError):
    """A schedule that cannot be made or found.  Inherits from :class:`InputError`."""
