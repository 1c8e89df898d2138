from __future__ import annotations

import io
import json
import logging

from bot.logs import configure_logging
from core.logcontext import bind_request
from core.settings import Settings


def _settings(**values: object) -> Settings:
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


def test_json_log_line_carries_guild_and_command() -> None:
    stream = io.StringIO()
    configure_logging(_settings(log_json=True), stream=stream)
    with bind_request(guild_id=42, command="autointel"):
        logging.getLogger("core.test").info("analysing %d sources", 2)
    logging.getLogger("core.test").info("outside")
    first, second = (json.loads(line) for line in stream.getvalue().splitlines())
    assert first["guild_id"] == 42 and first["command"] == "autointel"
    assert first["message"] == "analysing 2 sources"
    assert second["guild_id"] == "-" and second["command"] == "-"


def test_token_and_api_key_never_appear_in_logs() -> None:
    stream = io.StringIO()
    token, api_key = "MTAw.secret-bot-token.xyz", "sk-or-v1-abcdef123456"
    configure_logging(_settings(discord_token=token, llm_api_key=api_key), stream=stream)
    log = logging.getLogger("bot.test")
    log.warning("connecting with %s", token)
    try:
        raise RuntimeError(f"rejected key {api_key}")
    except RuntimeError:
        log.exception("call failed")
    output = stream.getvalue()
    assert token not in output and api_key not in output
    assert output.count("[redacted]") >= 2
