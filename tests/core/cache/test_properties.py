"""Random store / lookup / forget / clear / restart / time sequences across guilds (hypothesis).

Properties: no lookup ever returns another guild's or another namespace's entry, or an expired
one; every stored, unexpired, unforgotten entry is found by its exact text with its latest value.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.embedder import Embedder
from core.gate import WorkerGate
from core.settings import Settings
from tests.core.cache.conftest import Answer, CacheHarness, MovableClock

DAY = 86_400.0
TTL = 7 * DAY
GUILDS = (1, 2, 3)
NAMESPACES = ("autointel:quick:local:v1", "autointel:deep:local:v1")
TEXTS = (
    "How did the central bank change interest rates this spring?",
    "Which teams reached the final of the football cup this season?",
    "What are the side effects of the new malaria vaccine?",
    "How many electric cars were sold in Norway last year?",
    "Why did the river flood the old town in November?",
)
REWORDED = (
    "How did the central bank change its interest rates this spring?",
    "Which teams made it to the final of the football cup this season?",
    "What side effects does the new malaria vaccine have?",
    "How many electric cars did Norway sell last year?",
    "Why did the river flood the old town during November?",
)


@dataclass
class Stored:
    entry_id: int
    value: str
    expires_at: float


operation = st.one_of(
    st.tuples(st.just("store"), st.sampled_from(GUILDS), st.sampled_from(NAMESPACES), st.integers(0, len(TEXTS) - 1)),
    st.tuples(st.just("lookup"), st.sampled_from(GUILDS), st.sampled_from(NAMESPACES), st.integers(0, len(TEXTS) - 1),
              st.booleans()),
    st.tuples(st.just("forget"), st.sampled_from(GUILDS), st.integers(0, 30)),
    st.tuples(st.just("clear"), st.sampled_from(GUILDS)),
    st.tuples(st.just("advance"), st.sampled_from((0.5 * DAY, 3 * DAY, 8 * DAY))),
    st.tuples(st.just("restart")),
)


class Model:
    """What the cache should hold: (guild, namespace, text index) -> latest stored entry."""

    def __init__(self, clock: MovableClock) -> None:
        self.clock = clock
        self.entries: dict[tuple[int, str, int], Stored] = {}
        self.stores = 0

    def alive(self, key: tuple[int, str, int]) -> Stored | None:
        stored = self.entries.get(key)
        return stored if stored is not None and stored.expires_at > self.clock() else None

    def purge_expired(self, guild_id: int) -> None:
        self.entries = {
            key: stored for key, stored in self.entries.items()
            if key[0] != guild_id or stored.expires_at > self.clock()
        }

    def by_id(self, entry_id: int) -> tuple[tuple[int, str, int], Stored] | None:
        return next(((key, stored) for key, stored in self.entries.items() if stored.entry_id == entry_id), None)


async def run_operation(harness: CacheHarness, model: Model, step: tuple) -> None:
    cache = harness.cache
    assert cache is not None
    kind = step[0]
    if kind == "store":
        _, guild_id, namespace, text = step
        model.stores += 1
        value = f"{guild_id}|{namespace}|{text}|{model.stores}"
        model.purge_expired(guild_id)  # a store purges its guild's expired rows
        entry_id = await cache.store(guild_id, namespace, TEXTS[text], Answer(text=value))
        model.entries[(guild_id, namespace, text)] = Stored(entry_id, value, model.clock() + TTL)
    elif kind == "lookup":
        await check_lookup(harness, model, *step[1:])
    elif kind == "forget":
        _, guild_id, entry_id = step
        owned = model.by_id(entry_id)
        removed = await cache.forget(guild_id, entry_id)
        assert removed == (owned is not None and owned[0][0] == guild_id)
        if removed and owned is not None:
            del model.entries[owned[0]]
    elif kind == "clear":
        await cache.clear(step[1])
        model.entries = {key: stored for key, stored in model.entries.items() if key[0] != step[1]}
    elif kind == "advance":
        model.clock.advance(step[1])
    else:
        await harness.restart()


async def check_lookup(harness: CacheHarness, model: Model, guild_id: int, namespace: str, text: int, reworded: bool) -> None:
    assert harness.cache is not None
    query = REWORDED[text] if reworded else TEXTS[text]
    hit = await harness.cache.lookup(guild_id, namespace, query, model=Answer)
    expected = model.alive((guild_id, namespace, text))
    if not reworded and expected is not None:
        assert hit is not None and (hit.how, hit.entry_id, hit.value.text) == ("exact", expected.entry_id, expected.value)
    if hit is None:
        return
    owner = model.by_id(hit.entry_id)
    assert owner is not None, "served an entry that was forgotten, cleared or replaced"
    (owner_guild, owner_namespace, _), stored = owner
    assert (owner_guild, owner_namespace) == (guild_id, namespace), "served another guild's or namespace's entry"
    assert model.alive(owner[0]) is not None, "served an expired entry"
    assert hit.value.text == stored.value
    stored.expires_at = model.clock() + TTL


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=st.lists(operation, min_size=1, max_size=14))
async def test_random_sequences_keep_guilds_apart_and_entries_findable(
    steps: list[tuple], gate: WorkerGate, embedder: Embedder
) -> None:
    with tempfile.TemporaryDirectory() as directory:
        settings_ = Settings(_env_file=None, data_dir=Path(directory) / "data")  # type: ignore[call-arg]
        clock = MovableClock()
        harness = CacheHarness(settings_, gate, embedder, clock)
        model = Model(clock)
        await harness.open()
        try:
            for step in steps:
                await run_operation(harness, model, step)
            for key in list(model.entries):
                await check_lookup(harness, model, key[0], key[1], key[2], False)
        finally:
            await harness.close()
