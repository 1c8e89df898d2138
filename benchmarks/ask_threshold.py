"""How /ask's answer threshold (core.reports.DEFAULT_ANSWER_THRESHOLD) and /intel search's floor were chosen.

A small library of eight reports (each: summary sentences and key-insight quotes, as the local
engine stores them) and 32 questions written for it: 20 that one report answers (labelled with
it), 12 it does not (6 on the library's topics but asking something no report says, 6 off topic).
For each question the library's real retrieval (MiniLM + FAISS, the code /ask runs) gives the best
passage; a threshold then decides "answer" or "no answer".  The table shows, per threshold:

* answered right: answerable questions answered, citing the labelled report;
* answered wrong: answerable questions answered from another report;
* missed: answerable questions refused;
* false answers: unanswerable questions answered anyway (on topic / off topic).

    .venv/bin/python benchmarks/ask_threshold.py
"""

from __future__ import annotations

import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("HF_HUB_OFFLINE", "1")


from core.embedder import SentenceTransformerEmbedder
from core.gate import WorkerGate
from core.models import EngineInfo, IntelReport, KeyInsight, SourceInfo
from core.reports import ReportLibrary
from core.settings import default_embedding_model_path
from core.storage import Storage
from core.storage.sqlite import SqliteBackend

REPORTS: dict[str, list[str]] = {
    "tram": [
        "Riverton opened the second line of its tram network in March.",
        "Ridership on the Riverton tram rose 18 percent in 2023, according to the city transport office.",
        "The new line links the university district with the old harbour and runs every six minutes at peak times.",
        "The project cost 240 million euros, most of it paid by a regional infrastructure fund.",
        "Critics argue that the money would have bought far more electric buses.",
    ],
    "coffee": [
        "Brazil's coffee harvest shrank after a severe frost in July.",
        "The frost destroyed roughly a fifth of the arabica trees in Minas Gerais.",
        "Arabica futures rose sharply on the New York exchange.",
        "Roasters in Europe raised retail prices twice in six months.",
    ],
    "solar": [
        "Solar capacity in Spain doubled between 2020 and 2024.",
        "Panel prices fell by 40 percent over four years, which made rooftop solar profitable for households.",
        "Grid operators in Spain now curtail solar output at midday because of oversupply.",
        "Battery storage is the bottleneck, according to the national grid operator.",
    ],
    "schools": [
        "Seventeen of the district's forty-two primary schools started the year with a vacant post.",
        "Average class size climbed to 31 pupils.",
        "The education board blamed housing costs, which rose 12 percent last year.",
        "The two schools that offered subsidised flats filled every vacancy within a month.",
    ],
    "harbour": [
        "Container traffic at Port Kellan rose by 18 percent in 2025.",
        "Two new shipping lines moved their regional hub away from the congested southern ports.",
        "The authority expects to hire 240 more dock workers by next summer.",
        "Residents near the quay complain that night-time noise has doubled.",
    ],
    "orchard": [
        "The Vale orchards lost a third of their apple blossom to a late frost in April.",
        "The regional co-operative expects the apple harvest to fall by 30 percent this year.",
        "Cider makers will import fruit from the coast to keep their presses running.",
        "Insurance covers only the growers who bought the new frost policy.",
    ],
    "ferry": [
        "The island ferry company will replace its diesel boats with battery-powered ferries by 2027.",
        "Each new boat charges at the pier overnight and carries up to 300 passengers.",
        "The company says fuel costs will fall by two thirds.",
        "A late Friday boat will run on trial through August.",
    ],
    "hospital": [
        "Waiting times at the county hospital's emergency department reached six hours in winter.",
        "The hospital hired 40 agency nurses to cover the shortage of permanent staff.",
        "A new triage unit will open in the spring to treat minor injuries separately.",
        "Ambulance handovers now take twice as long as the national target.",
    ],
}

ANSWERABLE: list[tuple[str, str]] = [
    ("How much did tram ridership grow in 2023?", "tram"),
    ("How often do trams run at peak times on the new line?", "tram"),
    ("Who paid for the tram extension?", "tram"),
    ("What damaged the coffee trees in Brazil?", "coffee"),
    ("Why did coffee become more expensive in European shops?", "coffee"),
    ("What share of arabica trees did the frost destroy?", "coffee"),
    ("Why did rooftop solar become profitable?", "solar"),
    ("Why is solar output curtailed at midday in Spain?", "solar"),
    ("What limits the growth of solar power according to the grid operator?", "solar"),
    ("How many primary schools have teacher vacancies?", "schools"),
    ("What is the average class size now?", "schools"),
    ("How did some schools fill their vacancies quickly?", "schools"),
    ("Why did container traffic at the port increase?", "harbour"),
    ("How many dock workers will the harbour hire?", "harbour"),
    ("What do residents near the quay complain about?", "harbour"),
    ("How much will the apple harvest fall this year?", "orchard"),
    ("What will cider makers do about the shortage of apples?", "orchard"),
    ("How many passengers can the new battery ferries carry?", "ferry"),
    ("How long do patients wait in the emergency department?", "hospital"),
    ("What is the hospital doing about minor injuries?", "hospital"),
]

