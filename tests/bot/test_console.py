"""The console front end: parsing and rendering in-process, then the real console as a subprocess.

The subprocess tests run ``python -m bot console`` exactly as a user would, with the real model and
the real local engine, from a temporary working directory (so no ``.env`` is read) with
``DATA_DIR`` in a temporary directory and ``PYTHONPATH`` pointing at the repository.
"""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from rich.console import Console

from bot.console import (
    ConsoleCommand,
    ConsoleUsageError,
    FileReadError,
    check_pasted_text,
    parse_command,
    read_target_file,
    render_report,
)
from core.cache import CacheStats
from core.errors import EmptyInputError, InputTooLargeError, InputTooShortError
from core.inputs import InputLimits
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
    sha256_text,
)
from core.reports import Answer
from core.service import CacheHitInfo, ReportHistory, SettingsView
from core.settings import Settings

REPO_ROOT = Path(__file__).resolve().parents[2]
SAMPLE_ARTICLE = REPO_ROOT / "samples" / "renewables_article.md"
MARKUP_TEXT = (
    "The council report says [bold red]x[/] marks the flooded streets. Rainfall rose 40 percent in "
    "2024 because storms stalled over the river basin, and the council expects more flooding by "
    "2030. However, residents say the new drains have already reduced damage in the lower town."
)
SUBPROCESS_TIMEOUT = 300
LIMITS = InputLimits(max_chars=2_500, min_words=25, max_sources=5)


# --- Parsing ------------------------------------------------------------------------------------


def test_depth_option_is_found_anywhere_on_the_line() -> None:
    command = parse_command("/autointel depth:deep some pasted text about tides")

    assert command == ConsoleCommand(name="autointel", target="some pasted text about tides", depth="deep")


def test_options_at_the_end_are_removed_from_the_target() -> None:
    command = parse_command("/autointel notes.md fresh:true DEPTH:Quick")

    assert command == ConsoleCommand(name="autointel", target="notes.md", depth="quick", fresh=True)


def test_discord_style_target_prefix_is_accepted() -> None:
    command = parse_command("/autointel target:Some pasted text")

    assert command is not None and command.target == "Some pasted text"


def test_blank_line_is_no_command() -> None:
    assert parse_command("   ") is None


def test_help_quit_and_exit_commands() -> None:
    assert parse_command("/help") == ConsoleCommand(name="help")
    assert parse_command("/QUIT") == ConsoleCommand(name="quit")
    assert parse_command("/exit") == ConsoleCommand(name="quit")


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("/summarise this", "Unknown command '/summarise'"),
        ("autointel text", "Commands start with '/'"),
        ("/autointel text depth:bottomless", "depth must be quick, standard or deep"),
        ("/autointel text fresh:maybe", "fresh must be true or false"),
    ],
)
def test_bad_command_lines_are_usage_errors_naming_the_problem(line: str, message: str) -> None:
    with pytest.raises(ConsoleUsageError) as caught:
        parse_command(line)

    assert message in str(caught.value)
    assert "/help" in str(caught.value)


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("/ask what changed at the harbour?", ConsoleCommand(name="ask", target="what changed at the harbour?")),
        ("/intel", ConsoleCommand(name="intel", subcommand="history")),
        ("/intel history", ConsoleCommand(name="intel", subcommand="history")),
        ("/intel search harbour dredging", ConsoleCommand(name="intel", subcommand="search", target="harbour dredging")),
        ("/cache stats", ConsoleCommand(name="cache", subcommand="stats")),
        ("/cache wrong", ConsoleCommand(name="cache", subcommand="wrong")),
        ("/settings show", ConsoleCommand(name="settings", subcommand="show")),
    ],
)
def test_the_discord_library_and_admin_commands_parse(line: str, expected: ConsoleCommand) -> None:
    assert parse_command(line) == expected


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("/ask", "Ask a question"),
        ("/intel search", "Give search words"),
        ("/cache clear", "/cache takes stats or wrong on the console, not 'clear'"),
        ("/settings set default_depth quick", "/settings takes show on the console, not 'set'"),
    ],
)
def test_console_subcommand_mistakes_are_usage_errors(line: str, message: str) -> None:
    with pytest.raises(ConsoleUsageError) as caught:
        parse_command(line)

    assert message in str(caught.value)


