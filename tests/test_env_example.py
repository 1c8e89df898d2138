"""``.env.example`` documents every setting, and nothing that is not one."""

from __future__ import annotations

import re
from pathlib import Path

from core.settings import Settings

ENV_EXAMPLE = Path(__file__).resolve().parents[1] / ".env.example"


def test_env_example_lists_exactly_the_settings() -> None:
    documented = set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", ENV_EXAMPLE.read_text(encoding="utf-8"), re.MULTILINE))

    assert documented == {name.upper() for name in Settings.model_fields}
