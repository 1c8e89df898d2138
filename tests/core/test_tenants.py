"""Tenants: each DM user and the console on their own; the old shared tenant 0 never served.

The property test runs the real cache (real SQLite file, real FAISS files, the real embedder):
DM users store and look up the same and reworded questions in random order, and no lookup by one
user ever returns an entry another user stored.
"""

from __future__ import annotations

import sqlite3
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from core.embedder import Embedder
from core.errors import InvalidTenantError
from core.gate import WorkerGate
from core.settings import Settings
from core.tenants import CONSOLE_TENANT_ID, LEGACY_SHARED_TENANT_ID, require_tenant, tenant_for
from tests.core.cache.conftest import Answer, CacheHarness, MovableClock

NS = "autointel:quick:local:v1"
DM_USERS = (184_467_440_737_095_516, 184_467_440_737_095_517, 290_000_000_000_000_001)
QUESTIONS = (
    "How did the central bank change interest rates this spring?",
    "What are the side effects of the new malaria vaccine?",
    "Why did the river flood the old town in November?",
)
REWORDED = (
    "How did the central bank change its interest rates this spring?",
    "What side effects does the new malaria vaccine have?",
    "Why did the river flood the old town during November?",
)


def test_a_guild_is_its_own_tenant() -> None:
    assert tenant_for(guild_id=123_456_789_012, user_id=DM_USERS[0]) == 123_456_789_012


def test_each_dm_user_is_a_tenant_of_their_own_and_never_a_guild_or_the_console() -> None:
    tenants = {tenant_for(guild_id=None, user_id=user_id) for user_id in DM_USERS}

    assert len(tenants) == len(DM_USERS)
    assert all(tenant < 0 and tenant != CONSOLE_TENANT_ID for tenant in tenants)
    assert tenant_for(guild_id=None, user_id=0, console=True) == CONSOLE_TENANT_ID


@pytest.mark.parametrize(("guild_id", "user_id"), [(0, 5), (None, 0), (None, 1), (-3, 5)])
def test_ids_that_would_collide_are_refused(guild_id: int | None, user_id: int) -> None:
    with pytest.raises(InvalidTenantError):
        tenant_for(guild_id=guild_id, user_id=user_id)


def test_the_old_shared_tenant_is_refused() -> None:
    with pytest.raises(InvalidTenantError):
        require_tenant(LEGACY_SHARED_TENANT_ID)


async def test_a_tenant_0_row_in_the_database_is_never_returned(
    settings: Settings, gate: WorkerGate, embedder: Embedder
) -> None:
    harness = CacheHarness(settings, gate, embedder, MovableClock())
    cache = await harness.open()
    dm_tenant = tenant_for(guild_id=None, user_id=DM_USERS[0])
    await cache.store(dm_tenant, NS, QUESTIONS[0], Answer(text="shared secret"), keys=["https://example.com/a"])
    await harness.close()
    # What the old code left behind: the same rows under the shared tenant 0.
    with sqlite3.connect(harness.settings.database_path) as connection:
        connection.execute("UPDATE cache_entries SET guild_id = 0")
        connection.execute("UPDATE cache_aliases SET guild_id = 0")
    cache = await harness.open()

    for tenant in (*(tenant_for(guild_id=None, user_id=user) for user in DM_USERS), CONSOLE_TENANT_ID):
        assert await cache.lookup(tenant, NS, QUESTIONS[0], model=Answer) is None
        assert await cache.lookup(tenant, NS, REWORDED[0], model=Answer) is None
        assert await cache.lookup_key(tenant, NS, "https://example.com/a", model=Answer) is None
    with pytest.raises(InvalidTenantError):
        await cache.lookup(LEGACY_SHARED_TENANT_ID, NS, QUESTIONS[0], model=Answer)
    with pytest.raises(InvalidTenantError):
        await cache.store(LEGACY_SHARED_TENANT_ID, NS, QUESTIONS[1], Answer(text="new"))
    await harness.close()


operation = st.one_of(
    st.tuples(st.just("store"), st.sampled_from(DM_USERS), st.integers(0, len(QUESTIONS) - 1)),
    st.tuples(st.just("lookup"), st.sampled_from(DM_USERS), st.integers(0, len(QUESTIONS) - 1), st.booleans()),
    st.tuples(st.just("restart")),
)


@hypothesis_settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(operations=st.lists(operation, min_size=2, max_size=10))
async def test_no_lookup_by_one_dm_user_returns_another_users_entry(
    operations: list[tuple], gate: WorkerGate, embedder: Embedder
) -> None:
    with tempfile.TemporaryDirectory() as directory:
        isolated = Settings(_env_file=None, data_dir=Path(directory))  # type: ignore[call-arg]
        harness = CacheHarness(isolated, gate, embedder, MovableClock())
        cache = await harness.open()
        owner_of: dict[int, int] = {}  # entry id -> the DM user who stored it
        try:
            for step in operations:
                if step[0] == "restart":
                    cache = await harness.restart()
                    continue
                user_id, question = step[1], step[2]
                tenant = tenant_for(guild_id=None, user_id=user_id)
                if step[0] == "store":
                    entry_id = await cache.store(tenant, NS, QUESTIONS[question], Answer(text=str(user_id)))
                    owner_of[entry_id] = user_id
                    continue
                text = REWORDED[question] if step[3] else QUESTIONS[question]
                hit = await cache.lookup(tenant, NS, text, model=Answer)
                if hit is not None:
                    assert owner_of[hit.entry_id] == user_id
                    assert hit.value.text == str(user_id)
        finally:
            await harness.close()
