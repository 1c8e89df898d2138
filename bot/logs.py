"""Logging set-up for both front ends: plain or JSON lines, request context, secrets redacted."""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime

from core.logcontext import RequestContextFilter
from core.settings import Settings

__all__ = ["JsonFormatter", "RedactSecretsFilter", "configure_logging"]

_PLAIN_FORMAT = "%(asctime)s %(levelname)-7s %(name)s [guild=%(guild_id)s cmd=%(command)s]: %(message)s"


class RedactSecretsFilter(logging.Filter):
    """Replaces any configured secret (bot token, API keys) in a record with ``[redacted]``."""

    def __init__(self, secrets: list[str]) -> None:
        super().__init__()
        self._secrets = [secret for secret in secrets if len(secret) >= 6]

    def filter(self, record: logging.LogRecord) -> bool:
        if not self._secrets:
            return True
        message = record.getMessage()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        redacted = self._redact(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        if record.exc_text:
            record.exc_text = self._redact(record.exc_text)
        return True

    def _redact(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "[redacted]")
        return text


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time, level, logger, guild, command, message, exception."""

    def format(self, record: logging.LogRecord) -> str:
        payload = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "guild_id": getattr(record, "guild_id", "-"),
            "command": getattr(record, "command", "-"),
            "message": record.getMessage(),
        }
        if record.exc_info or record.exc_text:
            payload["exception"] = record.exc_text or self.formatException(record.exc_info)  # type: ignore[arg-type]
        return json.dumps(payload, ensure_ascii=False, default=str)


def configure_logging(settings: Settings, *, stream: object = None) -> None:
    """Install one handler on the root logger (replacing earlier ones)."""
    handler = logging.StreamHandler(stream or sys.stderr)  # type: ignore[arg-type]
    handler.setFormatter(JsonFormatter() if settings.log_json else logging.Formatter(_PLAIN_FORMAT))
    handler.addFilter(RequestContextFilter())
    secrets = [s.get_secret_value() for s in (settings.discord_token, settings.llm_api_key) if s is not None]
    handler.addFilter(RedactSecretsFilter(secrets))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(settings.log_level)
    # discord.py, httpx and model loaders are chatty at INFO; keep their warnings.
    for noisy in ("discord.gateway", "discord.client", "httpx", "httpcore", "sentence_transformers", "faiss.loader"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
