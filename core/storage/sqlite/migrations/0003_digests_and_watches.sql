-- Issue 13: members who keep their messages out of digests and analyses (per guild), scheduled
-- digests, and watched pages.
CREATE TABLE privacy_optouts (
    guild_id   INTEGER NOT NULL,
    user_id    INTEGER NOT NULL,
    created_at REAL    NOT NULL,
    PRIMARY KEY (guild_id, user_id)
);

CREATE TABLE digest_schedules (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    guild_id          INTEGER NOT NULL,
    source_channel_id INTEGER NOT NULL,
    post_channel_id   INTEGER NOT NULL,
    every             TEXT    NOT NULL,
    at_time           TEXT    NOT NULL,
    timezone          TEXT    NOT NULL,
    created_by        INTEGER NOT NULL,
    created_at        REAL    NOT NULL,
    next_run_at       REAL    NOT NULL,
    last_run_at       REAL,
    paused            INTEGER NOT NULL DEFAULT 0,
    paused_reason     TEXT
);
CREATE INDEX digest_schedules_due ON digest_schedules (paused, next_run_at);
CREATE INDEX digest_schedules_guild ON digest_schedules (guild_id);

CREATE TABLE page_watches (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    guild_id        INTEGER NOT NULL,
    url             TEXT    NOT NULL,
    post_channel_id INTEGER NOT NULL,
    every_minutes   INTEGER NOT NULL,
    created_by      INTEGER NOT NULL,
    created_at      REAL    NOT NULL,
    next_check_at   REAL    NOT NULL,
    etag            TEXT,
    last_modified   TEXT,
    text_hash       TEXT,
    snapshot        TEXT,
    failures        INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT,
    last_checked_at REAL
);
CREATE INDEX page_watches_due ON page_watches (next_check_at);
CREATE INDEX page_watches_guild ON page_watches (guild_id);
