"""The one set of input rules both front ends call before any work (``core.inputs.check_request_input``)."""

from __future__ import annotations

import pytest

from core.errors import (
    EmptyInputError,
    InputTooLargeError,
    InputTooShortError,
    TooManySourcesError,
    UnsupportedInputError,
)
from core.inputs import FileInfo, InputLimits, attachment_byte_limit, check_request_input
from core.settings import Settings

LIMITS = InputLimits(max_chars=1_000, min_words=5, max_sources=2)
TEXT = "The harbour board agreed to dredge the eastern channel before the autumn storms."


def test_limits_come_from_the_settings() -> None:
    settings = Settings(_env_file=None, max_input_chars=5_000, min_input_words=3, fetch_max_sources=4)  # type: ignore[call-arg]

    assert InputLimits.from_settings(settings) == InputLimits(max_chars=5_000, min_words=3, max_sources=4)


@pytest.mark.parametrize(("filename", "limit"), [("a.txt", 4_000), ("a.md", 4_000), ("a.pdf", 8_000), ("a.html", 8_000)])
def test_byte_limit_per_type(filename: str, limit: int) -> None:
    assert attachment_byte_limit(FileInfo(filename=filename, size=0).suffix, max_chars=1_000) == limit


def test_a_pdf_between_the_text_and_document_limits_is_accepted_and_a_text_file_is_not() -> None:
    check_request_input("", files=(FileInfo(filename="scan.PDF", size=6_000),), limits=LIMITS)

    with pytest.raises(InputTooLargeError) as caught:
        check_request_input("", files=(FileInfo(filename="notes.txt", size=6_000),), limits=LIMITS)

    assert "the limit is 4,000 bytes" in str(caught.value)


@pytest.mark.parametrize(
    ("target", "files", "error"),
    [
        ("", (), EmptyInputError),
        ("too few words", (), InputTooShortError),
        ("word " * 300, (), InputTooLargeError),
        ("https://a.test/1 https://a.test/2 https://a.test/3", (), TooManySourcesError),
        (TEXT, (FileInfo(filename="slides.pptx", size=10),), UnsupportedInputError),
    ],
)
def test_each_rule_refuses_with_its_own_error(target: str, files: tuple[FileInfo, ...], error: type[Exception]) -> None:
    with pytest.raises(error):
        check_request_input(target, files=files, limits=LIMITS)


@pytest.mark.parametrize(
    ("target", "files"),
    [(TEXT, ()), ("https://a.test/1 https://a.test/2", ()), ("", (FileInfo(filename="notes.md", size=100),))],
)
def test_good_input_passes(target: str, files: tuple[FileInfo, ...]) -> None:
    check_request_input(target, files=files, limits=LIMITS)
