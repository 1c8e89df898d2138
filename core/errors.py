"""The one error tree of the analysis engine.

Every error a user can cause or meet is an :class:`IntelError`. Each class builds its own short,
user-facing message in ``__init__`` and carries typed attributes; front ends (the Discord cogs and
the console) show ``str(error)`` and nothing else. Lower-level exceptions are wrapped at the
boundary with ``raise SomeIntelError(...) from exc`` so the traceback stays in the log.
"""

from __future__ import annotations

__all__ = [
    "AllSourcesFailedError",
    "BlockedUrlError",
    "BudgetExceededError",
    "BusyError",
    "CacheClosedError",
    "CacheError",
    "CacheUnavailableError",
    "ConfigError",
    "CooldownError",
    "EmptyInputError",
    "FetchError",
    "FetchTimeoutError",
    "GateClosedError",
    "InputError",
    "InputTooLargeError",
    "InputTooShortError",
    "IntelError",
    "InvalidTenantError",
    "LLMAuthError",
    "LLMCircuitOpenError",
    "LLMError",
    "LLMModelNotFoundError",
    "LLMOutputError",
    "LLMRejectedError",
    "LLMTimeoutError",
    "LLMTransientError",
    "LLMUnavailableError",
    "SourceTooLargeError",
    "StorageError",
    "StorageUnavailableError",
    "TooManySourcesError",
    "UnreadableSourceError",
    "UnsupportedContentError",
    "UnsupportedInputError",
    "UrlNotSupportedError",
]


class IntelError(Exception):
    """Base of every error the engine raises on purpose.

    ``str(error)`` is a short message fit to show a user: no traceback, no internals.
    """

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class ConfigError(IntelError):
    """A setting is missing or malformed.  Inherits from :class:`IntelError`."""

    def __init__(self, setting: str, problem: str) -> None:
        self.setting = setting
        self.problem = problem
        super().__init__(f"{setting}: {problem}")


class InputError(IntelError):
    """The input cannot be analysed.  Inherits from :class:`IntelError`."""


class EmptyInputError(InputError):
    """Nothing to analyse.  Inherits from :class:`InputError`."""

    def __init__(self) -> None:
        super().__init__("There is nothing to analyse: the text is empty.")


class InputTooShortError(InputError):
    """Too little text for a meaningful report.  Inherits from :class:`InputError`."""

    def __init__(self, *, words: int, minimum: int) -> None:
        self.words = words
        self.minimum = minimum
        super().__init__(
            f"The text is too short to analyse ({words} words); give at least {minimum} words."
        )


class InputTooLargeError(InputError):
    """More text than the engine accepts.  Inherits from :class:`InputError`."""

    def __init__(self, *, size: int, limit: int, unit: str = "characters") -> None:
        self.size = size
        self.limit = limit
        self.unit = unit
        super().__init__(
            f"The input is too large ({size:,} {unit}); the limit is {limit:,} {unit}."
        )


class UnsupportedInputError(InputError):
    """The input is not text the engine can read (binary, wrong file type).

    Inherits from :class:`InputError`.
    """

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


class UnreadableSourceError(InputError):
    """A file or page held no text the engine could extract (scanned PDF, empty page).

    Inherits from :class:`InputError`.
    """

    def __init__(self, source: str, reason: str) -> None:
        self.source = source
        self.reason = reason
        super().__init__(f"{source}: {reason}")


class UrlNotSupportedError(InputError):
    """A URL was given where URLs are not accepted.  Inherits from :class:`InputError`."""

    def __init__(self, url: str) -> None:
        self.url = url
        super().__init__(
            "URL analysis is not available in this build yet; paste the article's text instead."
        )


class FetchError(IntelError):
    """A source could not be fetched or was refused.  Inherits from :class:`IntelError`."""

    def __init__(self, url: str, reason: str) -> None:
        self.url = url
        self.reason = reason
        super().__init__(f"Could not use {url}: {reason}")


class BlockedUrlError(FetchError):
    """The URL is refused before any request (scheme, port, private address, domain list).

    Inherits from :class:`FetchError`.
    """


class UnsupportedContentError(FetchError):
    """The server answered with a content type the engine cannot read.

    Inherits from :class:`FetchError`.
    """

    def __init__(self, url: str, content_type: str) -> None:
        self.content_type = content_type
        super().__init__(
            url, f"it is {content_type or 'of unknown type'}; only HTML, plain text, Markdown and PDF are read"
        )


class SourceTooLargeError(FetchError):
    """The response body passed the size cap.  Inherits from :class:`FetchError`."""

    def __init__(self, url: str, *, limit_bytes: int) -> None:
        self.limit_bytes = limit_bytes
        super().__init__(url, f"it is larger than the {limit_bytes / 1_048_576:.1f} MB limit")


class FetchTimeoutError(FetchError):
    """The server was too slow.  Inherits from :class:`FetchError`."""

    def __init__(self, url: str, *, seconds: float) -> None:
        self.seconds = seconds
        super().__init__(url, f"the server did not answer within {seconds:g} seconds")


class AllSourcesFailedError(IntelError):
    """Every source of a request failed; ``failures`` holds one "<url>: <reason>" line each.

    Inherits from :class:`IntelError`.
    """

    def __init__(self, failures: list[str]) -> None:
        self.failures = list(failures)
        super().__init__("None of the sources could be used: " + "; ".join(self.failures))


class TooManySourcesError(InputError):
    """More URLs than one request may hold.  Inherits from :class:`InputError`."""

    def __init__(self, *, count: int, limit: int) -> None:
        self.count = count
        self.limit = limit
        super().__init__(f"Too many URLs ({count}); give at most {limit} per request.")


