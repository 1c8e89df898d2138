-- The daily budget row a reservation updates in one statement (spent + reserved <= budget), and
-- the guild-local "Wrong answer?" pairs of the cache verifier.
CREATE TABLE llm_budget (
    guild_id     BIGINT           NOT NULL,
    day          TEXT             NOT NULL,
    spent_usd    DOUBLE PRECISION NOT NULL DEFAULT 0,
    reserved_usd DOUBLE PRECISION NOT NULL DEFAULT 0,
    PRIMARY KEY (guild_id, day)
);
INSERT INTO llm_budget (guild_id, day, spent_usd, reserved_usd)
    SELECT guild_id, day, SUM(cost_usd), 0 FROM llm_spend GROUP BY guild_id, day;

CREATE TABLE cache_feedback (
    guild_id    BIGINT           NOT NULL,
    namespace   TEXT             NOT NULL,
    query_key   TEXT             NOT NULL,
    stored_key  TEXT             NOT NULL,
    query_text  TEXT             NOT NULL,
    stored_text TEXT             NOT NULL,
    entry_id    BIGINT           NOT NULL,
    user_id     BIGINT           NOT NULL,
    created_at  DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (guild_id, namespace, query_key, stored_key)
);
