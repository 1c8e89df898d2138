"""The analysis engine: knows nothing of Discord.  Front ends live in ``bot/`` and ``cogs/``."""