class LLMError(IntelError):
    """The language model could not produce a report.  Inherits from :class:`IntelError`."""


class BudgetExceededError(LLMError):
    """The guild's daily LLM budget is spent.  Inherits from :class:`LLMError`."""

    def __init__(self, *, spent_usd: float, budget_usd: float) -> None:
        self.spent_usd = spent_usd
        self.budget_usd = budget_usd
        super().__init__(
            f"This server's daily LLM budget is used up (${spent_usd:.2f} of ${budget_usd:.2f})."
        )


class LLMTransientError(LLMError):
    """One LLM call failed in a way worth retrying (429, 5xx, timeout, connection).

    Inherits from :class:`LLMError`.  ``retry_after`` is the server's ``Retry-After`` in seconds.
    """

    def __init__(self, reason: str, *, status: int | None = None, retry_after: float | None = None) -> None:
        self.reason = reason
        self.status = status
        self.retry_after = retry_after
        super().__init__(f"the LLM service failed ({reason})")


class LLMTimeoutError(LLMTransientError):
    """One attempt got no answer in time: the endpoint may be hanging.

    Inherits from :class:`LLMTransientError` (retried, and a failure for the circuit breaker).
    """

    def __init__(self, *, seconds: float) -> None:
        self.seconds = seconds
        super().__init__(f"no answer within {seconds:.0f} seconds")


class LLMUnavailableError(LLMError):
    """Retries ran out (attempts or time budget).  Inherits from :class:`LLMError`."""

    def __init__(self, *, attempts: int, last_reason: str) -> None:
        self.attempts = attempts
        self.last_reason = last_reason
        super().__init__(f"the LLM service is unavailable ({last_reason})")


class LLMCircuitOpenError(LLMError):
    """The endpoint's circuit breaker is open.  Inherits from :class:`LLMError`."""

    def __init__(self, *, endpoint: str, retry_in_seconds: float) -> None:
        self.endpoint = endpoint
        self.retry_in_seconds = retry_in_seconds
        super().__init__("the LLM service is failing, so it is paused for a while")


class LLMRejectedError(LLMError):
    """The endpoint refused the request (400, 401, 403, 404): retrying cannot help.

    Inherits from :class:`LLMError`.
    """

    def __init__(self, message: str, *, status: int, detail: str = "") -> None:
        self.status = status
        self.detail = detail
        super().__init__(message)


class LLMAuthError(LLMRejectedError):
    """401/403: the API key is missing or rejected.  Inherits from :class:`LLMRejectedError`."""

    def __init__(self, *, status: int, detail: str = "") -> None:
        super().__init__(
            "the LLM API key was rejected (admin: check LLM_API_KEY)", status=status, detail=detail
        )


class LLMModelNotFoundError(LLMRejectedError):
    """404: the endpoint does not know the model.  Inherits from :class:`LLMRejectedError`."""

    def __init__(self, *, model: str, detail: str = "") -> None:
        self.model = model
        super().__init__(
            f"the LLM model {model!r} was not found (admin: check LLM_MODEL)", status=404, detail=detail
        )


class LLMOutputError(LLMError):
    """The LLM's answer was not a valid report, even after one repair attempt.

    Inherits from :class:`LLMError`.
    """

    def __init__(self, problem: str) -> None:
        self.problem = problem
        super().__init__("the LLM's answer was not a valid report")


class CooldownError(IntelError):
    """The user ran ``/autointel`` too recently.  Inherits from :class:`IntelError`."""

    def __init__(self, *, seconds_left: float) -> None:
        self.seconds_left = seconds_left
        super().__init__(f"You are going too fast: try again in {max(1, round(seconds_left))} seconds.")


class BusyError(IntelError):
    """The analysis queue is full: refused at once rather than left waiting.

    Inherits from :class:`IntelError`.
    """

    def __init__(self) -> None:
        super().__init__("The bot is busy: try again in a minute.")


class CacheError(IntelError):
    """The semantic cache failed in a way the caller must know about.

    Inherits from :class:`IntelError`.
    """


class CacheUnavailableError(CacheError):
    """The cache's storage failed; the request goes on without the cache.  Inherits from :class:`CacheError`."""

    def __init__(self) -> None:
        super().__init__("The report cache is unavailable right now.")


class CacheClosedError(CacheError):
    """The cache was used after it was closed.  Inherits from :class:`CacheError`."""

    def __init__(self) -> None:
        super().__init__("The report cache is shutting down; try again in a moment.")


class InvalidTenantError(IntelError, ValueError):
    """A tenant id that must never be read or written (0: the old shared DM tenant).

    Inherits from :class:`IntelError` and :class:`ValueError` (so a request model refuses it).
    A bug in a front end, not a user's mistake: front ends get tenants from
    :func:`core.tenants.tenant_for`, which never returns 0.
    """

    def __init__(self, tenant_id: int) -> None:
        self.tenant_id = tenant_id
        super().__init__(f"Tenant {tenant_id} is not a tenant: the old shared DM tenant is never served.")


class StorageError(IntelError):
    """The database failed.  Inherits from :class:`IntelError`."""


class StorageUnavailableError(StorageError):
    """The database could not be reached or refused a statement; the cause is chained.

    Inherits from :class:`StorageError`.
    """

    def __init__(self, backend: str) -> None:
        self.backend = backend
        super().__init__("The bot's database is unavailable right now; try again in a moment.")


class GateClosedError(IntelError):
    """Work was submitted to a worker gate that is closed.  Inherits from :class:`IntelError`."""

    def __init__(self) -> None:
        super().__init__("The analysis engine is shutting down; try again in a moment.")