def test_pdf_path_gets_the_same_byte_limit_as_a_discord_attachment(tmp_path: Path) -> None:
    # 2,500 characters: 10,000 bytes for a text file, 20,000 for a PDF (markup around the text).
    pdf = tmp_path / "scan.pdf"
    pdf.write_bytes(b"%PDF-1.4\n" + b"0" * 15_000)
    text = tmp_path / "notes.txt"
    text.write_bytes(b"word " * 3_000)

    attachment = read_target_file(str(pdf), limits=LIMITS)
    with pytest.raises(InputTooLargeError) as caught:
        read_target_file(str(text), limits=LIMITS)

    assert attachment is not None and attachment.filename == "scan.pdf"
    assert "the limit is 10,000 bytes" in str(caught.value)


def test_missing_pdf_path_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(FileReadError):
        read_target_file(str(tmp_path / "missing.pdf"), limits=LIMITS)


def test_existing_markdown_path_is_read_as_an_attachment(tmp_path: Path) -> None:
    notes = tmp_path / "notes.md"
    notes.write_text("# Notes\nSome words.", encoding="utf-8")

    attachment = read_target_file(str(notes), limits=LIMITS)

    assert attachment is not None
    assert attachment.filename == "notes.md"
    assert attachment.data == notes.read_bytes()


def test_quoted_path_is_read_as_an_attachment(tmp_path: Path) -> None:
    notes = tmp_path / "my notes.txt"
    notes.write_text("Some words.", encoding="utf-8")

    attachment = read_target_file(f'"{notes}"', limits=LIMITS)

    assert attachment is not None and attachment.filename == "my notes.txt"


def test_missing_markdown_path_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(FileReadError) as caught:
        read_target_file(str(tmp_path / "missing.md"), limits=LIMITS)

    assert str(caught.value) == f"Cannot read {tmp_path / 'missing.md'}: no such file."


def test_plain_text_target_is_not_a_file() -> None:
    assert read_target_file("The tide came in at noon and left by six.", limits=LIMITS) is None


@pytest.mark.parametrize(
    ("target", "error"),
    [("", EmptyInputError), ("   ", EmptyInputError), ("Too few words here.", InputTooShortError)],
)
def test_empty_or_short_pasted_text_is_refused_up_front(
    settings: Settings, target: str, error: type[Exception]
) -> None:
    with pytest.raises(error):
        check_pasted_text(target, settings=settings)


@pytest.mark.parametrize("target", ["notes.md", '"my notes.md"', "https://example.com/a https://example.com/b"])
def test_possible_paths_and_urls_are_left_to_the_runtime(settings: Settings, target: str) -> None:
    check_pasted_text(target, settings=settings)


def test_file_over_the_byte_limit_is_refused_before_reading(tmp_path: Path) -> None:
    big = tmp_path / "big.txt"
    big.write_text("word " * 1000, encoding="utf-8")

    with pytest.raises(InputTooLargeError) as caught:
        read_target_file(str(big), limits=InputLimits(max_chars=25, min_words=1, max_sources=1))

    assert "the limit is 100 bytes" in str(caught.value)  # 4 bytes a character for a text file


# --- Rendering ----------------------------------------------------------------------------------


def _report(**changes: object) -> IntelReport:
    text = "Solar capacity rose 68 percent. Wind filled the evenings."
    report = IntelReport(
        depth="standard",
        sources=[SourceInfo(label="renewables_article.md", sha256=sha256_text(text), characters=len(text), words=9)],
        summary="The valley replaced coal with solar, wind and a large battery.",
        key_insights=[
            KeyInsight(insight="Solar beat its 2030 target nine years early", evidence="The valley passed that figure in 2021", importance=0.91),
            KeyInsight(insight="Batteries cut evening prices", evidence="Evening wholesale prices fell by 23 percent", importance=0.74),
        ],
        patterns=[PatternAnalysis(pattern_type="causal", description="Falling costs pushed coal out", evidence=["As a result, the coal stations were pushed out"], confidence=0.8)],
        themes=[ThemeCluster(label="Solar power", keywords=["solar", "rooftop", "capacity"], size=7, coherence=0.61)],
        claims=[Claim(text="Curtailment dropped to 3 percent in 2024.", kind="statistic", checkable=True)],
        entities=[Entity(name="Marren Valley", label="PLACE", mentions=6)],
        engine=EngineInfo(name="local", model="all-MiniLM-L6-v2"),
    )
    return report.model_copy(update=changes)


