"""Safe URL fetching and document extraction.

- :mod:`core.fetch.urls`: parsing, numeric-host decoding, cache keys (normalised URL, text fingerprint).
- :mod:`core.fetch.guard`: the SSRF guard, the resolver seam and per-guild domain lists.
- :mod:`core.fetch.transport`: the httpx transport that connects only to checked addresses.
- :mod:`core.fetch.fetcher`: one URL, redirects re-checked, size cap, timeouts, content types.
- :mod:`core.fetch.extract`: charset detection, HTML (trafilatura) and PDF (pypdf) extraction.
- :mod:`core.fetch.reader`: URLs and attachments to documents, batches with bounded concurrency.

This package imports nothing at import time: :mod:`core.inputs` uses the extractors and the reader
uses :mod:`core.inputs`, so import the submodules directly.
"""

from __future__ import annotations

__all__: list[str] = []
