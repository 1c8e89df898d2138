"""The world the fake Discord serves: users, roles, channels, members and a guild, as gateway payloads.

:func:`build_test_guild` makes the non-trivial guild every end-to-end test runs in:

* roles: ``@everyone`` (ordinary permissions, **no** Manage Server) and ``Admin`` (Manage Server);
* channels: a ``Text Channels`` category holding ``#general``, ``#reports`` and ``#off-topic``, and a
  ``Staff`` category holding ``#admin-only`` (hidden from ``@everyone``, open to ``Admin``);
* members: ``OWNER`` (owns the guild), ``ADMIN`` (has the Admin role), ``MEMBER`` (no role) and the
  bot itself.

:attr:`TestWorld.other_guild` is a second, plain guild (``#general`` only, the same owner, member
and bot) for tests of what one server must never see of another.

:meth:`FakeGuild.permissions_for` computes a member's permissions in a channel the way Discord
does (owner, administrator, roles, then channel overwrites), and that value is what interaction
payloads carry, so permission checks in cogs see realistic data.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

import discord

__all__ = [
    "CHANNEL_CATEGORY",
    "CHANNEL_FORUM",
    "CHANNEL_PUBLIC_THREAD",
    "CHANNEL_TEXT",
    "FakeChannel",
    "FakeGuild",
    "FakeMember",
    "FakeRole",
    "FakeUser",
    "PermissionOverwrite",
    "Snowflakes",
    "TestWorld",
    "build_test_world",
]

CHANNEL_TEXT = 0
CHANNEL_CATEGORY = 4
CHANNEL_PUBLIC_THREAD = 11
CHANNEL_FORUM = 15
THREAD_TYPES = (10, 11, 12)
JOINED_AT = "2026-01-01T00:00:00+00:00"


class Snowflakes:
    """Increasing, unique, realistic-looking Discord ids."""

    def __init__(self, start: int = 1_200_000_000_000_000_000) -> None:
        self._counter = itertools.count(start)

    def next(self) -> int:
        return next(self._counter)


@dataclass(frozen=True)
class FakeUser:
    id: int
    username: str
    global_name: str | None = None
    bot: bool = False

    def to_payload(self) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "id": str(self.id),
            "username": self.username,
            "discriminator": "0",
            "global_name": self.global_name,
            "avatar": None,
            "flags": 0,
        }
        if self.bot:
            payload["bot"] = True
        return payload

    @property
    def mention(self) -> str:
        return f"<@{self.id}>"


@dataclass(frozen=True)
class FakeRole:
    id: int
    name: str
    permissions: discord.Permissions
    position: int = 0

    def to_payload(self) -> dict[str, Any]:
        return {
            "id": str(self.id),
            "name": self.name,
            "color": 0,
            "colors": {"primary_color": 0, "secondary_color": None, "tertiary_color": None},
            "hoist": False,
            "icon": None,
            "unicode_emoji": None,
            "position": self.position,
            "permissions": str(self.permissions.value),
            "managed": False,
            "mentionable": False,
            "flags": 0,
        }


@dataclass(frozen=True)
class PermissionOverwrite:
    """A channel overwrite for a role (``type=0``) or a member (``type=1``)."""

    target_id: int
    type: int
    allow: discord.Permissions = field(default_factory=discord.Permissions.none)
    deny: discord.Permissions = field(default_factory=discord.Permissions.none)

    def to_payload(self) -> dict[str, Any]:
        return {"id": str(self.target_id), "type": self.type, "allow": str(self.allow.value), "deny": str(self.deny.value)}


@dataclass(frozen=True)
class FakeChannel:
    id: int
    name: str
    type: int = CHANNEL_TEXT
    parent_id: int | None = None
    position: int = 0
    overwrites: tuple[PermissionOverwrite, ...] = ()
    owner_id: int = 0
    """A thread's creator."""

    def to_payload(self, *, guild_id: int | None = None) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "id": str(self.id),
            "type": self.type,
            "name": self.name,
            "position": self.position,
            "permission_overwrites": [overwrite.to_payload() for overwrite in self.overwrites],
            "parent_id": str(self.parent_id) if self.parent_id else None,
            "nsfw": False,
            "flags": 0,
        }
        if self.type == CHANNEL_TEXT:
            payload.update(topic=None, last_message_id=None, rate_limit_per_user=0)
        if self.type == CHANNEL_FORUM:
            payload.update(topic=None, last_message_id=None, rate_limit_per_user=0, available_tags=[],
                           default_reaction_emoji=None, default_sort_order=None, default_forum_layout=0)
        if self.type in THREAD_TYPES:
            payload.pop("permission_overwrites")
            payload.update(
                owner_id=str(self.owner_id), last_message_id=None, rate_limit_per_user=0, message_count=0, member_count=1,
                thread_metadata={"archived": False, "auto_archive_duration": 1440, "locked": False,
                                 "archive_timestamp": JOINED_AT},
            )
        if guild_id is not None:
            payload["guild_id"] = str(guild_id)
        return payload