def _rendered(
    report: IntelReport, *, cache_hit: CacheHitInfo | None = None, notices: tuple[str, ...] = ()
) -> str:
    console = Console(record=True, width=120, file=io.StringIO())
    console.print(render_report(report, cache_hit=cache_hit, notices=notices))
    return console.export_text()


def test_rendered_report_shows_every_section_with_its_content() -> None:
    text = _rendered(_report())

    assert "Intelligence report: renewables_article.md" in text
    assert "Engine: local analysis" in text and "Depth: standard" in text
    for heading in ("Summary", "Key insights", "Patterns", "Themes", "Claims", "Entities"):
        assert heading in text
    assert "The valley replaced coal with solar" in text
    assert "1. Solar beat its 2030 target nine years early  (importance 0.91)" in text
    assert "“The valley passed that figure in 2021”" in text
    assert "2. Batteries cut evening prices" in text
    assert "causal" in text and "Falling costs pushed coal out" in text
    assert "Solar power" in text and "solar, rooftop, capacity" in text and "0.61" in text
    assert "statistic" in text and "Curtailment dropped to 3 percent in 2024." in text
    assert "Marren Valley (PLACE, 6×)" in text


def test_empty_sections_say_none_found() -> None:
    text = _rendered(_report(patterns=[], themes=[], claims=[], entities=[]))

    assert text.count("(none found)") == 3
    assert "No pattern found: a pattern needs at least two supporting sentences." in text


def test_rich_markup_in_source_text_is_shown_literally() -> None:
    report = _report(
        summary="Alert: [bold red]x[/] marks the spot.",
        key_insights=[KeyInsight(insight="[link=http://evil]click[/link]", evidence="[b]quote[/b]", importance=0.5)],
    )

    text = _rendered(report)

    assert "Alert: [bold red]x[/] marks the spot." in text
    assert "[link=http://evil]click[/link]" in text
    assert "“[b]quote[/b]”" in text


def test_cache_hit_line_shows_how_similarity_and_age() -> None:
    hit = CacheHitInfo(how="semantic", similarity=0.947, age_seconds=3 * 3600 + 125, entry_id=4,
                       namespace="autointel:quick:local", query_text="the request")

    text = _rendered(_report(), cache_hit=hit)

    assert "Served from cache (semantic match, similarity 0.95, 3 h 2 min old, cache entry #" in text


def test_service_notices_are_shown_under_the_title() -> None:
    text = _rendered(_report(), notices=("The LLM was unavailable; this is the local analysis.",))

    assert "Note: The LLM was unavailable; this is the local analysis." in text


def test_fresh_report_has_no_cache_line() -> None:
    assert "Served from cache" not in _rendered(_report())


def test_synthesis_and_failed_sources_are_shown_when_present() -> None:
    synthesis = CrossSourceSynthesis(
        summary="Both sources agree that storage matters.",
        common_themes=["battery storage"],
        divergences=["how fast wind can grow"],
        contradictions=["the 2030 share of renewables"],
    )

    text = _rendered(_report(synthesis=synthesis, failed_sources=["https://example.com/a: timed out"]))

    assert "Cross-source synthesis" in text and "Both sources agree that storage matters." in text
    assert "• battery storage" in text and "• how fast wind can grow" in text
    assert "• the 2030 share of renewables" in text
    assert "Sources that failed" in text and "• https://example.com/a: timed out" in text


# --- The real console, as a subprocess ----------------------------------------------------------


def _console_env(tmp_path: Path) -> dict[str, str]:
    # No setting leaks in from the developer's or CI's environment: every run starts from defaults.
    env = {key: value for key, value in os.environ.items() if key.lower() not in Settings.model_fields}
    env.update(
        PYTHONPATH=str(REPO_ROOT),
        DATA_DIR=str(tmp_path / "data"),
        HF_HUB_OFFLINE="1",
        TRANSFORMERS_OFFLINE="1",
        COLUMNS="120",
        PYTHONUNBUFFERED="1",
    )
    return env


def _run_console(
    tmp_path: Path, *args: str, stdin: str | None = None, extra_env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", "console", *args],
        cwd=tmp_path,
        env={**_console_env(tmp_path), **(extra_env or {})},
        input=stdin,
        capture_output=True,
        text=True,
        timeout=SUBPROCESS_TIMEOUT,
        check=False,
    )


