from __future__ import annotations

import pytest

from core.embedder import Embedder
from core.gate import WorkerGate
from core.models import IntelReport
from core.reports import ReportLibrary, ReportNotFoundError
from core.storage import Storage
from tests.conftest import OpenStorage
from tests.report_factory import url_report

GUILD, OTHER_GUILD = 111, 222


def _report(title: str, url: str, summary: str, evidence: list[str]) -> IntelReport:
    return url_report(title, url, summary, evidence, with_theme=True)


SOLAR = _report(
    "Solar power growth", "https://example.org/solar",
    "Solar capacity in Spain doubled between 2020 and 2024. Cheaper panels drove most of the growth.",
    ["Panel prices fell by 40 percent over four years, which made rooftop solar profitable for households.",
     "Grid operators in Spain now curtail solar output at midday because of oversupply."],
)
COFFEE = _report(
    "Coffee harvest", "https://example.org/coffee",
    "Brazil's coffee harvest shrank after a severe frost in July. Arabica futures rose sharply.",
    ["The frost destroyed roughly a fifth of the arabica trees in Minas Gerais.",
     "Roasters in Europe raised retail prices twice in six months."],
)


@pytest.fixture
async def library(storage: Storage, embedder: Embedder, gate: WorkerGate) -> ReportLibrary:
    """A report library on each storage backend (SQLite and PostgreSQL)."""
    return ReportLibrary(storage.reports, embedder=embedder, gate=gate)


async def test_ask_cites_the_report_that_answers(library: ReportLibrary) -> None:
    solar_id = await library.add(guild_id=GUILD, user_id=1, report=SOLAR)
    await library.add(guild_id=GUILD, user_id=1, report=COFFEE)
    answer = await library.ask(guild_id=GUILD, question="Why did solar panels become cheaper to install?")
    assert answer.found
    assert answer.citations[0].report_id == solar_id
    assert answer.citations[0].source_urls == ["https://example.org/solar"]
    assert "[1]" in answer.text


async def test_ask_never_sees_another_guilds_reports(library: ReportLibrary) -> None:
    await library.add(guild_id=OTHER_GUILD, user_id=1, report=COFFEE)
    await library.add(guild_id=GUILD, user_id=1, report=SOLAR)
    answer = await library.ask(guild_id=GUILD, question="What happened to the coffee harvest in Brazil?")
    assert all(c.title != "Coffee harvest" for c in answer.citations)
    assert all("frost" not in passage.text for passage in answer.passages)


async def test_ask_says_plainly_when_reports_have_no_answer(library: ReportLibrary) -> None:
    await library.add(guild_id=GUILD, user_id=1, report=SOLAR)
    answer = await library.ask(guild_id=GUILD, question="Who won the 1998 football world cup final?")
    assert not answer.found
    assert "do not contain an answer" in answer.text
    assert answer.citations == []


async def test_history_lists_newest_first_and_get_is_guild_scoped(library: ReportLibrary) -> None:
    first = await library.add(guild_id=GUILD, user_id=1, report=SOLAR)
    second = await library.add(guild_id=GUILD, user_id=1, report=COFFEE)
    history = await library.history(GUILD)
    assert [item.report_id for item in history] == [second, first]
    assert (await library.get(GUILD, first)).summary == SOLAR.summary
    with pytest.raises(ReportNotFoundError):
        await library.get(OTHER_GUILD, first)


async def test_index_is_rebuilt_from_rows_after_restart(open_storage: OpenStorage, embedder: Embedder,
                                                        gate: WorkerGate) -> None:
    storage = await open_storage()
    reports = ReportLibrary(storage.reports, embedder=embedder, gate=gate)
    solar_id = await reports.add(guild_id=GUILD, user_id=1, report=SOLAR)
    await storage.close()
    reopened = ReportLibrary((await open_storage()).reports, embedder=embedder, gate=gate)
    hits = await reopened.search(guild_id=GUILD, query="midday curtailment of solar output")
    assert hits and hits[0].report_id == solar_id
    assert "curtail" in hits[0].text
