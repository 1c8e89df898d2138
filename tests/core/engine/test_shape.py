"""Telling an article from a chat log, a forum thread and a list of notes."""

from __future__ import annotations

from core.engine.shape import document_shape
from core.engine.text import segment_sources

CHAT = """[09:02] priya: morning all, quick sync on the release?
[09:03] tom: fix is merged, but the integration tests are still flaky
[09:04] lena: the sandbox has been slow since Friday
[09:05] priya: ok, rerun them against the recorded fixtures then
[09:06] tom: on it
"""


def test_time_stamped_chat_is_a_conversation_and_each_line_a_message() -> None:
    sentences = segment_sources([CHAT])

    assert document_shape(CHAT) == "conversation"
    assert [sentence.clean for sentence in sentences][:2] == [
        "priya: morning all, quick sync on the release?",
        "tom: fix is merged, but the integration tests are still flaky",
    ]


def test_forum_thread_with_reply_headers_is_a_conversation() -> None:
    thread = (
        "**Thread: Game crashes after the new driver**\n\nMy games crash to desktop after ten minutes.\n\n"
        "**reply from kestrel_dev**\n\nSame here, rolling back the driver fixed it.\n\n"
        "**reply from Marta_W**\n\nFor me it was the memory profile in the BIOS.\n"
    )
    assert document_shape(thread) == "conversation"


def test_bulleted_notes_are_a_list_and_prose_is_an_article() -> None:
    notes = "# Minutes\n\n- Balance is 4,215 pounds.\n- Shed order placed.\n- Open day on 14 June.\n"
    article = "The council approved the budget on Monday.\n\nThe vote was close, 9 to 8.\n"
    assert document_shape(notes) == "list"
    assert document_shape(article) == "article"


def test_interview_questions_and_answers_stay_an_article() -> None:
    interview = (
        "The novelist won the prize last week.\n\n**Q: Was that deliberate?**\n\nA: Completely.\n\n"
        "**Q: What next?**\n\nA: A book set in a city.\n"
    )
    assert document_shape(interview) == "article"
