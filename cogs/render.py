"""A report as Discord sees it: embeds within Discord's limits, plus the full report as files.

The embeds are a digest (summary, key insights, patterns, themes; the cross-source synthesis,
claims and entities when there is room); the attached Markdown and JSON (from :mod:`core.render`)
hold everything.  Key insights that do not fit one embed are split into pages
(:attr:`RenderedReport.pages`), which :class:`cogs.views.PagedView` pages through with buttons.  Every string taken from a source is escaped
(:func:`discord_text`) so it cannot break formatting or ping anyone, and cut cleanly with an
ellipsis to the limit of the place it goes.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import discord

from core.models import IntelReport
from core.render import NO_PATTERNS, report_json, report_markdown
from core.reports import ReportMatch, ReportSummary
from core.service import AskResult, AutointelResult

__all__ = [
    "DiscordLimits",
    "Page",
    "RenderedReport",
    "ReportFile",
    "discord_text",
    "history_pages",
    "render_answer",
    "render_report",
    "search_pages",
    "truncate",
]

_COLOUR = discord.Colour.blurple()


class DiscordLimits:
    """Discord's documented message and embed limits (characters unless noted)."""

    CONTENT = 2000
    EMBEDS_PER_MESSAGE = 10
    EMBED_TOTAL = 6000  # all embeds of one message together
    TITLE = 256
    DESCRIPTION = 4096
    FIELDS = 25  # count
    FIELD_NAME = 256
    FIELD_VALUE = 1024
    FOOTER = 2048
    AUTHOR = 256


# How many characters each digest embed may use; together they stay under EMBED_TOTAL.
_SUMMARY_BUDGET = 1900
_INSIGHTS_BUDGET = 1700
_PATTERNS_BUDGET = 1000
_THEMES_BUDGET = 800
_EXTRA_BUDGET = 1200
_MIN_EXTRA_ROOM = 250
# Key insights shown at once; more go on further pages (Previous/Next), all in the files.
INSIGHTS_PER_PAGE = 4


