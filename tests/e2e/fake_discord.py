# Every wait in this harness has a default deadline so a broken bot fails a test instead of hanging
# it; callers would otherwise have to wrap each call in asyncio.timeout.
# ruff: noqa: ASYNC109
"""A loopback fake of Discord's gateway and REST API, for end-to-end tests of the real bot.

The real, unmodified discord.py client (the same :class:`bot.client.IntelBot` that ``python -m bot``
runs) connects to it through the two settings ``DISCORD_API_BASE_URL`` (= :attr:`FakeDiscord.base_url`)
and ``DISCORD_GATEWAY_URL`` (= :attr:`FakeDiscord.gateway_url`).  What it fakes:

* gateway (aiohttp websocket at ``/gateway``): HELLO, IDENTIFY -> READY + GUILD_CREATE (the guild of
  :mod:`tests.e2e.fake_guild`; an IDENTIFY with ``shard: [id, count]`` gets only the guilds with
  ``(guild_id >> 22) % count == id``, and interactions go to their guild's shard), heartbeat ACK, RESUME -> RESUMED, a rejected token -> close 4004;
  :meth:`FakeDiscord.dispatch` sends any event, e.g. INTERACTION_CREATE;
* REST under ``/api/v10``: ``users/@me`` (401 for a wrong token), ``oauth2/applications/@me``,
  ``gateway`` and ``gateway/bot``, command sync (PUT/GET, global and per guild), interaction
  callbacks, webhook messages (``@original`` edit/get/delete, followups and their edits, JSON or
  multipart with files), channel messages; channel history (``GET /channels/{id}/messages`` with
  ``before`` / ``after`` / ``around`` / ``limit``, see :mod:`tests.e2e.fake_history`: 403 unless the
  bot may view the channel and read its history, 404 for a channel that does not exist, content
  blanked without the Message Content intent); anything else is answered 404 and kept in
  :attr:`FakeDiscord.unhandled`;
* threads and forum posts (:meth:`FakeDiscord.add_thread`), channel changes
  (:meth:`FakeDiscord.update_channel`, :meth:`FakeDiscord.delete_channel`, sent as gateway events);
* attachment downloads: files registered with :meth:`FakeDiscord.add_attachment` are served at
  their ``url``.

Every request is recorded (:class:`~tests.e2e.fake_records.RecordedRequest`, files with their
bytes); responses to an interaction are collected on its
:class:`~tests.e2e.fake_records.InteractionLog`.  Typical use::

    log = await fake.run_command("autointel", {"target": text, "depth": "quick"}, user=fake.world.member)
    assert log.deferred
    final = await fake.wait_for_response(log, lambda response: bool(response.files))

Builders for the other interaction kinds: :meth:`FakeDiscord.message_command` (a message context
menu, with ``target_id`` and ``resolved.messages``), :meth:`FakeDiscord.autocomplete`,
:meth:`FakeDiscord.click_button`, :meth:`FakeDiscord.select_menu`, :meth:`FakeDiscord.submit_modal`
(or the ``*_payload`` methods to send a hand-edited payload with :meth:`FakeDiscord.send_interaction`).
"""

from __future__ import annotations

import asyncio
import datetime
import json
import logging
import re
import secrets
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp
import discord
from aiohttp import web

from tests.e2e.fake_guild import (
    CHANNEL_PUBLIC_THREAD,
    FakeChannel,
    FakeGuild,
    FakeUser,
    Snowflakes,
    TestWorld,
    build_test_world,
)
from tests.e2e.fake_history import MESSAGE_CONTENT_INTENT, FakeHistory, history_message, without_content
from tests.e2e.fake_records import (
    InteractionLog,
    InteractionResponse,
    RecordedFile,
    RecordedRequest,
)

__all__ = ["DEFAULT_TOKEN", "FakeAttachment", "FakeDiscord"]

_log = logging.getLogger(__name__)

DEFAULT_TOKEN = "fake-bot-token"
API_PREFIX = "/api/v10"
TIMESTAMP = "2026-01-01T00:00:00+00:00"
ATTACHMENT_SIZE_LIMIT = 10 * 1024 * 1024

# Application command option types, by the Python value a test passes.
_OPTION_TYPES: dict[type, int] = {str: 3, bool: 5, int: 4, float: 10}
_OPTION_ATTACHMENT = 11
_OPTION_CHANNEL = 7

Handler = Callable[[RecordedRequest, re.Match[str]], Awaitable[web.Response]]


def _json_response(payload: Any, status: int = 200) -> web.Response:
    # discord.py wants exactly "application/json" (aiohttp's json_response adds a charset).
    return web.Response(body=json.dumps(payload).encode(), status=status, headers={"Content-Type": "application/json"})


@dataclass(frozen=True)
class FakeAttachment:
    """A file a user attached to an interaction; the fake serves its bytes at :attr:`url`."""

    id: int
    filename: str
    data: bytes
    content_type: str | None
    url: str

    def to_payload(self) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "id": str(self.id), "filename": self.filename, "size": len(self.data),
            "url": self.url, "proxy_url": self.url, "ephemeral": True,
        }
        if self.content_type:
            payload["content_type"] = self.content_type
        return payload


