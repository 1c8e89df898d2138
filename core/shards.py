"""Which guilds a process serves when the bot is split into Discord shards across processes.

Discord assigns guild ``guild_id`` to shard ``(guild_id >> 22) % shard_count`` (the ``>> 22``
drops the snowflake's worker and sequence bits, leaving its timestamp); direct messages always
arrive on shard 0.  A :class:`ShardSet` is the part of that split one process runs, from the
``SHARD_COUNT`` / ``SHARD_IDS`` settings; :func:`split_shards` deals a shard count out to the
processes of ``python -m bot cluster``.  Pure arithmetic: nothing here knows discord.py.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = ["ShardSet", "shard_of", "split_shards"]

# The shard that receives direct messages (and so serves every DM tenant and the console).
DIRECT_MESSAGE_SHARD = 0


def shard_of(guild_id: int, shard_count: int) -> int:
    """The shard Discord sends guild ``guild_id``'s events to."""
    if shard_count < 1:
        raise ValueError("shard_count must be at least 1")
    return (guild_id >> 22) % shard_count


def split_shards(shard_count: int, processes: int) -> list[tuple[int, ...]]:
    """Shards ``0..shard_count-1`` dealt round-robin to ``processes`` processes (each gets at least one)."""
    if processes < 1 or shard_count < processes:
        raise ValueError(f"need 1 <= processes <= shard_count, got {processes} processes for {shard_count} shards")
    return [tuple(range(first, shard_count, processes)) for first in range(processes)]


class ShardSet(BaseModel):
    """The shards one process runs: ``ids`` out of ``count``, validated when built."""

    model_config = ConfigDict(frozen=True)

    count: int = Field(ge=1)
    ids: tuple[int, ...]

    @model_validator(mode="after")
    def _ids_in_range_and_unique(self) -> ShardSet:
        if not self.ids:
            raise ValueError("at least one shard id is needed")
        out_of_range = [shard_id for shard_id in self.ids if not 0 <= shard_id < self.count]
        if out_of_range:
            raise ValueError(f"shard ids must be between 0 and {self.count - 1} (SHARD_COUNT - 1), got {out_of_range}")
        if len(set(self.ids)) != len(self.ids):
            raise ValueError(f"shard ids must be unique, got {list(self.ids)}")
        return self

    @classmethod
    def all_of(cls, count: int) -> ShardSet:
        """Every shard of ``count`` in one process."""
        return cls(count=count, ids=tuple(range(count)))

    def owns(self, tenant_id: int) -> bool:
        """Whether this process serves tenant ``tenant_id`` (a guild; DM and console tenants are not
        positive and live on shard 0)."""
        if tenant_id <= 0:
            return DIRECT_MESSAGE_SHARD in self.ids
        return shard_of(tenant_id, self.count) in self.ids

    def describe(self) -> str:
        """``shards 0,2 of 4``, for logs."""
        return f"shard{'s' if len(self.ids) > 1 else ''} {','.join(map(str, self.ids))} of {self.count}"