@pytest.fixture(scope="module")
def sample_run(tmp_path_factory: pytest.TempPathFactory) -> subprocess.CompletedProcess[str]:
    """One real run on the sample article, shared by the tests that read its output."""
    tmp_path = tmp_path_factory.mktemp("console-sample")
    return _run_console(tmp_path, "--run", f"/autointel {SAMPLE_ARTICLE} depth:standard")


def test_sample_file_run_exits_0_and_renders_the_report(sample_run: subprocess.CompletedProcess[str]) -> None:
    assert sample_run.returncode == 0, sample_run.stderr
    out = sample_run.stdout
    assert "Intelligence report: renewables_article.md" in out
    assert "Engine: local analysis" in out
    assert "Summary" in out and "Key insights" in out and "Themes" in out
    assert "1. " in out and "(importance " in out
    assert "Traceback" not in sample_run.stderr


def test_sample_file_run_shows_progress_on_stderr(sample_run: subprocess.CompletedProcess[str]) -> None:
    assert "… Loading the embedding model" in sample_run.stderr
    assert "… Reading input" in sample_run.stderr


def test_json_output_of_pasted_text_validates_as_a_report(tmp_path: Path) -> None:
    result = _run_console(tmp_path, "--json", "--run", f"/autointel depth:quick {MARKUP_TEXT}")

    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 1
    report = IntelReport.model_validate_json(lines[0])
    assert report.depth == "quick"
    assert report.sources[0].label == "pasted text"
    assert report.sources[0].sha256 == sha256_text(MARKUP_TEXT)
    assert report.engine.name == "local"
    assert report.summary and report.key_insights
    assert any("40 percent" in claim.text and claim.checkable for claim in report.claims)


@pytest.mark.parametrize(
    ("command", "message"),
    [
        ("/autointel", "error: There is nothing to analyse: the text is empty."),
        ("/autointel Too few words here.", "error: The text is too short to analyse (4 words); give at least"),
    ],
)
def test_empty_or_short_input_prints_one_line_and_exits_1(tmp_path: Path, command: str, message: str) -> None:
    result = _run_console(tmp_path, "--run", command)

    assert result.returncode == 1
    assert result.stdout == ""
    error_lines = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(error_lines) == 1 and error_lines[0].startswith(message)
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "data").exists(), "refused before the model and database were loaded"


def test_unknown_command_exits_2_without_loading_the_model(tmp_path: Path) -> None:
    result = _run_console(tmp_path, "--run", "/frobnicate now")

    assert result.returncode == 2
    assert result.stderr.strip() == "error: Unknown command '/frobnicate' (type /help for usage)"
    assert not (tmp_path / "data").exists()


def test_missing_embedding_model_is_a_configuration_error_exit_2(tmp_path: Path) -> None:
    missing_model = {"EMBEDDING_MODEL": str(tmp_path / "no-model")}

    result = _run_console(tmp_path, "--run", f"/autointel {SAMPLE_ARTICLE}", extra_env=missing_model)

    assert result.returncode == 2
    assert result.stdout == ""
    error_lines = [line for line in result.stderr.splitlines() if "error:" in line]
    assert len(error_lines) == 1
    assert error_lines[0].startswith("configuration error: EMBEDDING_MODEL: no model directory at")
    assert "Traceback" not in result.stderr


def test_interactive_mode_reads_commands_from_stdin_until_quit(tmp_path: Path) -> None:
    pasted_article = (REPO_ROOT / "samples" / "sleep_and_screens.md").read_text(encoding="utf-8")
    commands = (
        f"/help\n/bogus\n/autointel depth:quick\n{pasted_article}\n.\n"
        f"/autointel {MARKUP_TEXT}\n/autointel {MARKUP_TEXT}\n/quit\n/autointel never runs\n"
    )

    result = _run_console(tmp_path, stdin=commands)

    assert result.returncode == 0, result.stderr
    assert "/autointel <text | path to a .txt/.md/.html/.pdf file>" in result.stdout
    assert "error: Unknown command '/bogus'" in result.stderr
    assert "Paste the text; end it with a line holding only '.'" in result.stderr
    assert result.stdout.count("Intelligence report: pasted text") == 3
    assert result.stdout.count("Served from cache (exact match, similarity 1.00, ") == 1, "the repeat is a hit"
    assert "Depth: quick" in result.stdout and "Brookfield" in result.stdout
    assert "[bold red]x[/]" in result.stdout, "markup in a source is shown literally"
    assert "never runs" not in result.stdout
    assert "Traceback" not in result.stderr


