"""A report as Discord sees it: embeds within Discord's limits, plus the full report as files.

The embeds are a digest (summary, key insights, patterns, themes; claims, entities and the
cross-source synthesis when there is room); the attached Markdown and JSON (from
:mod:`core.render`) hold everything.  Every string taken from a source is escaped
(:func:`discord_text`) so it cannot break formatting or ping anyone, and cut cleanly with an
ellipsis to the limit of the place it goes.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import discord

from core.models import IntelReport
from core.render import report_json, report_markdown
from core.service import AutointelResult

__all__ = [
    "DiscordLimits",
    "RenderedReport",
    "ReportFile",
    "discord_text",
    "render_report",
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


def truncate(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` characters, ending in an ellipsis when cut."""
    if len(text) <= limit:
        return text
    return text[: max(0, limit - 1)].rstrip() + "…"


def discord_text(text: str, limit: int) -> str:
    """Source text made safe for a message: Markdown and mentions escaped, then cut to ``limit``."""
    escaped = discord.utils.escape_mentions(discord.utils.escape_markdown(text.strip()))
    return truncate(escaped, limit)


@dataclass(frozen=True, slots=True)
class ReportFile:
    """A file to attach: bytes are kept so the message can be sent (or retried) more than once."""

    filename: str
    data: bytes
    description: str

    def to_discord(self) -> discord.File:
        return discord.File(io.BytesIO(self.data), filename=self.filename, description=self.description)


@dataclass(frozen=True, slots=True)
class RenderedReport:
    """One message: a short content line, the digest embeds and the full-report files."""

    content: str
    embeds: list[discord.Embed]
    files: list[ReportFile]

    def discord_files(self) -> list[discord.File]:
        return [item.to_discord() for item in self.files]


@dataclass(frozen=True, slots=True)
class _Field:
    name: str
    value: str


def render_report(result: AutointelResult) -> RenderedReport:
    """The message that answers ``/autointel``: digest embeds within limits and the two files."""
    report = result.report
    embeds = [
        _summary_embed(result),
        _list_embed("Key insights", _insight_fields(report), budget=_INSIGHTS_BUDGET),
        _list_embed("Patterns", _pattern_fields(report), budget=_PATTERNS_BUDGET),
        _list_embed("Themes", _theme_fields(report), budget=_THEMES_BUDGET),
    ]
    for title, fields in _optional_sections(report):
        room = DiscordLimits.EMBED_TOTAL - sum(len(embed) for embed in embeds)
        if room < _MIN_EXTRA_ROOM or len(embeds) >= DiscordLimits.EMBEDS_PER_MESSAGE or not fields:
            continue
        embeds.append(_list_embed(title, fields, budget=min(room, _EXTRA_BUDGET)))
    content = f"Report on **{discord_text(report.title, 200)}** ready."
    return RenderedReport(content=content, embeds=embeds, files=_report_files(result))


def _summary_embed(result: AutointelResult) -> discord.Embed:
    report = result.report
    embed = discord.Embed(
        title=discord_text(f"Intelligence report: {report.title}", DiscordLimits.TITLE),
        description=discord_text(report.summary or "(no summary)", 1200),
        colour=_COLOUR,
    )
    words = sum(source.words for source in report.sources)
    embed.add_field(name="Depth", value=report.depth, inline=True)
    embed.add_field(name="Engine", value=discord_text(report.engine.label, 200), inline=True)
    embed.add_field(name="Words", value=f"{words:,}", inline=True)
    embed.add_field(name="Sources", value=_sources_value(report), inline=False)
    if result.cache_hit is not None:
        hit = result.cache_hit
        embed.add_field(name="Cache", value=f"{hit.how} match ({hit.similarity:.2f})", inline=True)
    for notice in result.notices[:3]:
        embed.add_field(name="Note", value=discord_text(notice, 300), inline=False)
    embed.set_footer(text=f"Full report attached as Markdown and JSON · {result.elapsed_seconds:.1f}s")
    return _fit(embed, budget=_SUMMARY_BUDGET)


def _sources_value(report: IntelReport) -> str:
    lines = [
        f"{number}. {discord_text(source.label, 120)} ({source.words:,} words)"
        for number, source in enumerate(report.sources[:8], start=1)
    ]
    if len(report.sources) > 8:
        lines.append(f"… and {len(report.sources) - 8} more")
    if report.failed_sources:
        lines.append(f"{len(report.failed_sources)} failed (see the attached report)")
    return truncate("\n".join(lines), DiscordLimits.FIELD_VALUE)


def _insight_fields(report: IntelReport) -> list[_Field]:
    fields = []
    for number, insight in enumerate(report.key_insights, start=1):
        value = discord_text(insight.insight, 500)
        if insight.evidence.strip() and insight.evidence.strip() not in insight.insight:
            value += f"\n> {discord_text(insight.evidence, 400)}"
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


def _list_embed(title: str, fields: Sequence[_Field], *, budget: int) -> discord.Embed:
    embed = discord.Embed(title=title, colour=_COLOUR)
    if not fields:
        embed.description = "None found."
        return embed
    for field in fields:
        name = field.name or "\u200b"
        value = field.value or "\u200b"
        if len(embed.fields) >= DiscordLimits.FIELDS or len(embed) + len(name) + len(value) > budget - 60:
            break
        embed.add_field(name=name, value=value, inline=False)
    omitted = len(fields) - len(embed.fields)
    if omitted:
        embed.set_footer(text=f"{omitted} more in the attached report")
    return embed


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
