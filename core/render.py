"""Front-end-neutral renderings of a report: Markdown (for files and terminals) and JSON."""

from __future__ import annotations

from core.models import IntelReport

__all__ = ["NO_PATTERNS", "report_json", "report_markdown"]

#: What the Patterns section says, in one line, when a report has none.
NO_PATTERNS = "No pattern found: a pattern needs at least two supporting sentences."


def report_json(report: IntelReport) -> str:
    """The full report as indented JSON, the same shape the cache stores."""
    return report.model_dump_json(indent=2)


def _bullets(lines: list[str]) -> list[str]:
    return [f"- {line}" for line in lines] or ["- (none found)"]


def report_markdown(report: IntelReport, *, cache_note: str | None = None) -> str:
    """The full report as Markdown.  Source text is included as-is: callers escape for their medium."""
    out = [f"# Intelligence report: {report.title}", ""]
    out.append(f"*Depth: {report.depth} · Engine: {report.engine.label} · "
               f"Created: {report.created_at:%Y-%m-%d %H:%M UTC}*")
    if cache_note:
        out.append(f"*{cache_note}*")
    out += ["", "## Summary", ""]
    if report.headline:
        out += [f"**TL;DR:** {report.headline}", ""]
    out += [report.summary, "", "## Key insights", ""]
    for number, insight in enumerate(report.key_insights, start=1):
        out.append(f"{number}. **{insight.insight}** (importance {insight.importance:.2f})")
        out.append(f"   > {insight.evidence}")
    if not report.key_insights:
        out.append("- (none found)")
    out += ["", "## Patterns", ""]
    patterns = [f"**{p.pattern_type}** ({p.confidence:.2f}): {p.description}" for p in report.patterns]
    out += _bullets(patterns) if patterns else [NO_PATTERNS]
    out += ["", "## Themes", ""]
    out += _bullets(
        [f"**{t.label}**: {', '.join(t.keywords)} ({t.size} sentences, coherence {t.coherence:.2f})"
         for t in report.themes]
    )
    out += ["", "## Claims", ""]
    out += _bullets(
        [f"[{c.kind}{', checkable' if c.checkable else ''}] {c.text}" for c in report.claims]
    )
    out += ["", "## Entities", ""]
    out += _bullets([f"{e.name} ({e.label}, {e.mentions}x)" for e in report.entities])
    if report.synthesis is not None:
        s = report.synthesis
        out += ["", "## Cross-source synthesis", "", s.summary, "", "### Common themes", ""]
        out += _bullets(s.common_themes)
        out += ["", "### Divergences", "", *_bullets(s.divergences)]
        out += ["", "### Contradictions", "", *_bullets(s.contradictions)]
    if report.failed_sources:
        out += ["", "## Sources that failed", "", *_bullets(report.failed_sources)]
    out += ["", "## Sources", ""]
    for index, source in enumerate(report.sources, start=1):
        where = f" <{source.url}>" if source.url else ""
        out.append(f"{index}. {source.label}{where}: {source.words:,} words, sha256 `{source.sha256[:16]}…`")
    return "\n".join(out) + "\n"
