"""Pattern types found from their textual markers, through the engine on the real model."""

from __future__ import annotations

from core.engine.local import LocalEngine
from core.models import SourceDocument

MARKET_NOTES = (
    "As interest rates rose, house sales in the capital slowed sharply. "
    "For the first time, online agents sold more homes than high-street branches. "
    "Rents in the capital climbed 4% in the first quarter. "
    "Rents in the northern towns climbed 5% over the same months. "
    "Rents in the coastal towns climbed 3% in the spring. "
    "Rents near the universities climbed 6% before term started. "
    "Rents in one new riverside district jumped 48% after a single developer raised prices. "
    "Agents say the spring market is busy every year before the school holidays."
)


async def test_markers_give_correlation_emergence_cycle_and_a_numeric_anomaly(engine: LocalEngine) -> None:
    report = await engine.analyse([SourceDocument(text=MARKET_NOTES)], depth="deep")

    evidence: dict[str, list[str]] = {}
    for pattern in report.patterns:
        evidence.setdefault(pattern.pattern_type, []).extend(pattern.evidence)
    assert "As interest rates rose, house sales in the capital slowed sharply." in evidence["correlation"]
    assert any(line.startswith("For the first time") for line in evidence["emergence"])
    assert any("every year" in line for line in evidence["cycle"])
    anomalies = [p for p in report.patterns if p.pattern_type == "anomaly"]
    assert any("48% against a median of 5%" in p.description for p in anomalies)
    assert all(0.0 < pattern.confidence <= 0.95 for pattern in report.patterns)


async def test_text_without_markers_has_no_marker_patterns(engine: LocalEngine) -> None:
    plain = (
        "The library opens at nine on weekdays. Visitors can borrow six books at a time. "
        "The reading room has forty desks and a quiet corner for children. "
        "Staff run a book club for teenagers on Saturday mornings."
    )
    report = await engine.analyse([SourceDocument(text=plain)], depth="deep")

    assert [pattern.pattern_type for pattern in report.patterns] == []
