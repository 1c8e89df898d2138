"""Logging set-up for both front ends."""

from __future__ import annotations

import logging

from core.settings import Settings

__all__ = ["configure_logging"]


def configure_logging(settings: Settings) -> None:
    logging.basicConfig(
        level=settings.log_level,
        format="%(asctime)s %(levelname)-7s %(name)s: %(message)s",
    )
    # discord.py and httpx are chatty at INFO; keep their warnings.
    for noisy in ("discord.gateway", "httpx", "sentence_transformers"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.getLogger().level))