@dataclass(frozen=True)
class FakeMember:
    user: FakeUser
    role_ids: tuple[int, ...] = ()

    @property
    def id(self) -> int:
        return self.user.id

    def to_payload(self, *, permissions: discord.Permissions | None = None) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "user": self.user.to_payload(),
            "roles": [str(role_id) for role_id in self.role_ids],
            "joined_at": JOINED_AT,
            "deaf": False,
            "mute": False,
            "flags": 0,
            "nick": None,
            "avatar": None,
            "pending": False,
            "communication_disabled_until": None,
        }
        if permissions is not None:
            payload["permissions"] = str(permissions.value)
        return payload


@dataclass
class FakeGuild:
    """A guild: look things up by name with :meth:`channel`, :meth:`role`, :meth:`member`."""

    id: int
    name: str
    owner_id: int
    roles: list[FakeRole]
    channels: list[FakeChannel]
    members: list[FakeMember]
    threads: list[FakeChannel] = field(default_factory=list)

    @property
    def everyone(self) -> FakeRole:
        return self.role_by_id(self.id)

    def role(self, name: str) -> FakeRole:
        return next(role for role in self.roles if role.name == name)

    def role_by_id(self, role_id: int) -> FakeRole:
        return next(role for role in self.roles if role.id == role_id)

    def channel(self, name: str) -> FakeChannel:
        return next(channel for channel in self.channels if channel.name == name)

    def channel_by_id(self, channel_id: int) -> FakeChannel:
        return next(channel for channel in [*self.channels, *self.threads] if channel.id == channel_id)

    def find_channel(self, channel_id: int) -> FakeChannel | None:
        """A channel or thread of this guild by id, or ``None`` (e.g. deleted)."""
        return next((channel for channel in [*self.channels, *self.threads] if channel.id == channel_id), None)

    def replace_channel(self, channel: FakeChannel) -> None:
        """Put ``channel`` in place of the channel with its id (e.g. with new overwrites)."""
        self.channels = [channel if item.id == channel.id else item for item in self.channels]

    def member(self, user: FakeUser | int) -> FakeMember:
        user_id = user if isinstance(user, int) else user.id
        return next(member for member in self.members if member.id == user_id)

    def base_permissions(self, member: FakeMember) -> discord.Permissions:
        if member.id == self.owner_id:
            return discord.Permissions.all()
        value = self.everyone.permissions.value
        for role_id in member.role_ids:
            value |= self.role_by_id(role_id).permissions.value
        permissions = discord.Permissions(value)
        return discord.Permissions.all() if permissions.administrator else permissions

    def permissions_for(self, member: FakeMember, channel: FakeChannel) -> discord.Permissions:
        """Discord's algorithm: base permissions, then @everyone, role and member overwrites.

        A thread has no overwrites of its own: its parent channel's apply."""
        if channel.type in THREAD_TYPES and channel.parent_id is not None:
            channel = self.channel_by_id(channel.parent_id)
        base = self.base_permissions(member)
        if base.administrator:
            return base
        value = base.value
        overwrites = {(o.type, o.target_id): o for o in channel.overwrites}
        everyone = overwrites.get((0, self.id))
        if everyone is not None:
            value = (value & ~everyone.deny.value) | everyone.allow.value
        role_allow = role_deny = 0
        for role_id in member.role_ids:
            overwrite = overwrites.get((0, role_id))
            if overwrite is not None:
                role_allow |= overwrite.allow.value
                role_deny |= overwrite.deny.value
        value = (value & ~role_deny) | role_allow
        personal = overwrites.get((1, member.id))
        if personal is not None:
            value = (value & ~personal.deny.value) | personal.allow.value
        return discord.Permissions(value)

    def to_payload(self) -> dict[str, Any]:
        """The GUILD_CREATE payload."""
        return {
            "id": str(self.id), "name": self.name, "icon": None, "splash": None, "discovery_splash": None,
            "owner_id": str(self.owner_id), "afk_channel_id": None, "afk_timeout": 300,
            "verification_level": 0, "default_message_notifications": 0, "explicit_content_filter": 0,
            "features": [], "mfa_level": 0, "application_id": None, "system_channel_id": None,
            "system_channel_flags": 0, "rules_channel_id": None, "vanity_url_code": None,
            "description": None, "banner": None, "premium_tier": 0, "preferred_locale": "en-US",
            "public_updates_channel_id": None, "nsfw_level": 0, "premium_progress_bar_enabled": False,
            "unavailable": False, "member_count": len(self.members), "large": False, "joined_at": JOINED_AT,
            "roles": [role.to_payload() for role in self.roles],
            "emojis": [], "stickers": [], "voice_states": [], "presences": [],
            "threads": [thread.to_payload(guild_id=self.id) for thread in self.threads],
            "stage_instances": [], "guild_scheduled_events": [], "soundboard_sounds": [],
            "members": [member.to_payload() for member in self.members],
            "channels": [channel.to_payload() for channel in self.channels],
        }


