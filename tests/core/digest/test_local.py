"""The local digest engine on a real chat, with the real embedder."""

from __future__ import annotations

from datetime import timedelta

from core.digest.local import LocalDigester, digest_messages, find_urls_in, usable_messages
from core.digest.models import ChatMessage
from core.embedder import Embedder
from core.gate import WorkerGate
from tests.core.digest.chat_samples import START, chat


def test_topics_separate_the_two_conversations_and_name_who_drove_them(embedder: Embedder) -> None:
    digest = digest_messages(chat(), embedder)

    titles = " ".join(topic.title.lower() for topic in digest.topics)
    assert len(digest.topics) >= 2
    assert "release" in titles or "compiler" in titles
    assert "lunch" in titles or "thai" in titles
    lunch = next(topic for topic in digest.topics if "lunch" in topic.title.lower() or "thai" in topic.title.lower())
    assert lunch.drivers[0].startswith(("dave", "erin"))
    assert all(message_id >= 9 for message_id in lunch.message_ids)


def test_decision_open_question_and_links_cite_their_messages(embedder: Embedder) -> None:
    digest = digest_messages(chat(), embedder)

    assert [item.message_ids for item in digest.decisions] == [[6]]
    assert [item.message_ids for item in digest.open_questions] == [[15]]
    assert "wifi maintenance" in digest.open_questions[0].text
    assert {link.url for link in digest.links} == {"https://docs.example.com/release-notes",
                                                   "https://thai.example.org/menu"}
    assert all(link.line for link in digest.links)


def test_every_cited_message_has_its_jump_url(embedder: Embedder) -> None:
    digest = digest_messages(chat(), embedder)

    assert digest.cited_ids()
    assert set(digest.jump_urls) == digest.cited_ids()
    assert digest.jump_urls[6] == "https://discord.com/channels/1/2/6"


def test_a_question_someone_replied_to_is_not_open(embedder: Embedder) -> None:
    messages = chat()
    answer = ChatMessage(message_id=99, author_id=1, author="gus", created_at=START + timedelta(hours=1),
                         content="Tuesday night.", reply_to=15)

    digest = digest_messages([*messages, answer], embedder)

    assert digest.open_questions == []


def test_bots_system_messages_and_opted_out_members_are_left_out() -> None:
    messages = chat()
    bot = messages[0].model_copy(update={"message_id": 50, "is_bot": True})
    system = messages[0].model_copy(update={"message_id": 51, "is_system": True})
    alice_id = messages[0].author_id

    kept, skipped = usable_messages([*messages, bot, system], excluded_authors=frozenset({alice_id}))

    assert skipped == 2 + sum(1 for message in messages if message.author_id == alice_id)
    assert all(message.author_id != alice_id and not message.is_bot for message in kept)


def test_urls_lose_trailing_punctuation_and_repeat_once() -> None:
    assert find_urls_in("see https://a.example/x, and (https://b.example/y). https://a.example/x") == [
        "https://a.example/x", "https://b.example/y"]


async def test_the_digester_runs_through_the_gate(embedder: Embedder, gate: WorkerGate) -> None:
    digest = await LocalDigester(embedder=embedder, gate=gate).digest(chat())

    assert digest.message_count == 15
    assert gate.stats.completed == 1
