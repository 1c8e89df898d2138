"""The shard formula, how shards are dealt to processes, and the SHARD_COUNT / SHARD_IDS settings."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from core.errors import ConfigError
from core.settings import load_settings
from core.shards import ShardSet, shard_of, split_shards

# Real snowflakes: the Discord API server and discord.py's own guild.
DISCORD_API_GUILD = 81384788765712384
DISCORD_PY_GUILD = 336642139381301249


def test_shard_of_is_the_snowflake_timestamp_modulo_the_count() -> None:
    assert shard_of(DISCORD_API_GUILD, 1) == 0
    assert shard_of(DISCORD_API_GUILD, 2) == (DISCORD_API_GUILD >> 22) % 2
    assert shard_of(DISCORD_PY_GUILD, 16) == (DISCORD_PY_GUILD >> 22) % 16
    assert shard_of((5 << 22) + 123_456, 4) == 1  # the low 22 bits (worker, sequence) do not count


def test_guilds_created_in_the_same_millisecond_share_a_shard() -> None:
    base = 1_000_000 << 22
    assert {shard_of(base + low_bits, 7) for low_bits in (0, 1, 4095, (1 << 22) - 1)} == {shard_of(base, 7)}


def test_shard_of_refuses_a_zero_count() -> None:
    with pytest.raises(ValueError, match="shard_count"):
        shard_of(DISCORD_API_GUILD, 0)


def test_split_shards_gives_every_shard_to_exactly_one_process() -> None:
    assert split_shards(2, 2) == [(0,), (1,)]
    assert split_shards(5, 2) == [(0, 2, 4), (1, 3)]
    assert split_shards(4, 1) == [(0, 1, 2, 3)]
    dealt = [shard for process in split_shards(64, 7) for shard in process]
    assert sorted(dealt) == list(range(64))


def test_split_shards_refuses_more_processes_than_shards() -> None:
    with pytest.raises(ValueError, match="processes"):
        split_shards(2, 3)


def test_a_shard_set_owns_exactly_the_guilds_of_its_shards() -> None:
    first, second = ShardSet(count=2, ids=(0,)), ShardSet(count=2, ids=(1,))
    guilds = [(timestamp << 22) + 17 for timestamp in range(1_000, 1_050)]

    owned_by_first = {guild for guild in guilds if first.owns(guild)}
    owned_by_second = {guild for guild in guilds if second.owns(guild)}

    assert owned_by_first.isdisjoint(owned_by_second)
    assert owned_by_first | owned_by_second == set(guilds)
    assert len(owned_by_first) == len(owned_by_second) == 25


def test_direct_messages_and_the_console_belong_to_shard_zero() -> None:
    assert ShardSet(count=2, ids=(0,)).owns(-123456789)
    assert not ShardSet(count=2, ids=(1,)).owns(-123456789)


@pytest.mark.parametrize(
    ("count", "ids", "problem"),
    [(2, (2,), "between 0 and 1"), (3, (0, 0), "unique"), (2, (), "at least one"), (2, (-1,), "between 0 and 1")],
)
def test_a_shard_set_refuses_ids_out_of_range_repeated_or_none(count: int, ids: tuple[int, ...], problem: str) -> None:
    with pytest.raises(ValidationError, match=problem):
        ShardSet(count=count, ids=ids)


def test_unset_shard_settings_mean_one_unsharded_connection() -> None:
    assert load_settings(_env_file=None).shards is None


def test_shard_ids_are_read_as_a_comma_list(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHARD_COUNT", "4")
    monkeypatch.setenv("SHARD_IDS", " 1, 3 ")

    assert load_settings(_env_file=None).shards == ShardSet(count=4, ids=(1, 3))


def test_shard_count_alone_runs_every_shard_in_this_process(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHARD_COUNT", "3")

    assert load_settings(_env_file=None).shards == ShardSet(count=3, ids=(0, 1, 2))


@pytest.mark.parametrize(
    ("environment", "message"),
    [
        ({"SHARD_COUNT": "2", "SHARD_IDS": "0,2"}, r"SHARD_IDS: .*between 0 and 1 \(SHARD_COUNT - 1\), got \[2\]"),
        ({"SHARD_COUNT": "2", "SHARD_IDS": "1,1"}, r"SHARD_IDS: .*unique, got \[1, 1\]"),
        ({"SHARD_IDS": "0"}, r"SHARD_IDS: .*needs SHARD_COUNT"),
        ({"SHARD_COUNT": "2", "SHARD_IDS": "first"}, r"SHARD_IDS: .*comma-separated list"),
        ({"SHARD_COUNT": "0"}, r"SHARD_COUNT: "),
    ],
    ids=["out-of-range", "repeated", "no-count", "not-numbers", "zero-count"],
)
def test_bad_shard_settings_stop_start_up_naming_the_setting(
    monkeypatch: pytest.MonkeyPatch, environment: dict[str, str], message: str
) -> None:
    for name, value in environment.items():
        monkeypatch.setenv(name, value)

    with pytest.raises(ConfigError, match=message):
        load_settings(_env_file=None)