@dataclass
class TestWorld:
    """Everything the fake serves: the application, the bot user, the humans and the guild."""

    application_id: int
    bot_user: FakeUser
    owner: FakeUser
    admin: FakeUser
    member: FakeUser
    guild: FakeGuild
    other_guild: FakeGuild | None = None

    __test__ = False  # not a pytest test class

    @property
    def guilds(self) -> list[FakeGuild]:
        return [self.guild] if self.other_guild is None else [self.guild, self.other_guild]


def _everyone_permissions() -> discord.Permissions:
    permissions = discord.Permissions.general() | discord.Permissions.text()
    permissions.update(
        manage_guild=False, manage_channels=False, manage_roles=False, manage_webhooks=False,
        manage_expressions=False, manage_messages=False, manage_threads=False, administrator=False,
        view_audit_log=False, view_guild_insights=False, mention_everyone=False, kick_members=False,
        ban_members=False, moderate_members=False,
    )
    return permissions


def build_test_world(ids: Snowflakes | None = None) -> TestWorld:
    """The default world: see the module docstring for what the guild holds."""
    ids = ids or Snowflakes()
    application_id = ids.next()
    bot_user = FakeUser(application_id, "intelbot", bot=True)
    owner = FakeUser(ids.next(), "olivia", "Olivia (owner)")
    admin = FakeUser(ids.next(), "alice", "Alice (admin)")
    member = FakeUser(ids.next(), "bob", "Bob (member)")
    guild_id = ids.next()
    everyone = FakeRole(guild_id, "@everyone", _everyone_permissions(), position=0)
    admin_role = FakeRole(ids.next(), "Admin", discord.Permissions(manage_guild=True, manage_messages=True), position=1)
    bot_role = FakeRole(ids.next(), "intelbot", discord.Permissions(embed_links=True, attach_files=True), position=2)
    text_category = FakeChannel(ids.next(), "Text Channels", CHANNEL_CATEGORY, position=0)
    staff_category = FakeChannel(ids.next(), "Staff", CHANNEL_CATEGORY, position=1)
    hidden = PermissionOverwrite(guild_id, 0, deny=discord.Permissions(view_channel=True))
    admins_see = PermissionOverwrite(admin_role.id, 0, allow=discord.Permissions(view_channel=True))
    bot_sees = PermissionOverwrite(bot_role.id, 0, allow=discord.Permissions(view_channel=True))
    channels = [
        text_category,
        FakeChannel(ids.next(), "general", parent_id=text_category.id, position=0),
        FakeChannel(ids.next(), "reports", parent_id=text_category.id, position=1),
        FakeChannel(ids.next(), "off-topic", parent_id=text_category.id, position=2),
        staff_category,
        FakeChannel(ids.next(), "admin-only", parent_id=staff_category.id, position=3,
                    overwrites=(hidden, admins_see, bot_sees)),
    ]
    members = [
        FakeMember(owner),
        FakeMember(admin, (admin_role.id,)),
        FakeMember(member),
        FakeMember(bot_user, (bot_role.id,)),
    ]
    guild = FakeGuild(guild_id, "Intel Test Guild", owner.id, [everyone, admin_role, bot_role], channels, members)
    return TestWorld(application_id, bot_user, owner, admin, member, guild, _second_guild(ids, owner, member, bot_user))


def _second_guild(ids: Snowflakes, owner: FakeUser, member: FakeUser, bot_user: FakeUser) -> FakeGuild:
    guild_id = ids.next()
    everyone = FakeRole(guild_id, "@everyone", _everyone_permissions(), position=0)
    members = [FakeMember(owner), FakeMember(member), FakeMember(bot_user)]
    general = FakeChannel(ids.next(), "general", position=0)
    return FakeGuild(guild_id, "Second Test Guild", owner.id, [everyone], [general], members)
