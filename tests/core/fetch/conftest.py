"""Fixtures for the fetch tests: the loopback web server."""

from __future__ import annotations

from tests.fakes.web_server import web_server

__all__ = ["web_server"]
