-- The schema as it was before versioned migrations: every statement is IF NOT EXISTS, so a
-- database created by an older release adopts version 1 unchanged.
CREATE TABLE IF NOT EXISTS cache_entries (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    guild_id       INTEGER NOT NULL,
    namespace      TEXT    NOT NULL,
    key_hash       TEXT    NOT NULL,
    query_text     TEXT    NOT NULL,
    embedding      BLOB,
    value_type     TEXT    NOT NULL,
    schema_version INTEGER NOT NULL,
    payload        TEXT    NOT NULL,
    created_at     REAL    NOT NULL,
    last_used_at   REAL    NOT NULL,
    expires_at     REAL    NOT NULL,
    hit_count      INTEGER NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX IF NOT EXISTS cache_entries_key ON cache_entries (guild_id, namespace, key_hash);
CREATE INDEX IF NOT EXISTS cache_entries_lru ON cache_entries (guild_id, last_used_at);
CREATE INDEX IF NOT EXISTS cache_entries_expiry ON cache_entries (guild_id, expires_at);
CREATE TABLE IF NOT EXISTS cache_aliases (
    guild_id  INTEGER NOT NULL,
    namespace TEXT    NOT NULL,
    key_hash  TEXT    NOT NULL,
    entry_id  INTEGER NOT NULL REFERENCES cache_entries (id) ON DELETE CASCADE,
    PRIMARY KEY (guild_id, namespace, key_hash)
);
CREATE INDEX IF NOT EXISTS cache_aliases_entry ON cache_aliases (entry_id);
CREATE TABLE IF NOT EXISTS cache_counters (
    guild_id      INTEGER PRIMARY KEY,
    exact_hits    INTEGER NOT NULL DEFAULT 0,
    semantic_hits INTEGER NOT NULL DEFAULT 0,
    misses        INTEGER NOT NULL DEFAULT 0,
    stale         INTEGER NOT NULL DEFAULT 0,
    evictions     INTEGER NOT NULL DEFAULT 0,
    expired       INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS cache_lookups_hourly (
    guild_id INTEGER NOT NULL,
    hour     INTEGER NOT NULL,
    hits     INTEGER NOT NULL DEFAULT 0,
    lookups  INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (guild_id, hour)
);

CREATE TABLE IF NOT EXISTS reports (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    guild_id    INTEGER NOT NULL,
    user_id     INTEGER NOT NULL,
    title       TEXT NOT NULL,
    source_urls TEXT NOT NULL DEFAULT '',
    depth       TEXT NOT NULL,
    engine      TEXT NOT NULL,
    payload     TEXT NOT NULL,
    fingerprint TEXT NOT NULL DEFAULT '',
    created_at  REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS reports_by_guild ON reports (guild_id, id DESC);
CREATE INDEX IF NOT EXISTS reports_by_fingerprint ON reports (guild_id, fingerprint);
CREATE TABLE IF NOT EXISTS report_chunks (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    report_id INTEGER NOT NULL REFERENCES reports (id) ON DELETE CASCADE,
    guild_id  INTEGER NOT NULL,
    kind      TEXT NOT NULL,
    text      TEXT NOT NULL,
    embedding BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS report_chunks_by_guild ON report_chunks (guild_id);

CREATE TABLE IF NOT EXISTS guild_settings (
    guild_id   INTEGER PRIMARY KEY,
    data       TEXT NOT NULL,
    updated_at REAL NOT NULL
);

CREATE TABLE IF NOT EXISTS llm_spend (
    guild_id          INTEGER NOT NULL,
    day               TEXT    NOT NULL,
    model             TEXT    NOT NULL,
    calls             INTEGER NOT NULL DEFAULT 0,
    prompt_tokens     INTEGER NOT NULL DEFAULT 0,
    completion_tokens INTEGER NOT NULL DEFAULT 0,
    cost_usd          REAL    NOT NULL DEFAULT 0,
    PRIMARY KEY (guild_id, day, model)
);
