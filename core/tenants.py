"""Who a request belongs to: the one place that turns "where and who" into a tenant id.

Every store (the semantic cache, the report library, guild settings, the LLM ledger, cooldowns)
keys its rows by an integer the code calls ``guild_id``; this module decides what that integer is.

* A Discord server: its guild id (a snowflake, always positive).
* A direct message: the user's own tenant, ``-user_id``.  Each DM user sees only what they made;
  one user's cached report (its evidence quotes hold their text) never reaches another.
* The console: :data:`CONSOLE_TENANT_ID` (``-1``), a reserved id no Discord user can map to
  (snowflakes are far above 1).
* ``0`` is never a tenant.  Before this module every DM user and the console shared tenant 0;
  rows left under it are never served to anyone (:func:`require_tenant` refuses it).

Both front ends call :func:`tenant_for`; core code calls :func:`require_tenant` where it reads.
"""

from __future__ import annotations

import logging

from core.errors import InvalidTenantError

__all__ = [
    "CONSOLE_TENANT_ID",
    "LEGACY_SHARED_TENANT_ID",
    "is_direct_message_tenant",
    "require_tenant",
    "tenant_for",
]

_log = logging.getLogger(__name__)

CONSOLE_TENANT_ID = -1
# The id every DM user and the console shared before tenants were split; never served again.
LEGACY_SHARED_TENANT_ID = 0


def tenant_for(*, guild_id: int | None, user_id: int, console: bool = False) -> int:
    """The tenant of a request: the guild, else the DM user's own tenant, or the console's."""
    if console:
        return CONSOLE_TENANT_ID
    if guild_id is not None:
        if guild_id <= 0:
            raise InvalidTenantError(guild_id)
        return guild_id
    if user_id <= 1:  # -1 is the console's; Discord user ids are snowflakes, far above 1
        raise InvalidTenantError(-user_id)
    return -user_id


def is_direct_message_tenant(tenant_id: int) -> bool:
    """Whether ``tenant_id`` is one DM user's own tenant."""
    return tenant_id < CONSOLE_TENANT_ID


def require_tenant(tenant_id: int) -> int:
    """``tenant_id`` if it may be read or written; the old shared tenant 0 raises."""
    if tenant_id == LEGACY_SHARED_TENANT_ID:
        raise InvalidTenantError(tenant_id)
    return tenant_id
