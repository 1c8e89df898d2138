"""The per-user cooldown on /autointel."""

from __future__ import annotations

import pytest

from core.cooldown import UserCooldowns
from core.errors import CooldownError


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_second_request_within_the_cooldown_is_refused_with_seconds_left() -> None:
    clock = Clock()
    cooldowns = UserCooldowns(clock=clock)
    cooldowns.claim(guild_id=1, user_id=5, seconds=10)
    clock.now += 3.2

    with pytest.raises(CooldownError) as caught:
        cooldowns.claim(guild_id=1, user_id=5, seconds=10)

    assert caught.value.seconds_left == pytest.approx(6.8)
    assert str(caught.value) == "You are going too fast: try again in 7 seconds."


def test_other_users_and_later_requests_are_not_held_back() -> None:
    clock = Clock()
    cooldowns = UserCooldowns(clock=clock)
    cooldowns.claim(guild_id=1, user_id=5, seconds=10)

    cooldowns.claim(guild_id=1, user_id=6, seconds=10)
    cooldowns.claim(guild_id=2, user_id=5, seconds=10)
    clock.now += 10
    cooldowns.claim(guild_id=1, user_id=5, seconds=10)


def test_zero_seconds_disables_and_release_forgives() -> None:
    cooldowns = UserCooldowns(clock=Clock())
    cooldowns.claim(guild_id=0, user_id=1, seconds=0)
    cooldowns.claim(guild_id=0, user_id=1, seconds=0)
    cooldowns.claim(guild_id=0, user_id=2, seconds=30)
    cooldowns.release(guild_id=0, user_id=2)

    cooldowns.claim(guild_id=0, user_id=2, seconds=30)
