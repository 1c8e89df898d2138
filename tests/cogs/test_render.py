"""cogs/render.py on reports far bigger than Discord allows: the message still fits every limit."""

from __future__ import annotations

import json

from cogs.render import render_report, truncate
from core.models import (
    Claim,
    CrossSourceSynthesis,
    EngineInfo,
    Entity,
    IntelReport,
    KeyInsight,
    PatternAnalysis,
    SourceInfo,
    ThemeCluster,
)
from core.service import AutointelResult
from tests.e2e.discord_limits import assert_message_within_limits
from tests.e2e.fake_records import RecordedRequest

PING = "@everyone <@123456789012345678> <@&987654321098765432> @here "


def _huge_report() -> IntelReport:
    long_sentence = PING + "word " * 900
    return IntelReport(
        depth="deep",
        sources=[
            SourceInfo(label=PING + "x" * 500, sha256="ab" * 32, characters=10**6, words=200_000)
            for _ in range(12)
        ],
        summary=long_sentence * 5,
        key_insights=[KeyInsight(insight=long_sentence, evidence="**" + long_sentence, importance=0.5)] * 60,
        patterns=[PatternAnalysis(pattern_type="causal", description=long_sentence, evidence=[long_sentence] * 5,
                                  confidence=0.5)] * 40,
        themes=[ThemeCluster(label=PING * 20, keywords=["keyword"] * 300, size=3, coherence=0.5)] * 30,
        claims=[Claim(text=long_sentence, kind="statistic", checkable=True)] * 500,
        entities=[Entity(name=PING * 3, label="OTHER", mentions=2)] * 200,
        synthesis=CrossSourceSynthesis(common_themes=[long_sentence] * 10, divergences=[long_sentence] * 10,
                                       contradictions=[long_sentence] * 10, summary=long_sentence),
        failed_sources=["https://bad.example"] * 5,
        engine=EngineInfo(name="local", model=PING * 50),
    )


def _as_request(content: str, embeds: list[dict]) -> RecordedRequest:
    body = {"content": content, "embeds": embeds, "allowed_mentions": {"parse": []}}
    return RecordedRequest(method="PATCH", path="/render", query={}, body=body)


def test_a_huge_report_renders_within_every_discord_limit() -> None:
    rendered = render_report(AutointelResult(report=_huge_report(), notices=[PING * 100] * 5))
    embeds = [embed.to_dict() for embed in rendered.embeds]

    assert_message_within_limits(_as_request(rendered.content, embeds))
    assert [embed["title"] for embed in embeds][1:4] == ["Key insights", "Patterns", "Themes"]
    assert "more in the attached report" in embeds[1]["footer"]["text"]


def test_source_text_cannot_ping_or_format_in_any_embed() -> None:
    rendered = render_report(AutointelResult(report=_huge_report()))
    shown = rendered.content + json.dumps([embed.to_dict() for embed in rendered.embeds], ensure_ascii=False)

    for mention in ("@everyone", "@here", "<@123456789012345678>", "<@&987654321098765432>"):
        assert mention not in shown
    assert "\\\\*\\\\*" in shown  # "**" from the source is shown as escaped stars


def test_files_hold_the_whole_report_unescaped() -> None:
    report = _huge_report()
    rendered = render_report(AutointelResult(report=report))
    by_suffix = {item.filename.rsplit(".", 1)[1]: item for item in rendered.files}

    assert IntelReport.model_validate_json(by_suffix["json"].data) == report
    assert report.summary.strip()[:200] in by_suffix["md"].data.decode()
    assert len(rendered.discord_files()) == 2


def test_truncate_ends_with_an_ellipsis_only_when_it_cuts() -> None:
    assert truncate("short", 10) == "short"
    cut = truncate("a longer sentence here", 10)
    assert len(cut) <= 10 and cut.endswith("…")
