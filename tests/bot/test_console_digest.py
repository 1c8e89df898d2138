"""The console's ``/digest <chat file>``: parsing in-process, then the real console as a subprocess."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.console import ConsoleCommand, ConsoleUsageError, parse_command
from bot.console_digest import read_chat_file
from core.errors import InputError
from tests.bot.test_console import REPO_ROOT, _run_console

TEAM_CHAT = REPO_ROOT / "samples" / "team_chat.txt"


def test_digest_takes_a_file_path() -> None:
    assert parse_command("/digest chats/monday.txt") == ConsoleCommand(name="digest", target="chats/monday.txt")


def test_digest_without_a_file_is_a_usage_error() -> None:
    with pytest.raises(ConsoleUsageError, match="Name a chat file"):
        parse_command("/digest")


def test_a_missing_chat_file_is_one_clear_line(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"^Cannot read .*nope\.txt: no such file\.$"):
        read_chat_file(str(tmp_path / "nope.txt"))


def test_the_console_digests_a_chat_file_citing_its_lines(tmp_path: Path) -> None:
    rendered = _run_console(tmp_path, "--run", f"/digest {TEAM_CHAT}")
    as_json = _run_console(tmp_path, "--json", "--run", f"/digest {TEAM_CHAT}")

    assert rendered.returncode == 0, rendered.stderr
    assert "15 messages from 6 people" in rendered.stdout
    assert "Decisions" in rendered.stdout and "#6" in rendered.stdout
    digest = json.loads(as_json.stdout)
    assert [item["message_ids"] for item in digest["decisions"]] == [[6]]
    assert [item["message_ids"] for item in digest["open_questions"]] == [[15]]