def test_end_of_input_leaves_the_prompt_cleanly(tmp_path: Path) -> None:
    result = _run_console(tmp_path, stdin="/help\n")

    assert result.returncode == 0
    assert "/quit" in result.stdout
    assert "Traceback" not in result.stderr


# The console started as a non-interactive shell's background job (or `make` under one) inherits
# SIGINT ignored; exec keeps it ignored.
_START_WITH_SIGINT_IGNORED = (
    "import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_IGN); "
    "os.execv(sys.executable, [sys.executable, '-m', 'bot', 'console'])"
)


@pytest.mark.parametrize("parent", ["terminal", "sigint-ignored"])
def test_ctrl_c_at_the_prompt_exits_130_without_a_traceback(tmp_path: Path, parent: str) -> None:
    command = [sys.executable, "-m", "bot", "console"] if parent == "terminal" else [
        sys.executable, "-c", _START_WITH_SIGINT_IGNORED]
    process = subprocess.Popen(
        command,
        cwd=tmp_path, env=_console_env(tmp_path),
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    prompt_seen = threading.Event()
    stderr_lines: list[str] = []

    def watch_stderr() -> None:
        assert process.stderr is not None
        while chunk := process.stderr.read(1):
            stderr_lines.append(chunk)
            if "autointel> " in "".join(stderr_lines):
                prompt_seen.set()

    watcher = threading.Thread(target=watch_stderr, daemon=True)
    watcher.start()
    try:
        assert prompt_seen.wait(SUBPROCESS_TIMEOUT)
        process.send_signal(signal.SIGINT)
        returncode = process.wait(SUBPROCESS_TIMEOUT)
    finally:
        process.kill()
        process.wait()
    watcher.join(SUBPROCESS_TIMEOUT)

    assert returncode == 130
    assert "Traceback" not in "".join(stderr_lines)
    assert "Fatal Python error" not in "".join(stderr_lines)


def test_ask_intel_cache_and_settings_answer_from_the_consoles_own_tenant(tmp_path: Path) -> None:
    commands = [f"/autointel depth:quick {MARKUP_TEXT}", "/ask How much did rainfall rise in 2024?",
                "/intel history", "/intel search flooded streets", "/cache stats", "/settings show"]
    result = _run_console(tmp_path, "--json", *(part for command in commands for part in ("--run", command)))

    assert result.returncode == 0, result.stderr
    report_line, answer_line, history_line, match_line, stats_line, settings_line = result.stdout.splitlines()
    report = IntelReport.model_validate_json(report_line)
    answer = Answer.model_validate_json(answer_line)
    history = ReportHistory.model_validate_json(history_line)
    stats = CacheStats.model_validate_json(stats_line)
    settings_view = SettingsView.model_validate_json(settings_line)
    assert answer.found and "40 percent" in answer.text
    assert [citation.report_id for citation in answer.citations] == [1]
    assert history.total == 1 and history.summaries[0].title == report.title
    assert '"report_id":1' in match_line
    assert stats.entries >= 1  # the report (and the answer) are cached under the console's tenant
    assert settings_view.effective.default_depth == "standard"


def test_cache_wrong_forgets_the_last_cached_answer(tmp_path: Path) -> None:
    repeat = f"/autointel depth:quick {MARKUP_TEXT}"
    commands = [repeat, repeat, "/cache wrong", repeat, "/cache stats"]
    result = _run_console(tmp_path, "--json", *(part for command in commands for part in ("--run", command)))

    assert result.returncode == 0, result.stderr
    _first, _cached, fresh, stats_line = result.stdout.splitlines()
    assert "Cache entry #" in result.stderr and "forgotten" in result.stderr
    stats = CacheStats.model_validate_json(stats_line)
    assert stats.wrong_answers == 1
    assert stats.exact_hits == 1  # only the second run came from the cache; the third analysed again
    assert IntelReport.model_validate_json(fresh).summary


def test_cache_wrong_without_a_cached_answer_says_so(tmp_path: Path) -> None:
    result = _run_console(tmp_path, "--run", "/cache wrong")

    assert result.returncode == 1
    assert "No answer in this session came from the cache" in result.stderr
    assert "Traceback" not in result.stderr