def truncate(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` characters, ending in an ellipsis when cut."""
    if len(text) <= limit:
        return text
    return text[: max(0, limit - 1)].rstrip() + "…"


# What discord.utils.escape_markdown leaves alone: headings, subtext and list markers that start a
# line.  (Masked links it escapes itself.)
_LINE_START_MARK_RE = re.compile(r"^(\s*)(#|-|\d+(?=\.))", re.MULTILINE)


def discord_text(text: str, limit: int) -> str:
    """Source text made safe for a message: Markdown and mentions escaped, then cut to ``limit``."""
    escaped = discord.utils.escape_markdown(text.strip())
    escaped = _LINE_START_MARK_RE.sub(_escape_line_start, escaped)
    return truncate(discord.utils.escape_mentions(escaped), limit)


def _escape_line_start(match: re.Match[str]) -> str:
    indent, mark = match.group(1), match.group(2)
    return f"{indent}{mark}\\" if mark[0].isdigit() else f"{indent}\\{mark}"


@dataclass(frozen=True, slots=True)
class ReportFile:
    """A file to attach: bytes are kept so the message can be sent (or retried) more than once."""

    filename: str
    data: bytes
    description: str

    def to_discord(self) -> discord.File:
        return discord.File(io.BytesIO(self.data), filename=self.filename, description=self.description)


@dataclass(frozen=True, slots=True)
class Page:
    """One page of a paginated message: its embeds, and the reports it offers to open (id, label)."""

    embeds: list[discord.Embed]
    open_choices: list[tuple[int, str]] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class RenderedReport:
    """One message: a short content line, the digest embeds and the full-report files.

    ``pages`` holds the message once per page of key insights (one page when they all fit);
    ``embeds`` is the first page.
    """

    content: str
    pages: list[Page]
    files: list[ReportFile]

    @property
    def embeds(self) -> list[discord.Embed]:
        return self.pages[0].embeds

    def discord_files(self) -> list[discord.File]:
        return [item.to_discord() for item in self.files]


@dataclass(frozen=True, slots=True)
class _Field:
    name: str
    value: str


def render_report(result: AutointelResult) -> RenderedReport:
    """The message that answers ``/autointel``: digest embeds within limits and the two files."""
    report = result.report
    insight_pages = _paged_embeds(
        "Key insights", _insight_fields(report), budget=_INSIGHTS_BUDGET, per_page=INSIGHTS_PER_PAGE
    )
    embeds = [
        _summary_embed(result),
        insight_pages[0],
        _list_embed("Patterns", _pattern_fields(report), budget=_PATTERNS_BUDGET, empty=NO_PATTERNS),
        _list_embed("Themes", _theme_fields(report), budget=_THEMES_BUDGET),
    ]
    for title, fields in _optional_sections(report):
        room = DiscordLimits.EMBED_TOTAL - sum(len(embed) for embed in embeds)
        if room < _MIN_EXTRA_ROOM or len(embeds) >= DiscordLimits.EMBEDS_PER_MESSAGE or not fields:
            continue
        embeds.append(_list_embed(title, fields, budget=min(room, _EXTRA_BUDGET)))
    pages = [Page(embeds=[embeds[0], insights, *embeds[2:]]) for insights in insight_pages]
    number = f"#{result.report_id} " if result.report_id is not None else ""
    content = f"Report {number}on **{discord_text(report.title, 200)}** ready."
    return RenderedReport(content=content, pages=pages, files=_report_files(result))


def _summary_embed(result: AutointelResult) -> discord.Embed:
    report = result.report
    embed = discord.Embed(
        title=discord_text(f"Intelligence report: {report.title}", DiscordLimits.TITLE),
        description=_summary_text(report),
        colour=_COLOUR,
    )
    words = sum(source.words for source in report.sources)
    embed.add_field(name="Depth", value=report.depth, inline=True)
    embed.add_field(name="Engine", value=discord_text(report.engine.label, 200), inline=True)
    embed.add_field(name="Words", value=f"{words:,}", inline=True)
    embed.add_field(name="Sources", value=_sources_value(report), inline=False)
    if report.failed_sources:
        embed.add_field(name="Failed sources", value=_failures_value(report), inline=False)
    if result.cache_hit is not None:
        embed.add_field(name="Served from cache", value=result.cache_hit.describe(), inline=False)
    for notice in result.notices[:3]:
        embed.add_field(name="Note", value=discord_text(notice, 300), inline=False)
    saved = f"Report #{result.report_id} · " if result.report_id is not None else ""
    timing = f" · {result.elapsed_seconds:.1f}s" if result.elapsed_seconds else ""
    embed.set_footer(text=f"{saved}Full report attached as Markdown and JSON{timing}")
    return _fit(embed, budget=_SUMMARY_BUDGET)


def _summary_text(report: IntelReport) -> str:
    """The TL;DR line in bold (when the engine gave one) above the summary."""
    summary = discord_text(report.summary or "(no summary)", 1200)
    if not report.headline:
        return summary
    return f"**TL;DR:** {discord_text(report.headline, 200)}\n\n{summary}"


def _sources_value(report: IntelReport) -> str:
    lines = [
        f"{number}. {discord_text(source.label, 120)} ({source.words:,} words)"
        for number, source in enumerate(report.sources[:8], start=1)
    ]
    if len(report.sources) > 8:
        lines.append(f"… and {len(report.sources) - 8} more")
    return truncate("\n".join(lines), DiscordLimits.FIELD_VALUE)


def _failures_value(report: IntelReport) -> str:
    """One line per source that failed ("<url>: <reason>"), URLs shown without an embed preview."""
    lines = [f"✗ {discord_text(line, 200)}" for line in report.failed_sources[:5]]
    if len(report.failed_sources) > 5:
        lines.append(f"… and {len(report.failed_sources) - 5} more (see the attached report)")
    return truncate("\n".join(lines), DiscordLimits.FIELD_VALUE)


def _insight_fields(report: IntelReport) -> list[_Field]:
    fields = []
    for number, insight in enumerate(report.key_insights, start=1):
        value = discord_text(insight.insight, 500)
        if insight.evidence.strip() and insight.evidence.strip() not in insight.insight:
            value += f"\n> {discord_text(insight.evidence, 400)}"
        if len(report.sources) > 1 and insight.source_indexes:
            value += "\nsources: " + ", ".join(str(index + 1) for index in insight.source_indexes)
        fields.append(_Field(name=f"{number}. importance {insight.importance:.2f}", value=value))
    return fields


def _pattern_fields(report: IntelReport) -> list[_Field]:
    fields = []
    for pattern in report.patterns:
        quotes = [quote for quote in dict.fromkeys(pattern.evidence) if quote.strip() not in pattern.description]
        evidence = "".join(f"\n> {discord_text(quote, 200)}" for quote in quotes[:2])
        fields.append(
            _Field(
                name=f"{pattern.pattern_type} (confidence {pattern.confidence:.2f})",
                value=truncate(discord_text(pattern.description, 500) + evidence, DiscordLimits.FIELD_VALUE),
            )
        )
    return fields


def _theme_fields(report: IntelReport) -> list[_Field]:
    return [
        _Field(
            name=discord_text(theme.label, DiscordLimits.FIELD_NAME),
            value=truncate(
                f"{discord_text(', '.join(theme.keywords), 400)}\n"
                f"{theme.size} sentences · coherence {theme.coherence:.2f}",
                DiscordLimits.FIELD_VALUE,
            ),
        )
        for theme in report.themes
    ]


def _optional_sections(report: IntelReport) -> list[tuple[str, list[_Field]]]:
    sections: list[tuple[str, Callable[[IntelReport], list[_Field]]]] = [
        ("Cross-source synthesis", _synthesis_fields),
        ("Claims", _claim_fields),
        ("Entities", _entity_fields),
    ]
    return [(title, build(report)) for title, build in sections]


def _claim_fields(report: IntelReport) -> list[_Field]:
    return [
        _Field(
            name=f"{claim.kind}{' · checkable' if claim.checkable else ''}",
            value=discord_text(claim.text, 300),
        )
        for claim in report.claims
    ]


def _entity_fields(report: IntelReport) -> list[_Field]:
    if not report.entities:
        return []
    names = ", ".join(f"{entity.name} ({entity.label}, {entity.mentions}×)" for entity in report.entities)
    return [_Field(name="Named in the text", value=discord_text(names, 900))]


def _synthesis_fields(report: IntelReport) -> list[_Field]:
    synthesis = report.synthesis
    if synthesis is None:
        return []
    fields = [_Field(name="Overview", value=discord_text(synthesis.summary, 600))] if synthesis.summary else []
    for name, items in (("Common themes", synthesis.common_themes), ("Divergences", synthesis.divergences),
                        ("Contradictions", synthesis.contradictions)):
        if items:
            fields.append(_Field(name=name, value=discord_text("\n".join(items), 500)))
    return fields


def _list_embed(title: str, fields: Sequence[_Field], *, budget: int, empty: str = "None found.") -> discord.Embed:
    embed = discord.Embed(title=title, colour=_COLOUR)
    if not fields:
        embed.description = empty
        return embed
    for item in fields:
        name = item.name or "\u200b"
        value = item.value or "\u200b"
        if len(embed.fields) >= DiscordLimits.FIELDS or len(embed) + len(name) + len(value) > budget - 60:
            break
        embed.add_field(name=name, value=value, inline=False)
    omitted = len(fields) - len(embed.fields)
    if omitted:
        embed.set_footer(text=f"{omitted} more in the attached report")
    return embed


def _paged_embeds(title: str, fields: Sequence[_Field], *, budget: int, per_page: int) -> list[discord.Embed]:
    """``fields`` over as many embeds as it takes (each within ``budget``, at most ``per_page``
    fields); footers say the page."""
    pages: list[discord.Embed] = []
    remaining = list(fields)
    while True:
        page = _list_embed(title, remaining[:per_page], budget=budget)
        pages.append(page)
        shown = len(page.fields)
        if shown == 0 or shown >= len(remaining):
            break
        remaining = remaining[shown:]
    if len(pages) > 1:
        for number, page in enumerate(pages, start=1):
            more = len(fields) - len(page.fields)
            page.set_footer(text=f"Page {number}/{len(pages)} · {more} more in the attached report")
    return pages


def _fit(embed: discord.Embed, *, budget: int) -> discord.Embed:
    """Drop trailing fields until the embed fits ``budget`` characters."""
    while len(embed) > budget and embed.fields:
        embed.remove_field(len(embed.fields) - 1)
    return embed


def _report_files(result: AutointelResult) -> list[ReportFile]:
    report = result.report
    stem = f"intel-report-{report.sources[0].sha256[:12]}" if report.sources else "intel-report"
    return [
        ReportFile(f"{stem}.md", report_markdown(report).encode("utf-8"), "Full report (Markdown)"),
        ReportFile(f"{stem}.json", report_json(report).encode("utf-8"), "Full report (JSON)"),
    ]


# --- /ask, /intel history, /intel search ------------------------------------------------------

HISTORY_PAGE_SIZE = 5
SEARCH_PAGE_SIZE = 4


def render_answer(result: AskResult, *, direct_message: bool) -> tuple[str, discord.Embed]:
    """The ``/ask`` message: the question as content, the answer and its cited reports as an embed.

    ``direct_message``: asked in a DM, where the reports are the user's own, not a server's.
    """
    answer = result.answer
    reports = "your reports" if direct_message else "this server's reports"
    content = f"**Question:** {discord_text(answer.question, 600)}"
    embed = discord.Embed(title="Answer" if answer.found else f"No answer in {reports}",
                          description=discord_text(answer.text, 3000), colour=_COLOUR)
    for number, citation in enumerate(answer.citations[:10], start=1):
        urls = "\n".join(f"<{url}>" for url in citation.source_urls[:3]) or "pasted text or a file"
        embed.add_field(name=truncate(f"[{number}] {discord_text(citation.title, 200)} · #{citation.report_id}",
                                      DiscordLimits.FIELD_NAME),
                        value=truncate(urls, DiscordLimits.FIELD_VALUE), inline=False)
    for notice in result.notices[:2]:
        embed.add_field(name="Note", value=discord_text(notice, 300), inline=False)
    how = "written by the LLM from" if answer.engine.startswith("llm:") else "quoted from"
    cached = " · from the cache" if result.cache_hit is not None else ""
    if answer.found:
        embed.set_footer(text=f"Answer {how} {reports}{cached}")
    return content, _fit(embed, budget=DiscordLimits.EMBED_TOTAL - len(content))


def history_pages(summaries: Sequence[ReportSummary], *, total: int) -> list[Page]:
    """The guild's reports (newest first), :data:`HISTORY_PAGE_SIZE` a page, each with an Open button."""
    pages = []
    chunks = [summaries[start:start + HISTORY_PAGE_SIZE] for start in range(0, len(summaries), HISTORY_PAGE_SIZE)]
    for number, chunk in enumerate(chunks, start=1):
        embed = discord.Embed(title="Reports in this server", colour=_COLOUR)
        for item in chunk:
            urls = " ".join(f"<{url}>" for url in item.source_urls[:2])
            value = f"{item.depth} · {discord_text(item.engine, 100)} · <t:{int(item.created_at)}:R>"
            embed.add_field(name=truncate(f"#{item.report_id} · {discord_text(item.title, 200)}", DiscordLimits.FIELD_NAME),
                            value=truncate(f"{value}\n{urls}".strip(), DiscordLimits.FIELD_VALUE), inline=False)
        embed.set_footer(text=f"Page {number}/{len(chunks)} · {total} reports · open one with the buttons")
        pages.append(Page(embeds=[embed], open_choices=[(item.report_id, f"Open #{item.report_id}") for item in chunk]))
    return pages


def search_pages(query: str, matches: Sequence[ReportMatch]) -> list[Page]:
    """Search results grouped by report, best first, :data:`SEARCH_PAGE_SIZE` reports a page."""
    pages = []
    chunks = [matches[start:start + SEARCH_PAGE_SIZE] for start in range(0, len(matches), SEARCH_PAGE_SIZE)]
    for number, chunk in enumerate(chunks, start=1):
        embed = discord.Embed(title=truncate(f"Reports matching: {discord_text(query, 200)}", DiscordLimits.TITLE),
                              colour=_COLOUR)
        for match in chunk:
            quotes = "\n".join(f"> {discord_text(hit.text, 250)}" for hit in match.passages)
            embed.add_field(
                name=truncate(f"#{match.report_id} · {discord_text(match.title, 180)} "
                              f"(similarity {match.best_similarity:.2f})", DiscordLimits.FIELD_NAME),
                value=truncate(quotes, DiscordLimits.FIELD_VALUE), inline=False)
        embed.set_footer(text=f"Page {number}/{len(chunks)} · open a report with the buttons")
        pages.append(Page(embeds=[embed], open_choices=[(m.report_id, f"Open #{m.report_id}") for m in chunk]))
    return pages