class _GatewaySession:
    """One websocket connection from the bot."""

    def __init__(self, socket: web.WebSocketResponse, session_id: str) -> None:
        self.socket = socket
        self.session_id = session_id
        self.sequence = 0
        self.ready = False
        self.shard: tuple[int, int] = (0, 1)  # [id, count] from IDENTIFY

    def serves(self, guild_id: int) -> bool:
        shard_id, shard_count = self.shard
        return (guild_id >> 22) % shard_count == shard_id

    async def send_dispatch(self, event: str, data: Any) -> None:
        self.sequence += 1
        await self.socket.send_str(json.dumps({"op": 0, "t": event, "s": self.sequence, "d": data}))


class FakeDiscord:
    """The fake: ``async with FakeDiscord() as fake`` (or :meth:`start` / :meth:`close`)."""

    def __init__(self, *, world: TestWorld | None = None, token: str = DEFAULT_TOKEN) -> None:
        self.world = world or build_test_world()
        self.token = token
        self.requests: list[RecordedRequest] = []
        self.unhandled: list[RecordedRequest] = []
        self.interactions: dict[int, InteractionLog] = {}
        self.commands: dict[int | None, list[dict[str, Any]]] = {}
        self.messages: dict[int, dict[str, Any]] = {}
        self.identify_count = 0
        self.resume_count = 0
        # One (shard id, shard count, guild ids sent) per accepted IDENTIFY, in order.
        self.identified: list[tuple[int, int, tuple[int, ...]]] = []
        self.history = FakeHistory()
        self.deleted_channels: set[int] = set()
        self.intents: int | None = None
        """The intents of the last IDENTIFY."""
        self._attachments: dict[int, FakeAttachment] = {}
        self._original_message_ids: dict[str, int] = {}
        self._sessions: list[_GatewaySession] = []
        self._ids = Snowflakes(start=1_300_000_000_000_000_000)
        self._runner: web.AppRunner | None = None
        self._port: int | None = None
        self._changed: asyncio.Condition | None = None
        self._routes = self._build_routes()

    # ------------------------------------------------------------------ lifecycle

    async def __aenter__(self) -> FakeDiscord:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def start(self) -> None:
        """Listen on 127.0.0.1, on a free port."""
        self._changed = asyncio.Condition()
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_get("/gateway", self._gateway)
        app.router.add_get("/attachments/{attachment_id}/{filename}", self._attachment)
        app.router.add_route("*", API_PREFIX + "/{tail:.*}", self._rest)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        server = site._server
        assert server is not None and server.sockets
        self._port = server.sockets[0].getsockname()[1]

    async def close(self) -> None:
        """Close every gateway connection and stop the server.  Idempotent."""
        for session in self._sessions:
            await session.socket.close()
        self._sessions.clear()
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()

    @property
    def base_url(self) -> str:
        """The value for ``DISCORD_API_BASE_URL`` (the bot appends ``/api/v10``)."""
        assert self._port is not None, "start() the fake first"
        return f"http://127.0.0.1:{self._port}"

    @property
    def gateway_url(self) -> str:
        """The value for ``DISCORD_GATEWAY_URL``."""
        return self.base_url.replace("http://", "ws://", 1) + "/gateway"

    # ------------------------------------------------------------------ waiting

    async def wait_for(self, predicate: Callable[[], bool], *, timeout: float = 10.0, what: str = "condition") -> None:
        """Wait until ``predicate()`` holds; it is re-checked after every request and gateway message."""
        assert self._changed is not None
        async with self._changed:
            try:
                await asyncio.wait_for(self._changed.wait_for(predicate), timeout)
            except TimeoutError:
                raise AssertionError(f"timed out after {timeout}s waiting for {what}") from None

    async def _notify(self) -> None:
        assert self._changed is not None
        async with self._changed:
            self._changed.notify_all()

    async def wait_until_ready(self, *, timeout: float = 20.0) -> None:
        """Wait until a bot has identified, got READY and GUILD_CREATE, and synced its commands."""
        await self.wait_for(
            lambda: any(session.ready for session in self._sessions) and bool(self.commands),
            timeout=timeout, what="the bot to connect and sync its commands",
        )

    async def wait_for_response(
        self, log: InteractionLog, predicate: Callable[[InteractionResponse], bool] = lambda _: True,
        *, timeout: float = 30.0,
    ) -> InteractionResponse:
        """The first response to ``log`` matching ``predicate`` (waiting for it if needed)."""
        await self.wait_for(lambda: any(predicate(item) for item in log.responses), timeout=timeout,
                            what=f"a matching response to interaction {log.id}")
        return next(item for item in log.responses if predicate(item))

    async def wait_for_followup(self, log: InteractionLog, *, number: int = 1, timeout: float = 30.0) -> InteractionResponse:
        """The ``number``-th followup message sent for ``log`` (1 = the first)."""
        await self.wait_for(lambda: len(log.followups) >= number, timeout=timeout,
                            what=f"followup #{number} to interaction {log.id}")
        return log.followups[number - 1]

    # ------------------------------------------------------------------ gateway

    async def wait_for_shards(self, shard_count: int, *, timeout: float = 60.0) -> None:
        """Wait until every shard of ``shard_count`` has a ready connection and commands are synced."""
        await self.wait_for(
            lambda: bool(self.commands) and all(self._live(shard_id) for shard_id in range(shard_count)),
            timeout=timeout, what=f"all {shard_count} shards to connect and the commands to be synced",
        )

    def _live(self, shard_id: int | None = None) -> list[_GatewaySession]:
        return [session for session in self._sessions if session.ready and not session.socket.closed
                and (shard_id is None or session.shard[0] == shard_id)]

    async def dispatch(self, event: str, data: Any, *, shard_id: int | None = None) -> None:
        """Send a dispatch event (``op 0``) to the bot's current gateway connection: the one of
        ``shard_id`` if given, else the one serving ``data``'s guild (as Discord routes by guild)."""
        live = self._live(shard_id)
        guild_id = data.get("guild_id") if isinstance(data, dict) and shard_id is None else None
        if guild_id is not None:
            live = [session for session in live if session.serves(int(guild_id))] or live
        assert live, f"no bot is connected to the fake gateway{'' if shard_id is None else f' for shard {shard_id}'}"
        await live[-1].send_dispatch(event, data)

    async def disconnect(self, *, code: int = 4000) -> None:
        """Close the bot's gateway connection as Discord does on a server error (the bot resumes)."""
        for session in self._sessions:
            if not session.socket.closed:
                session.ready = False
                await session.socket.close(code=code, message=b"Unknown error.")

    async def _gateway(self, request: web.Request) -> web.WebSocketResponse:
        socket = web.WebSocketResponse()
        await socket.prepare(request)
        session = _GatewaySession(socket, secrets.token_hex(8))
        self._sessions.append(session)
        await socket.send_str(json.dumps({"op": 10, "d": {"heartbeat_interval": 41250}, "s": None, "t": None}))
        async for message in socket:
            if message.type is not aiohttp.WSMsgType.TEXT:
                continue
            await self._on_gateway_message(session, json.loads(message.data))
            await self._notify()
        return socket

    async def _on_gateway_message(self, session: _GatewaySession, message: dict[str, Any]) -> None:
        op, data = message.get("op"), message.get("d")
        if op == 1:
            await session.socket.send_str(json.dumps({"op": 11, "d": None, "s": None, "t": None}))
        elif op == 2:
            await self._identify(session, data or {})
        elif op == 6:
            await self._resume(session, data or {})

    async def _identify(self, session: _GatewaySession, data: dict[str, Any]) -> None:
        self.identify_count += 1
        self.intents = int(data.get("intents") or 0)
        if data.get("token") != self.token:
            await session.socket.close(code=4004, message=b"Authentication failed.")
            return
        world = self.world
        shard = data.get("shard") or [0, 1]
        session.shard = (int(shard[0]), int(shard[1]))
        guilds = [guild for guild in world.guilds if session.serves(guild.id)]
        self.identified.append((*session.shard, tuple(guild.id for guild in guilds)))
        await session.send_dispatch("READY", {
            "v": 10, "user": world.bot_user.to_payload(),
            "guilds": [{"id": str(guild.id), "unavailable": True} for guild in guilds],
            "session_id": session.session_id, "resume_gateway_url": self.gateway_url,
            "application": {"id": str(world.application_id), "flags": 0}, "shard": list(session.shard),
            "private_channels": [], "relationships": [], "presences": [], "guild_join_requests": [],
        })
        for guild in guilds:
            await session.send_dispatch("GUILD_CREATE", guild.to_payload())
        session.ready = True

    async def _resume(self, session: _GatewaySession, data: dict[str, Any]) -> None:
        self.resume_count += 1
        previous = next((s for s in self._sessions if s.session_id == data.get("session_id")), None)
        if previous is None or data.get("token") != self.token:
            await session.socket.send_str(json.dumps({"op": 9, "d": False, "s": None, "t": None}))
            return
        session.session_id, session.sequence = previous.session_id, previous.sequence
        await session.send_dispatch("RESUMED", {})
        session.ready = True

    # ------------------------------------------------------------------ interactions

    def add_attachment(self, filename: str, data: bytes, *, content_type: str | None = "text/plain") -> FakeAttachment:
        """Register a file a user will attach; pass it as an option value to :meth:`run_command`."""
        attachment_id = self._ids.next()
        url = f"{self.base_url}/attachments/{attachment_id}/{filename}"
        attachment = FakeAttachment(attachment_id, filename, data, content_type, url)
        self._attachments[attachment_id] = attachment
        return attachment

    def original_message(self, log: InteractionLog) -> dict[str, Any]:
        """The message that answers ``log`` as it stands now (after every edit)."""
        message_id = self._original_message_ids.get(log.token)
        assert message_id is not None, f"interaction {log.id} has no response message"
        return self.messages[message_id]

    async def send_interaction(self, payload: dict[str, Any], *, shard_id: int | None = None) -> InteractionLog:
        """Dispatch INTERACTION_CREATE with ``payload`` (to ``shard_id``'s connection if given, else to
        the guild's shard); returns the log its responses will fill."""
        log = InteractionLog(
            id=int(payload["id"]), token=payload["token"], payload=payload,
            sent_at=asyncio.get_running_loop().time(),
        )
        self.interactions[log.id] = log
        await self.dispatch("INTERACTION_CREATE", payload, shard_id=shard_id)
        return log

    async def run_command(
        self, name: str, options: Mapping[str, Any] | None = None, *, user: FakeUser | None = None,
        channel: FakeChannel | None = None, dm: bool = False, timeout: float = 10.0, guild: FakeGuild | None = None,
        shard_id: int | None = None,
    ) -> InteractionLog:
        """Run slash command ``name`` as ``user`` (default: the plain member) in ``channel``
        (default: #general of ``guild``, default the main guild), and wait for the bot's first response.
        ``shard_id`` sends it to that shard's connection instead of the guild's own."""
        payload = self.slash_command_payload(name, options, user=user, channel=channel, dm=dm, guild=guild)
        log = await self.send_interaction(payload, shard_id=shard_id)
        await self.wait_for(lambda: log.callback is not None, timeout=timeout, what=f"a response to /{name}")
        return log

    async def message_command(
        self, name: str, message: dict[str, Any], *, user: FakeUser | None = None, timeout: float = 10.0,
        guild: FakeGuild | None = None,
    ) -> InteractionLog:
        """Run the message context menu ``name`` on ``message`` (a history payload) as ``user``, in the
        message's channel: type 2 with ``data.type`` 3, ``target_id`` and ``resolved.messages``."""
        scope, command = self._find_command(name, command_type=3)
        guild = guild or self.world.guild
        channel = guild.channel_by_id(int(message["channel_id"]))
        payload = self._base_interaction(2, user=user, channel=channel, guild=guild)
        payload["data"] = {
            "id": command["id"], "name": name, "type": 3, "target_id": message["id"],
            "resolved": {"messages": {message["id"]: message}},
        }
        if scope is not None:
            payload["data"]["guild_id"] = str(scope)
        log = await self.send_interaction(payload)
        await self.wait_for(lambda: log.callback is not None, timeout=timeout, what=f"a response to {name!r}")
        return log

    # ------------------------------------------------------------------ history, threads, channels

    def add_history(
        self, channel: FakeChannel, author: FakeUser, content: str, *, at: datetime.datetime,
        message_type: int = 0, reply_to: int | None = None, guild: FakeGuild | None = None,
        attachments: list[dict[str, Any]] | None = None,
    ) -> dict[str, Any]:
        """Add a message to ``channel``'s history, sent by ``author`` at ``at``; returns its payload."""
        guild = guild or self.world.guild
        return self.history.add(history_message(
            channel_id=channel.id, guild_id=guild.id, author=author, content=content, at=at,
            message_type=message_type, reply_to=reply_to, attachments=attachments,
        ))

    async def add_thread(
        self, parent: FakeChannel, name: str, *, guild: FakeGuild | None = None, thread_type: int = CHANNEL_PUBLIC_THREAD,
    ) -> FakeChannel:
        """A thread of ``parent`` (a forum post when ``parent`` is a forum); sent as THREAD_CREATE."""
        guild = guild or self.world.guild
        thread = FakeChannel(self._ids.next(), name, thread_type, parent_id=parent.id, owner_id=guild.owner_id)
        guild.threads.append(thread)
        if self._live_sessions():
            await self.dispatch("THREAD_CREATE", {**thread.to_payload(guild_id=guild.id), "newly_created": True})
        return thread

    async def update_channel(self, channel: FakeChannel, *, guild: FakeGuild | None = None) -> None:
        """Replace a channel (e.g. new permission overwrites) and send CHANNEL_UPDATE."""
        guild = guild or self.world.guild
        guild.replace_channel(channel)
        await self.dispatch("CHANNEL_UPDATE", channel.to_payload(guild_id=guild.id))

    async def delete_channel(self, channel: FakeChannel, *, guild: FakeGuild | None = None) -> None:
        """Delete a channel (its history goes too) and send CHANNEL_DELETE."""
        guild = guild or self.world.guild
        guild.channels = [item for item in guild.channels if item.id != channel.id]
        self.history.channels.pop(channel.id, None)
        self.deleted_channels.add(channel.id)
        await self.dispatch("CHANNEL_DELETE", channel.to_payload(guild_id=guild.id))

    def _live_sessions(self) -> list[_GatewaySession]:
        return [session for session in self._sessions if session.ready and not session.socket.closed]

    def _locate_channel(self, channel_id: int) -> tuple[FakeGuild, FakeChannel] | None:
        for guild in self.world.guilds:
            channel = guild.find_channel(channel_id)
            if channel is not None:
                return guild, channel
        return None

    async def autocomplete(
        self, name: str, options: Mapping[str, Any], *, focused: str, user: FakeUser | None = None,
        channel: FakeChannel | None = None, timeout: float = 10.0,
    ) -> list[dict[str, Any]]:
        """Ask for autocomplete choices while ``focused`` is being typed; returns the choices."""
        payload = self.slash_command_payload(name, options, user=user, channel=channel)
        payload["type"] = 4
        for option in _leaf_options(payload["data"]):
            if option["name"] == focused:
                option["focused"] = True
        log = await self.send_interaction(payload)
        await self.wait_for(lambda: log.callback is not None, timeout=timeout, what="autocomplete choices")
        assert log.callback is not None
        return list(log.callback.request.body["data"]["choices"])

    async def click_button(
        self, custom_id: str, *, message_id: int, user: FakeUser | None = None,
        channel: FakeChannel | None = None, timeout: float = 10.0, guild: FakeGuild | None = None,
    ) -> InteractionLog:
        """Click the button ``custom_id`` on message ``message_id``; waits for the first response."""
        data = {"custom_id": custom_id, "component_type": 2}
        return await self._component(data, message_id=message_id, user=user, channel=channel, timeout=timeout,
                                     guild=guild)

    async def select_menu(
        self, custom_id: str, values: list[str], *, message_id: int, user: FakeUser | None = None,
        channel: FakeChannel | None = None, timeout: float = 10.0,
    ) -> InteractionLog:
        """Choose ``values`` in the string select ``custom_id`` on message ``message_id``."""
        data = {"custom_id": custom_id, "component_type": 3, "values": values}
        return await self._component(data, message_id=message_id, user=user, channel=channel, timeout=timeout)

    async def submit_modal(
        self, custom_id: str, fields: Mapping[str, str], *, user: FakeUser | None = None,
        channel: FakeChannel | None = None, timeout: float = 10.0,
    ) -> InteractionLog:
        """Submit modal ``custom_id`` with text inputs ``fields`` (custom_id -> value)."""
        payload = self._base_interaction(5, user=user, channel=channel)
        rows = [{"type": 1, "components": [{"type": 4, "custom_id": key, "value": value}]} for key, value in fields.items()]
        payload["data"] = {"custom_id": custom_id, "components": rows}
        log = await self.send_interaction(payload)
        await self.wait_for(lambda: log.callback is not None, timeout=timeout, what="a modal response")
        return log

    async def _component(
        self, data: dict[str, Any], *, message_id: int, user: FakeUser | None, channel: FakeChannel | None,
        timeout: float, guild: FakeGuild | None = None,
    ) -> InteractionLog:
        assert message_id in self.messages, f"the bot never sent message {message_id}"
        payload = self._base_interaction(3, user=user, channel=channel, guild=guild)
        payload["data"] = data
        payload["message"] = self.messages[message_id]
        log = await self.send_interaction(payload)
        await self.wait_for(lambda: log.callback is not None, timeout=timeout, what="a component response")
        return log

    # ------------------------------------------------------------------ payload builders

    def slash_command_payload(
        self, name: str, options: Mapping[str, Any] | None = None, *, user: FakeUser | None = None,
        channel: FakeChannel | None = None, dm: bool = False, guild: FakeGuild | None = None,
    ) -> dict[str, Any]:
        """An APPLICATION_COMMAND interaction for a synced command; attachments go in ``resolved``."""
        scope, command = self._find_command(name)
        payload = self._base_interaction(2, user=user, channel=channel, dm=dm, guild=guild)
        resolved: dict[str, Any] = {}
        data: dict[str, Any] = {
            "id": command["id"], "name": name, "type": command.get("type", 1),
            "options": self._encode_options(options or {}, command.get("options") or [], resolved),
        }
        if scope is not None:
            data["guild_id"] = str(scope)
        if resolved:
            data["resolved"] = resolved
        payload["data"] = data
        self._resolved_channel_permissions(payload, user=user or self.world.member, guild=guild)
        return payload

    def _resolved_channel_permissions(self, payload: dict[str, Any], *, user: FakeUser, guild: FakeGuild | None) -> None:
        """A resolved channel carries the invoker's permissions in it, as Discord sends them."""
        guild = guild or self.world.guild
        for channel_id, channel_payload in (payload["data"].get("resolved") or {}).get("channels", {}).items():
            channel = guild.find_channel(int(channel_id))
            if channel is not None and "member" in payload:
                channel_payload["permissions"] = str(guild.permissions_for(guild.member(user), channel).value)

    def _base_interaction(
        self, interaction_type: int, *, user: FakeUser | None = None, channel: FakeChannel | None = None,
        dm: bool = False, guild: FakeGuild | None = None,
    ) -> dict[str, Any]:
        world = self.world
        user = user or world.member
        payload: dict[str, Any] = {
            "id": str(self._ids.next()), "application_id": str(world.application_id), "type": interaction_type,
            "token": f"interaction-token-{secrets.token_hex(12)}", "version": 1, "locale": "en-US",
            "entitlements": [], "attachment_size_limit": ATTACHMENT_SIZE_LIMIT,
            "app_permissions": str(discord.Permissions(view_channel=True, send_messages=True, embed_links=True,
                                                       attach_files=True, read_message_history=True).value),
        }
        if dm:
            dm_channel_id = self._ids.next()
            payload.update(
                user=user.to_payload(), channel_id=str(dm_channel_id), context=1,
                channel={"id": str(dm_channel_id), "type": 1, "recipients": [user.to_payload()], "flags": 0},
                authorizing_integration_owners={"1": str(user.id)},
            )
            return payload
        guild = guild or world.guild
        channel = channel or guild.channel("general")
        member = guild.member(user)
        payload.update(
            guild_id=str(guild.id), guild_locale="en-US", channel_id=str(channel.id),
            channel=channel.to_payload(guild_id=guild.id), context=0,
            member=member.to_payload(permissions=guild.permissions_for(member, channel)),
            guild={"id": str(guild.id), "locale": "en-US", "features": []},
            authorizing_integration_owners={"0": str(guild.id)},
        )
        return payload

    def _find_command(self, name: str, *, command_type: int | None = None) -> tuple[int | None, dict[str, Any]]:
        for scope in sorted(self.commands, key=lambda key: key is None):
            for command in self.commands[scope]:
                if command["name"] == name and command_type in (None, command.get("type", 1)):
                    return scope, command
        raise AssertionError(f"the bot has not synced a command named {name!r}; synced: {self._command_names()}")

    def _command_names(self) -> list[str]:
        return sorted({command["name"] for commands in self.commands.values() for command in commands})

    def _encode_options(
        self, values: Mapping[str, Any], schema: list[dict[str, Any]], resolved: dict[str, Any]
    ) -> list[dict[str, Any]]:
        types = {option["name"]: option["type"] for option in schema}
        encoded = []
        for name, value in values.items():
            option_type = types.get(name)
            if option_type in (1, 2):  # subcommand (group): value is a mapping of its options
                sub_schema = next(option for option in schema if option["name"] == name).get("options") or []
                encoded.append({"name": name, "type": option_type,
                                "options": self._encode_options(value, sub_schema, resolved)})
            elif isinstance(value, FakeChannel):
                located = self._locate_channel(value.id)
                guild = located[0] if located else self.world.guild
                channel_payload = value.to_payload(guild_id=guild.id)
                resolved.setdefault("channels", {})[str(value.id)] = channel_payload
                encoded.append({"name": name, "type": _OPTION_CHANNEL, "value": str(value.id)})
            elif isinstance(value, FakeAttachment):
                resolved.setdefault("attachments", {})[str(value.id)] = value.to_payload()
                encoded.append({"name": name, "type": _OPTION_ATTACHMENT, "value": str(value.id)})
            else:
                encoded.append({"name": name, "type": option_type or _OPTION_TYPES[type(value)], "value": value})
        return encoded

    # ------------------------------------------------------------------ REST

    def _build_routes(self) -> list[tuple[str, re.Pattern[str], Handler]]:
        app = r"(?P<app>\d+)"
        hook = r"/webhooks/(?P<app>\d+)/(?P<token>[^/]+)"
        table: list[tuple[str, str, Handler]] = [
            ("GET", r"/users/@me", self._get_me),
            ("GET", r"/(?:oauth2/)?applications/@me", self._get_application),
            ("GET", r"/gateway(?:/bot)?", self._get_gateway),
            ("PUT", rf"/applications/{app}/commands", self._put_commands),
            ("PUT", rf"/applications/{app}/guilds/(?P<guild>\d+)/commands", self._put_commands),
            ("GET", rf"/applications/{app}/commands", self._get_commands),
            ("GET", rf"/applications/{app}/guilds/(?P<guild>\d+)/commands", self._get_commands),
            ("POST", r"/interactions/(?P<id>\d+)/(?P<token>[^/]+)/callback", self._interaction_callback),
            ("PATCH", hook + r"/messages/@original", self._edit_original),
            ("GET", hook + r"/messages/@original", self._get_original),
            ("DELETE", hook + r"/messages/@original", self._delete_original),
            ("POST", hook, self._followup),
            ("PATCH", hook + r"/messages/(?P<message>\d+)", self._edit_followup),
            ("DELETE", hook + r"/messages/(?P<message>\d+)", self._delete_message),
            ("POST", r"/channels/(?P<channel>\d+)/messages", self._channel_message),
            ("PATCH", r"/channels/(?P<channel>\d+)/messages/(?P<message>\d+)", self._edit_channel_message),
            ("GET", r"/channels/(?P<channel>\d+)/messages/(?P<message>\d+)", self._get_message),
            ("GET", r"/channels/(?P<channel>\d+)/messages", self._channel_history),
        ]
        return [(method, re.compile(pattern + "$"), handler) for method, pattern, handler in table]

    async def _rest(self, request: web.Request) -> web.Response:
        recorded = await self._record(request)
        path = recorded.path.removeprefix(API_PREFIX)
        for method, pattern, handler in self._routes:
            match = pattern.match(path)
            if method == request.method and match:
                response = await handler(recorded, match)
                break
        else:
            self.unhandled.append(recorded)
            response = _json_response({"message": "404: Not Found", "code": 0}, status=404)
        await self._notify()
        return response

    async def _record(self, request: web.Request) -> RecordedRequest:
        body: Any = None
        files: list[RecordedFile] = []
        if request.content_type.startswith("multipart/"):
            body, files = await _read_multipart(request)
        elif request.can_read_body:
            raw = await request.read()
            body = json.loads(raw) if raw else None
        recorded = RecordedRequest(
            method=request.method, path=request.path, query=dict(request.query), body=body, files=tuple(files),
            headers={key: value for key, value in request.headers.items() if key.lower() in ("authorization", "x-audit-log-reason")},
            at=asyncio.get_running_loop().time(),
        )
        self.requests.append(recorded)
        return recorded

    async def _get_me(self, recorded: RecordedRequest, match: re.Match[str]) -> web.Response:
        if recorded.headers.get("Authorization") != f"Bot {self.token}":
            return _json_response({"message": "401: Unauthorized", "code": 0}, status=401)
        return _json_response(self.world.bot_user.to_payload())

    async def _get_application(self, recorded: RecordedRequest, match: re.Match[str]) -> web.Response:
        world = self.world
        return _json_response({
            "id": str(world.application_id), "name": world.bot_user.username, "icon": None, "description": "",
            "rpc_origins": [], "bot_public": True, "bot_require_code_grant": False,
            "owner": world.owner.to_payload(), "verify_key": "00", "team": None, "flags": 0, "summary": "",
            "bot": world.bot_user.to_payload(),
        })

    async def _get_gateway(self, recorded: RecordedRequest, match: re.Match[str]) -> web.Response:
        return _json_response({
            "url": self.gateway_url, "shards": 1,
            "session_start_limit": {"total": 1000, "remaining": 999, "reset_after": 0, "max_concurrency": 1},
        })

    async def _put_commands(self, recorded: RecordedRequest, match: re.Match[str]) -> web.Response:
        scope = int(match["guild"]) if match.groupdict().get("guild") else None
        registered = []
        for command in recorded.body or []:
            stored = {**command, "id": str(self._ids.next()), "application_id": match["app"], "version": "1"}
            stored.setdefault("type", 1)
            stored.setdefault("description", "")  # Discord answers "" for context menus
            if scope is not None:
                stored["guild_id"] = str(scope)
            registered.append(stored)
        self.commands[scope] = registered
        return _json_response(registered)

    async def _get_commands(self, recorded: RecordedRequest, match: re.Match[str]) -> web.Response:
        scope = int(match["guild"]) if match.groupdict().get("guild") else None
        return _json_response(self.commands.get(scope, []))

    async def _interaction_callback(self, recorded: RecordedRequest, match: re.Match[str]) -> web.Response:
        log = self._log_for(interaction_id=int(match["id"]))
        if log is None or log.token != match["token"]:
            return _json_response({"message": "Unknown interaction", "code": 10062}, status=404)
        if log.callback is not None:
            return _json_response({"message": "Interaction has already been acknowledged.", "code": 40060}, status=400)
        log.responses.append(InteractionResponse("callback", recorded))
        callback_type = recorded.body.get("type")
        data = recorded.body.get("data") or {}
        result: dict[str, Any] = {"interaction": {
            "id": str(log.id), "type": log.payload["type"], "activity_instance_id": None,
            "response_message_id": None, "response_message_loading": callback_type == 5,
            "response_message_ephemeral": bool(int(data.get("flags") or 0) & 64),
        }}
        if callback_type in (4, 5):
            message = self._store_message(log.payload.get("channel_id"), data, recorded.files, webhook=True)
            self._original_message_ids[log.token] = int(message["id"])
            result["interaction"]["response_message_id"] = message["id"]
            result["resource"] = {"type": callback_type, "message": message}
        elif callback_type == 7 and "message" in log.payload:
            message_id = int(log.payload["message"]["id"])
            result["resource"] = {"type": 7, "message": self._update_message(message_id, data, recorded.files)}
        return _json_response(result)

    async def _edit_original(self, recorded: RecordedRequest, match: re.Match[str]) -> web.Response:
        log = self._log_for(token=match["token"])
        message_id = self._original_message_ids.get(match["token"])
        if log is None or message_id is None:
            return _json_response({"message": "Unknown Message", "code": 10008}, status=404)
        log.responses.append(InteractionResponse("edit_original", recorded))
        return _json_response(self._update_message(message_id, recorded.body or {}, recorded.files))

    async def _get_original(self, recorded: RecordedRequest, match: re.Match[str]) -> web.Response:
        message_id = self._original_message_ids.get(match["token"])
        if message_id is None:
            return _json_response({"message": "Unknown Message", "code": 10008}, status=404)
        return _json_response(self.messages[message_id])

    async def _delete_original(self, recorded: RecordedRequest, match: re.Match[str]) -> web.Response:
        log = self._log_for(token=match["token"])
        message_id = self._original_message_ids.pop(match["token"], None)
        if log is None or message_id is None:
            return _json_response({"message": "Unknown Message", "code": 10008}, status=404)
        log.responses.append(InteractionResponse("delete_original", recorded))
        self.messages.pop(message_id, None)
        return web.Response(status=204)

    async def _followup(self, recorded: RecordedRequest, match: re.Match[str]) -> web.Response:
        log = self._log_for(token=match["token"])
        if log is None:
            return _json_response({"message": "Unknown Webhook", "code": 10015}, status=404)
        log.responses.append(InteractionResponse("followup", recorded))
        return _json_response(self._store_message(log.payload.get("channel_id"), recorded.body or {},
                                                  recorded.files, webhook=True))

    async def _edit_followup(self, recorded: RecordedRequest, match: re.Match[str]) -> web.Response:
        log = self._log_for(token=match["token"])
        message_id = int(match["message"])
        if log is None or message_id not in self.messages:
            return _json_response({"message": "Unknown Message", "code": 10008}, status=404)
        log.responses.append(InteractionResponse("edit_followup", recorded))
        return _json_response(self._update_message(message_id, recorded.body or {}, recorded.files))

    async def _delete_message(self, recorded: RecordedRequest, match: re.Match[str]) -> web.Response:
        self.messages.pop(int(match["message"]), None)
        return web.Response(status=204)

    async def _channel_message(self, recorded: RecordedRequest, match: re.Match[str]) -> web.Response:
        if int(match["channel"]) in self.deleted_channels:
            return _json_response({"message": "Unknown Channel", "code": 10003}, status=404)
        return _json_response(self._store_message(match["channel"], recorded.body or {}, recorded.files, webhook=False))

    async def _edit_channel_message(self, recorded: RecordedRequest, match: re.Match[str]) -> web.Response:
        message_id = int(match["message"])
        if message_id not in self.messages:
            return _json_response({"message": "Unknown Message", "code": 10008}, status=404)
        return _json_response(self._update_message(message_id, recorded.body or {}, recorded.files))

    async def _get_message(self, recorded: RecordedRequest, match: re.Match[str]) -> web.Response:
        message = self.messages.get(int(match["message"]))
        if message is None:
            return _json_response({"message": "Unknown Message", "code": 10008}, status=404)
        return _json_response(message)

    async def _channel_history(self, recorded: RecordedRequest, match: re.Match[str]) -> web.Response:
        located = self._locate_channel(int(match["channel"]))
        if located is None:
            return _json_response({"message": "Unknown Channel", "code": 10003}, status=404)
        guild, channel = located
        allowed = guild.permissions_for(guild.member(self.world.bot_user), channel)
        if not (allowed.view_channel and allowed.read_message_history):
            return _json_response({"message": "Missing Access", "code": 50001}, status=403)
        query = recorded.query

        def snowflake(key: str) -> int | None:
            return int(query[key]) if query.get(key) else None

        page = self.history.page(channel.id, limit=int(query.get("limit") or 50), before=snowflake("before"),
                                 after=snowflake("after"), around=snowflake("around"))
        if not (self.intents or 0) & MESSAGE_CONTENT_INTENT:
            page = [without_content(message) for message in page]
        return _json_response(page)

    async def _attachment(self, request: web.Request) -> web.Response:
        attachment = self._attachments.get(int(request.match_info["attachment_id"]))
        if attachment is None:
            return web.Response(status=404)
        return web.Response(body=attachment.data, content_type=attachment.content_type or "application/octet-stream")

    # ------------------------------------------------------------------ messages

    def _log_for(self, *, interaction_id: int | None = None, token: str | None = None) -> InteractionLog | None:
        if interaction_id is not None:
            return self.interactions.get(interaction_id)
        return next((log for log in self.interactions.values() if log.token == token), None)

    def _store_message(
        self, channel_id: str | None, payload: dict[str, Any], files: tuple[RecordedFile, ...], *, webhook: bool
    ) -> dict[str, Any]:
        world = self.world
        message_id = self._ids.next()
        message: dict[str, Any] = {
            "id": str(message_id), "channel_id": str(channel_id or 0), "author": world.bot_user.to_payload(),
            "content": "", "timestamp": TIMESTAMP, "edited_timestamp": None, "tts": False,
            "mention_everyone": False, "mentions": [], "mention_roles": [], "attachments": [], "embeds": [],
            "pinned": False, "type": 20 if webhook else 0, "flags": 0, "components": [],
        }
        if webhook:
            message.update(webhook_id=str(world.application_id), application_id=str(world.application_id))
        self.messages[message_id] = message
        return self._update_message(message_id, payload, files)

    def _update_message(self, message_id: int, payload: dict[str, Any], files: tuple[RecordedFile, ...]) -> dict[str, Any]:
        message = self.messages[message_id]
        for key in ("content", "embeds", "components", "flags"):
            if key in payload:
                message[key] = payload[key] if payload[key] is not None else ([] if key != "content" else "")
        if "attachments" in payload or files:
            message["attachments"] = [self._attachment_record(item) for item in files]
        return message

    def _attachment_record(self, item: RecordedFile) -> dict[str, Any]:
        attachment_id = self._ids.next()
        url = f"{self.base_url}/attachments/{attachment_id}/{item.filename}"
        self._attachments[attachment_id] = FakeAttachment(attachment_id, item.filename, item.data, item.content_type, url)
        return {"id": str(attachment_id), "filename": item.filename, "size": len(item.data), "url": url,
                "proxy_url": url, "content_type": item.content_type}


def _leaf_options(data: dict[str, Any]) -> list[dict[str, Any]]:
    options = data.get("options") or []
    for option in options:
        if option.get("type") in (1, 2):
            return _leaf_options(option)
    return options


async def _read_multipart(request: web.Request) -> tuple[Any, list[RecordedFile]]:
    body: Any = None
    files: list[RecordedFile] = []
    reader = await request.multipart()
    async for part in reader:
        if not isinstance(part, aiohttp.BodyPartReader):
            continue
        data = await part.read()
        if part.name == "payload_json":
            body = json.loads(data)
        else:
            files.append(RecordedFile(part.name or "", part.filename or "", part.headers.get("Content-Type"), bytes(data)))
    return body, files
