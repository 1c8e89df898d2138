"""A per-user cooldown on ``/autointel``, kept in memory (a restart forgives everyone).

Keyed by guild and user, because the length is a per-guild setting.  Guild 0 (the console and
direct messages) is not exempt: a direct message costs the same as a guild message.  A claim that
led to no analysis (the input was refused) can be released so a typo does not cost a wait.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from core.errors import CooldownError

__all__ = ["UserCooldowns"]

_log = logging.getLogger(__name__)

_PRUNE_ABOVE = 10_000


class UserCooldowns:
    """Remembers when each user may run the command again.  Use on the event loop only."""

    def __init__(self, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._ready_at: dict[tuple[int, int], float] = {}

    def claim(self, *, guild_id: int, user_id: int, seconds: float) -> None:
        """Start the user's cooldown, or raise :class:`CooldownError` with the seconds left."""
        if seconds <= 0:
            return
        now = self._clock()
        key = (guild_id, user_id)
        ready_at = self._ready_at.get(key, 0.0)
        if ready_at > now:
            raise CooldownError(seconds_left=ready_at - now)
        if len(self._ready_at) > _PRUNE_ABOVE:
            self._ready_at = {k: at for k, at in self._ready_at.items() if at > now}
        self._ready_at[key] = now + seconds

    def remaining(self, *, guild_id: int, user_id: int) -> float:
        """Seconds until the user may run the command again (0 when they may now); changes nothing."""
        return max(0.0, self._ready_at.get((guild_id, user_id), 0.0) - self._clock())

    def release(self, *, guild_id: int, user_id: int) -> None:
        """Forget the user's cooldown (their request was refused before any work)."""
        self._ready_at.pop((guild_id, user_id), None)
