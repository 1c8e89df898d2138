"""Chat lines ``[time] author: message`` for the console's /digest."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from core.digest.chatlog import ChatLogError, parse_chat_lines

DAY = date(2026, 3, 2)


def test_clock_times_take_the_start_date_and_roll_over_midnight() -> None:
    messages = parse_chat_lines("[23:58] alice: late\n[00:03] bob: early", start_date=DAY)

    assert [m.created_at for m in messages] == [datetime(2026, 3, 2, 23, 58, tzinfo=UTC),
                                                datetime(2026, 3, 3, 0, 3, tzinfo=UTC)]
    assert [(m.author, m.content, m.message_id) for m in messages] == [("alice", "late", 1), ("bob", "early", 2)]


def test_full_dates_offsets_and_continuation_lines() -> None:
    text = "[2026-03-02 14:05] Alice Smith: first line\n  second line\n\n[2026-03-02T15:00+01:00] bob: hi: there"

    first, second = parse_chat_lines(text)

    assert first.content == "first line\nsecond line"
    assert first.created_at == datetime(2026, 3, 2, 14, 5, tzinfo=UTC)
    assert second.created_at == datetime(2026, 3, 2, 14, 0, tzinfo=UTC)
    assert second.content == "hi: there"
    assert first.author_id != second.author_id


def test_same_author_keeps_one_id_whatever_the_case() -> None:
    messages = parse_chat_lines("[10:00] Bob: a\n[10:01] bob: b", start_date=DAY)

    assert messages[0].author_id == messages[1].author_id


@pytest.mark.parametrize(("text", "problem"), [
    ("hello there", "Line 1: this is not a chat line"),
    ("[10:00] a: b\n[25:00] c: d", "Line 2: '25:00' is not a time of day"),
    ("[yesterday] a: b", "Line 1: 'yesterday' is not a time"),
])
def test_bad_lines_name_the_line_and_the_problem(text: str, problem: str) -> None:
    with pytest.raises(ChatLogError) as caught:
        parse_chat_lines(text, start_date=DAY)

    assert str(caught.value).startswith(problem)
