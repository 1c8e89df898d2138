"""store_many embeds in chunks of similar length: every entry must still get its own vector."""

from __future__ import annotations

from core.cache import SemanticCache, StoreItem
from tests.core.cache.conftest import Answer

NS = "autointel:quick:local:v1"
GUILD = 555

STORED_AND_REWORDED = [
    ("Tax?", None),
    ("What is the capital city of Australia?", "What's the capital city of Australia?"),
    ("How do I reset a forgotten password on my laptop running Windows 11 without losing any files?",
     "How can I reset a forgotten password on my Windows 11 laptop without losing any of my files?"),
    ("Why is the sky blue?", "Why is the sky blue in color?"),
    ("Which programming language should a complete beginner learn first if they want to build websites and "
     "small games, and how long does it usually take to get productive?", None),
    ("How many calories are in a banana?", "How many calories does a banana have?"),
] + [(f"Is planet number {number} of the solar system larger than the Earth?", None) for number in range(1, 20)]


async def test_each_entry_of_a_mixed_length_batch_is_found_by_its_rewording(cache: SemanticCache) -> None:
    items = [StoreItem(query_text=text, value=Answer(text=text)) for text, _ in STORED_AND_REWORDED]

    ids = await cache.store_many(GUILD, NS, items)

    for (text, reworded), entry_id in zip(STORED_AND_REWORDED, ids, strict=True):
        exact = await cache.lookup(GUILD, NS, text, model=Answer)
        assert exact is not None and exact.entry_id == entry_id and exact.value.text == text
        if reworded is not None:
            hit = await cache.lookup(GUILD, NS, reworded, model=Answer)
            assert hit is not None and hit.how == "semantic", reworded
            assert hit.entry_id == entry_id and hit.value.text == text
