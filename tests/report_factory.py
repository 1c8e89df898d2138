"""Hand-built reports for tests of what is done with a report (storage, retrieval, rendering)."""

from __future__ import annotations

from core.models import EngineInfo, IntelReport, KeyInsight, SourceInfo, ThemeCluster

__all__ = ["url_report"]


def url_report(title: str, url: str, summary: str, evidence: list[str], *, with_theme: bool = False) -> IntelReport:
    """A local-engine report on one URL: its summary, one insight per evidence quote, optionally a theme."""
    themes = [ThemeCluster(label=title, keywords=title.lower().split()[:3], size=2, coherence=0.6)] if with_theme else []
    return IntelReport(
        depth="standard",
        sources=[SourceInfo(kind="url", label=title, url=url, title=title, sha256="0" * 64,
                            characters=len(summary), words=len(summary.split()))],
        summary=summary,
        key_insights=[KeyInsight(insight=quote, evidence=quote, importance=0.8) for quote in evidence],
        themes=themes,
        engine=EngineInfo(name="local", model="all-MiniLM-L6-v2"),
    )