UNANSWERABLE_ON_TOPIC = [
    "How many trams does Riverton own?",
    "What is the price of a tram ticket?",
    "Which country produces the most robusta coffee?",
    "How many wind turbines does Spain have?",
    "What salary do new teachers earn in the district?",
    "When was the hospital built?",
]
UNANSWERABLE_OFF_TOPIC = [
    "Who won the 1998 football world cup final?",
    "What is the recipe for a good sourdough bread?",
    "How do I reset my router password?",
    "What is the capital of Australia?",
    "Which programming language should I learn first?",
    "What is the best treatment for a sprained ankle?",
]

THRESHOLDS = [0.30, 0.35, 0.40, 0.45, 0.50, 0.55, 0.60]


def _report(topic: str, sentences: list[str]) -> IntelReport:
    return IntelReport(
        depth="standard",
        sources=[SourceInfo(kind="text", label=topic, sha256="0" * 64, characters=100, words=20)],
        summary=" ".join(sentences[:2]),
        key_insights=[KeyInsight(insight=s, evidence=s, importance=0.8) for s in sentences[2:]],
        engine=EngineInfo(name="local", model="all-MiniLM-L6-v2"),
    )


async def _best_hits(library: ReportLibrary, ids: dict[int, str], questions: list[str]) -> list[tuple[str, float]]:
    best = []
    for question in questions:
        hits = await library.search(guild_id=1, query=question, k=12)
        best.append((ids[hits[0].report_id], hits[0].similarity) if hits else ("", 0.0))
    return best


async def main() -> None:
    embedder = SentenceTransformerEmbedder(default_embedding_model_path(), batch_size=64, torch_threads=2)
    async with WorkerGate(max_workers=2) as gate:
        await gate.run(embedder.load)
        with tempfile.TemporaryDirectory() as directory:
            async with Storage(SqliteBackend(Path(directory) / "intel.db")) as storage:
                library = ReportLibrary(storage.reports, embedder=embedder, gate=gate)
                ids = {await library.add(guild_id=1, user_id=1, report=_report(t, s)): t for t, s in REPORTS.items()}
                started = time.perf_counter()
                answerable = await _best_hits(library, ids, [q for q, _ in ANSWERABLE])
                per_question = (time.perf_counter() - started) / len(ANSWERABLE)
                on_topic = await _best_hits(library, ids, UNANSWERABLE_ON_TOPIC)
                off_topic = await _best_hits(library, ids, UNANSWERABLE_OFF_TOPIC)
    _print_table(answerable, on_topic, off_topic)
    print(f"\nretrieval per question (embed + FAISS + SQLite), mean over {len(ANSWERABLE)}: {per_question * 1000:.1f} ms")
    answer_scores = [score for _, score in answerable]
    on_topic_scores = [score for _, score in on_topic]
    print(f"best similarity, answerable: min {min(answer_scores):.2f} median {statistics.median(answer_scores):.2f}; "
          f"unanswerable on topic: max {max(on_topic_scores):.2f} median {statistics.median(on_topic_scores):.2f}; "
          f"off topic: max {max(score for _, score in off_topic):.2f}")


def _print_table(answerable: list[tuple[str, float]], on_topic: list[tuple[str, float]],
                 off_topic: list[tuple[str, float]]) -> None:
    print(f"{'threshold':>9} | {'answered right':>14} | {'answered wrong':>14} | {'missed':>6} | "
          f"{'false (on topic)':>16} | {'false (off topic)':>17}")
    for threshold in THRESHOLDS:
        right = sum(1 for (got, s), (_, want) in zip(answerable, ANSWERABLE, strict=True) if s >= threshold and got == want)
        wrong = sum(1 for (got, s), (_, want) in zip(answerable, ANSWERABLE, strict=True) if s >= threshold and got != want)
        missed = sum(1 for _, s in answerable if s < threshold)
        false_on = sum(1 for _, s in on_topic if s >= threshold)
        false_off = sum(1 for _, s in off_topic if s >= threshold)
        print(f"{threshold:>9.2f} | {right:>11}/{len(ANSWERABLE)} | {wrong:>14} | {missed:>6} | "
              f"{false_on:>13}/{len(on_topic)} | {false_off:>14}/{len(off_topic)}")


if __name__ == "__main__":
    asyncio.run(main())
