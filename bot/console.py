"""The offline console: a second front end on the same core, with no Discord and no token.

``python -m bot console`` opens a prompt taking the Discord commands (``/autointel``, ``/help``,
``/quit``); ``python -m bot console --run "/autointel notes.md depth:quick"`` runs commands and
exits.  Exit codes: 0 success, 1 a command failed with an :class:`~core.errors.IntelError` (its
message printed on one line), 2 a usage error.  ``--json`` writes each report as one line of JSON
to stdout (JSON Lines) and everything else to stderr.

Source text is data: it is rendered through :class:`rich.text.Text` objects, never parsed as markup.
Stdin is read on a daemon thread with ``os.read`` so the event loop never blocks on the prompt and
Ctrl-C can end the program while a read is pending (see ``docs/console.md``).
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import sys
import threading
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict
from rich.console import Console, Group, RenderableType
from rich.panel import Panel
from rich.rule import Rule
from rich.status import Status
from rich.table import Table
from rich.text import Text

from core.errors import ConfigError, EmptyInputError, InputError, IntelError
from core.inputs import (
    ATTACHMENT_SUFFIXES,
    Attachment,
    FileInfo,
    InputLimits,
    check_file,
    check_request_input,
)
from core.models import IntelReport
from core.progress import Progress
from core.render import NO_PATTERNS
from core.settings import Depth, Settings
from core.tenants import CONSOLE_TENANT_ID

if TYPE_CHECKING:
    from core.cache import CacheStats
    from core.reports import Answer, ReportMatch
    from core.runtime import IntelRuntime
    from core.service import AutointelResult, CacheHitInfo, IntelService, ReportHistory, SettingsView

__all__ = [
    "EXIT_FAILED",
    "EXIT_OK",
    "EXIT_USAGE",
    "ConsoleCommand",
    "ConsoleUsageError",
    "FileReadError",
    "check_pasted_text",
    "parse_command",
    "read_target_file",
    "render_answer",
    "render_report",
    "run_console",
]

_log = logging.getLogger(__name__)

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2

CONSOLE_USER_ID = 0

HELP_TEXT = """\
Commands (the same as in Discord):
  /autointel <text | path to a .txt/.md/.html/.pdf file> [depth:quick|standard|deep] [fresh:true]
      Analyse pasted text or a file and print the report.
      depth:  how much to extract (default: the DEFAULT_DEPTH setting)
      fresh:  true to skip the cache and analyse again
      Options may appear anywhere on the line; "target:" before the text is accepted too.
      At the prompt, /autointel with no text asks for a multi-line paste ended by a "." line.
  /ask <question>          answer from the console's own past reports, citing them
  /intel history           list the console's reports, newest first
  /intel search <words>    find the console's reports about something
  /cache stats             entries and hit rates of the console's cache
  /cache wrong             the last answer served from the cache was wrong: forget it, never match it again
  /settings show           the settings in force for the console
  /digest <chat file>      digest a file of "[time] author: message" lines (topics, decisions,
                           open questions, links; #n points to line n)
  /help   show this help
  /quit   leave (Ctrl-D and Ctrl-C work too)
"""

_DEPTHS: tuple[Depth, ...] = ("quick", "standard", "deep")
_TRUE_WORDS = frozenset({"true", "yes", "on", "1"})
_FALSE_WORDS = frozenset({"false", "no", "off", "0"})
_OPTION_RE = re.compile(r"(?<!\S)(depth|fresh):(\S*)", re.IGNORECASE)
_COMMAND_ALIASES = {
    "autointel": "autointel", "ask": "ask", "intel": "intel", "cache": "cache", "settings": "settings",
    "help": "help", "quit": "quit", "exit": "quit", "digest": "digest",
}
# The subcommands each group takes on the console (the first is the default when none is given).
_SUBCOMMANDS: dict[str, tuple[str, ...]] = {
    "intel": ("history", "search"), "cache": ("stats", "wrong"), "settings": ("show",),
}
CommandName = Literal["autointel", "ask", "intel", "cache", "settings", "help", "quit", "digest"]
_MAX_PATH_CHARS = 1024
_NONE_FOUND = Text("(none found)", style="dim")


class ConsoleUsageError(IntelError):
    """A console command line that cannot be understood.  Inherits from :class:`IntelError`."""

    def __init__(self, problem: str) -> None:
        self.problem = problem
        super().__init__(f"{problem} (type /help for usage)")


class FileReadError(InputError):
    """A file named on the console could not be read.  Inherits from :class:`InputError`."""

    def __init__(self, path: str, reason: str) -> None:
        self.path = path
        self.reason = reason
        super().__init__(f"Cannot read {path}: {reason}.")


class ConsoleCommand(BaseModel):
    """One parsed console line."""

    model_config = ConfigDict(frozen=True)

    name: CommandName
    subcommand: str | None = None
    target: str = ""
    depth: Depth | None = None
    fresh: bool = False


# --- Parsing ------------------------------------------------------------------------------------


def parse_command(line: str) -> ConsoleCommand | None:
    """Parse one console line; ``None`` for a blank line.  Raises :class:`ConsoleUsageError`."""
    stripped = line.strip()
    if not stripped:
        return None
    word, _, rest = stripped.partition(" ")
    if not word.startswith("/"):
        raise ConsoleUsageError("Commands start with '/', e.g. /autointel <text>")
    name = _COMMAND_ALIASES.get(word[1:].lower())
    if name is None:
        raise ConsoleUsageError(f"Unknown command {word!r}")
    if name in _SUBCOMMANDS:
        return _group_command(name, rest)
    if name == "ask":
        if not rest.strip():
            raise ConsoleUsageError("Ask a question, e.g. /ask what changed at the harbour?")
        return ConsoleCommand(name="ask", target=rest.strip())
    if name == "digest":
        if not rest.strip():
            raise ConsoleUsageError("Name a chat file, e.g. /digest samples/team_chat.txt")
        return ConsoleCommand(name="digest", target=rest.strip())
    if name != "autointel":
        return ConsoleCommand(name=name)  # type: ignore[arg-type]
    options: dict[str, str] = {}

    def take_option(match: re.Match[str]) -> str:
        options[match.group(1).lower()] = match.group(2)
        return ""

    target = _OPTION_RE.sub(take_option, rest).strip()
    target = re.sub(r"^target:\s*", "", target, flags=re.IGNORECASE)
    return ConsoleCommand(
        name="autointel",
        target=target,
        depth=_parse_depth(options.get("depth")),
        fresh=_parse_fresh(options.get("fresh")),
    )


def _group_command(name: str, rest: str) -> ConsoleCommand:
    """``/intel search <words>``, ``/cache stats``, ``/settings show``: a subcommand, maybe text."""
    allowed = _SUBCOMMANDS[name]
    word, _, text = rest.strip().partition(" ")
    subcommand = word.lower() or allowed[0]
    if subcommand not in allowed:
        raise ConsoleUsageError(f"/{name} takes {' or '.join(allowed)} on the console, not {word!r}")
    if subcommand == "search" and not text.strip():
        raise ConsoleUsageError("Give search words, e.g. /intel search harbour")
    return ConsoleCommand(name=name, subcommand=subcommand, target=text.strip())  # type: ignore[arg-type]


def _parse_depth(value: str | None) -> Depth | None:
    if value is None:
        return None
    for depth in _DEPTHS:
        if value.lower() == depth:
            return depth
    raise ConsoleUsageError(f"depth must be quick, standard or deep, not {value!r}")


def _parse_fresh(value: str | None) -> bool:
    if value is None:
        return False
    if value.lower() in _TRUE_WORDS:
        return True
    if value.lower() in _FALSE_WORDS:
        return False
    raise ConsoleUsageError(f"fresh must be true or false, not {value!r}")


def read_target_file(target: str, *, limits: InputLimits) -> Attachment | None:
    """The file ``target`` names, read as an attachment; ``None`` when ``target`` is text.

    Blocking (stat and read): call it through the worker gate.  A target that looks like a file
    path of a type the bot reads but names no file raises :class:`FileReadError` rather than being
    analysed as two words of text.  Type and size are checked before reading, by the same rule
    Discord attachments meet (:func:`core.inputs.check_file`).
    """
    candidate = target.strip().strip("\"'")
    if not candidate or "\n" in candidate or len(candidate) > _MAX_PATH_CHARS:
        return None
    path = Path(candidate).expanduser()
    try:
        is_file = path.is_file()
    except OSError:
        return None
    if not is_file:
        if path.suffix.lower() in ATTACHMENT_SUFFIXES and " " not in candidate:
            raise FileReadError(candidate, "no such file")
        return None
    try:
        check_file(FileInfo(filename=path.name, size=path.stat().st_size), limits=limits)
        data = path.read_bytes()
    except OSError as exc:
        raise FileReadError(candidate, exc.strerror or type(exc).__name__) from exc
    return Attachment(filename=path.name, data=data)


# --- Rendering ----------------------------------------------------------------------------------


def render_report(
    report: IntelReport, *, cache_hit: CacheHitInfo | None = None, notices: Sequence[str] = ()
) -> Group:
    """The report as rich renderables.  Every piece of source text goes in as a plain ``Text``."""
    parts: list[RenderableType] = [_title_panel(report)]
    if cache_hit is not None:
        parts.append(Text(_cache_line(cache_hit), style="cyan"))
    parts += [Text(f"Note: {notice}", style="yellow") for notice in notices]
    parts.append(_heading("Summary"))
    if report.headline:
        parts.append(Text.assemble(("TL;DR: ", "bold"), (report.headline, "bold")))
    parts.append(Text(report.summary or "(no summary)"))
    parts += [_heading("Key insights"), _insights(report)]
    parts += [_heading("Patterns"), _patterns_table(report)]
    parts += [_heading("Themes"), _themes_table(report)]
    parts += [_heading("Claims"), _claims_table(report)]
    parts += [_heading("Entities"), _entities_line(report)]
    if report.synthesis is not None:
        parts += [_heading("Cross-source synthesis"), _synthesis(report)]
    if report.failed_sources:
        parts += [_heading("Sources that failed"), _bullets(report.failed_sources)]
    return Group(*parts)


def _heading(title: str) -> Group:
    return Group(Text(), Rule(Text(title, style="bold"), align="left", style="dim"))


def _title_panel(report: IntelReport) -> Panel:
    body = Text()
    for index, source in enumerate(report.sources, start=1):
        prefix = f"Source {index}: " if len(report.sources) > 1 else "Source: "
        body.append(prefix, style="bold")
        body.append(source.label)
        if source.url and source.url != source.label:
            body.append(f" <{source.url}>", style="dim")
        body.append(f" ({source.words:,} words, sha256 {source.sha256[:12]}…)\n", style="dim")
    body.append("Engine: ", style="bold")
    body.append(report.engine.label)
    body.append("   Depth: ", style="bold")
    body.append(report.depth)
    body.append(f"   Created: {report.created_at:%Y-%m-%d %H:%M} UTC", style="dim")
    title = Text("Intelligence report: ", style="bold")
    title.append(report.title)
    return Panel(body, title=title, title_align="left", border_style="blue")


def _cache_line(hit: CacheHitInfo) -> str:
    return f"Served from cache ({hit.describe()}); wrong answer? type /cache wrong"


def _insights(report: IntelReport) -> RenderableType:
    """Numbered insights with a hanging indent; the evidence quote is shown once when it *is* the insight."""
    if not report.key_insights:
        return _NONE_FOUND
    grid = Table.grid(padding=(0, 1))
    grid.add_column(justify="right", style="bold")
    grid.add_column()
    for number, insight in enumerate(report.key_insights, start=1):
        importance = Text(f"  (importance {insight.importance:.2f})", style="dim")
        if insight.insight.strip() == insight.evidence.strip():
            body: RenderableType = Text.assemble(_quote(insight.evidence), importance)
        else:
            body = Group(Text.assemble((insight.insight, "bold"), importance), _quote(insight.evidence))
        grid.add_row(f"{number}.", body)
    return grid


def _quote(text: str) -> Text:
    return Text(f"“{text}”", style="italic")


_NUMERIC_COLUMNS = frozenset({"Confidence", "Size", "Coherence"})


def _table(*columns: str) -> Table:
    table = Table(show_header=True, header_style="bold", expand=False, show_lines=False)
    for column in columns:
        table.add_column(column, overflow="fold", justify="right" if column in _NUMERIC_COLUMNS else "left")
    return table


def _patterns_table(report: IntelReport) -> RenderableType:
    if not report.patterns:
        return Text(NO_PATTERNS, style="dim")
    table = _table("Type", "Confidence", "Description", "Evidence")
    for pattern in report.patterns:
        # Quotes the description already contains would only be printed twice.
        quotes = [quote for quote in pattern.evidence if quote not in pattern.description][:2]
        evidence = "\n".join(f"“{quote}”" for quote in quotes)
        table.add_row(
            Text(pattern.pattern_type), Text(f"{pattern.confidence:.2f}"),
            Text(pattern.description), Text(evidence, style="italic"),
        )
    return table


def _themes_table(report: IntelReport) -> RenderableType:
    if not report.themes:
        return _NONE_FOUND
    table = _table("Theme", "Keywords", "Size", "Coherence")
    for theme in report.themes:
        table.add_row(
            Text(theme.label), Text(", ".join(theme.keywords)),
            Text(str(theme.size)), Text(f"{theme.coherence:.2f}"),
        )
    return table


def _claims_table(report: IntelReport) -> RenderableType:
    if not report.claims:
        return _NONE_FOUND
    table = _table("Kind", "Checkable", "Claim")
    for claim in report.claims:
        table.add_row(Text(claim.kind), Text("yes" if claim.checkable else "no"), Text(claim.text))
    return table


def _entities_line(report: IntelReport) -> RenderableType:
    if not report.entities:
        return _NONE_FOUND
    line = Text()
    for index, entity in enumerate(report.entities):
        if index:
            line.append(", ")
        line.append(entity.name, style="bold")
        line.append(f" ({entity.label}, {entity.mentions}×)", style="dim")
    return line


def _synthesis(report: IntelReport) -> RenderableType:
    assert report.synthesis is not None
    synthesis = report.synthesis
    return Group(
        Text(synthesis.summary or "(no summary)"),
        Text("Common themes", style="bold"), _bullets(synthesis.common_themes),
        Text("Divergences", style="bold"), _bullets(synthesis.divergences),
        Text("Contradictions", style="bold"), _bullets(synthesis.contradictions),
    )


def _bullets(items: Iterable[str]) -> RenderableType:
    lines = [Text(f"• {item}") for item in items]
    return Group(*lines) if lines else _NONE_FOUND


def render_answer(answer: Answer, *, notices: Sequence[str] = ()) -> Group:
    """``/ask``: the answer, its numbered sources, and any notices; all plain text."""
    parts: list[RenderableType] = [Text(f"Note: {notice}", style="yellow") for notice in notices]
    parts.append(Text(answer.text))
    if answer.citations:
        parts.append(_heading("Sources"))
        parts += [Text(f"[{number}] Report #{citation.report_id}: {citation.title}")
                  for number, citation in enumerate(answer.citations, start=1)]
    return Group(*parts)


def render_history(history: ReportHistory) -> RenderableType:
    if not history.summaries:
        return Text("No reports yet: run /autointel to make one.")
    table = _table("Report", "Title", "Depth", "Engine")
    for summary in history.summaries:
        table.add_row(Text(f"#{summary.report_id}"), Text(summary.title), Text(summary.depth), Text(summary.engine))
    return Group(table, Text(f"{len(history.summaries)} of {history.total} reports, newest first.", style="dim"))


def render_matches(query: str, matches: Sequence[ReportMatch]) -> RenderableType:
    if not matches:
        return Text(f"No report matches “{query}”.")
    table = _table("Report", "Title", "Similarity", "Best passage")
    for match in matches:
        passage = match.passages[0].text if match.passages else ""
        table.add_row(Text(f"#{match.report_id}"), Text(match.title), Text(f"{match.best_similarity:.2f}"),
                      Text(passage[:200]))
    return table


def render_cache_stats(stats: CacheStats) -> RenderableType:
    table = _table("Figure", "Value")
    rows = [
        ("Entries", f"{stats.entries} ({stats.semantic_entries} matchable by meaning)"),
        ("Hits", f"{stats.hits} ({stats.exact_hits} exact, {stats.semantic_hits} semantic); {stats.misses} misses"),
        ("Last 24 hours", f"{stats.hits_24h} hits of {stats.lookups_24h} lookups"),
        ("Last 7 days", f"{stats.hits_7d} hits of {stats.lookups_7d} lookups"),
        ("Size on disk", f"{stats.size_bytes:,} bytes"),
        ("Removed", f"{stats.evictions} evicted, {stats.expired} expired, {stats.stale} stale"),
        ("Reported wrong", f"{stats.wrong_answers} (never matched again)"),
    ]
    for name, value in rows:
        table.add_row(Text(name), Text(value))
    return table


def render_settings(view: SettingsView) -> RenderableType:
    table = _table("Setting", "Value", "Set here")
    overrides = view.overrides.model_dump(exclude_defaults=True)
    for key, value in view.effective.model_dump().items():
        table.add_row(Text(key), Text(str(value)), Text("yes" if key in overrides else ""))
    return table


# --- Output and progress ------------------------------------------------------------------------


class _Output:
    """Where things go: reports to stdout (rendered or JSON), everything else to stderr."""

    def __init__(self, *, as_json: bool) -> None:
        self.as_json = as_json
        self.stdout = Console(highlight=False)
        self.stderr = Console(stderr=True, highlight=False)

    @property
    def chat(self) -> Console:
        """The console for help and banners: stderr in JSON mode, so stdout stays parseable."""
        return self.stderr if self.as_json else self.stdout

    def result(self, result: AutointelResult) -> None:
        if self.as_json:
            sys.stdout.write(result.report.model_dump_json() + "\n")
            sys.stdout.flush()
            return
        self.stdout.print(render_report(result.report, cache_hit=result.cache_hit, notices=result.notices))
        self.stdout.print(Text(f"Done in {result.elapsed_seconds:.1f} s.", style="dim"))

    def model(self, value: BaseModel, rendered: RenderableType) -> None:
        """A command's answer: one JSON line with ``--json``, else rendered."""
        if self.as_json:
            sys.stdout.write(value.model_dump_json() + "\n")
            sys.stdout.flush()
            return
        self.stdout.print(rendered)

    def models(self, values: Sequence[BaseModel], rendered: RenderableType) -> None:
        """Several answers (search matches): one JSON line each with ``--json``, else rendered."""
        if not self.as_json:
            self.stdout.print(rendered)
            return
        for value in values:
            sys.stdout.write(value.model_dump_json() + "\n")
        sys.stdout.flush()

    def error(self, error: BaseException, *, prefix: str = "error") -> None:
        line = Text(f"{prefix}: ", style="bold red")
        line.append(str(error) or type(error).__name__)
        self.stderr.print(line, soft_wrap=True)

    def help(self) -> None:
        self.chat.print(Text(HELP_TEXT), end="")

    def line(self, text: str) -> None:
        """A one-line confirmation (stderr with ``--json``, so stdout stays parseable)."""
        self.chat.print(Text(text))


class _ProgressDisplay:
    """A spinner on a terminal; on a pipe, one plain line each time the stage changes."""

    def __init__(self, console: Console) -> None:
        self._console = console
        self._status: Status | None = None
        self._last_stage: str | None = None

    def __enter__(self) -> _ProgressDisplay:
        if self._console.is_terminal:
            self._status = self._console.status(Text("Starting"), spinner="dots")
            self._status.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._status is not None:
            self._status.stop()
            self._status = None

    async def __call__(self, progress: Progress) -> None:
        if self._status is not None:
            self._status.update(Text(progress.describe()))
        elif progress.stage != self._last_stage:
            self._console.print(Text(f"… {progress.describe()}", style="dim"), soft_wrap=True)
        self._last_stage = progress.stage


# --- Reading stdin off the loop -----------------------------------------------------------------


class _StdinLines:
    """Lines from stdin, read on a daemon thread with ``os.read`` and awaited on the loop.

    ``os.read`` rather than ``input()``/``sys.stdin``: a daemon thread blocked inside the buffered
    ``sys.stdin`` holds its lock, and the interpreter then aborts at exit after Ctrl-C.  The
    kernel's line discipline still gives a terminal its usual editing keys.
    """

    def __init__(self, fd: int) -> None:
        self._fd = fd
        self._buffer = b""
        self._eof = False

    async def next_line(self) -> str | None:
        """The next line without its newline, or ``None`` at end of input."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[str | None] = loop.create_future()

        def deliver(line: str | None) -> None:
            if not future.done():
                future.set_result(line)

        def read() -> None:
            line = self._read_line_blocking()
            try:
                loop.call_soon_threadsafe(deliver, line)
            except RuntimeError:  # the loop closed while we were reading: nobody wants the line
                pass

        threading.Thread(target=read, name="console-stdin", daemon=True).start()
        return await future

    def _read_line_blocking(self) -> str | None:
        while b"\n" not in self._buffer and not self._eof:
            try:
                chunk = os.read(self._fd, 65536)
            except OSError:
                chunk = b""
            if not chunk:
                self._eof = True
            self._buffer += chunk
        if not self._buffer:
            return None
        line, _, self._buffer = self._buffer.partition(b"\n")
        return line.decode("utf-8", errors="replace").rstrip("\r")


# --- Running commands ---------------------------------------------------------------------------


class _LazyRuntime:
    """Starts the :class:`IntelRuntime` on the first ``/autointel``, so /help and /quit answer at once."""

    def __init__(self, settings: Settings, output: _Output) -> None:
        self.settings = settings
        self._output = output
        self._runtime: IntelRuntime | None = None
        self.last_cache_hit: CacheHitInfo | None = None
        """The last reply served from the cache in this session (what ``/cache wrong`` reports)."""

    async def __aenter__(self) -> _LazyRuntime:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        if self._runtime is not None:
            await self._runtime.close()

    async def get(self) -> IntelRuntime:
        if self._runtime is not None:
            return self._runtime
        # Imported here (core.service too) so usage errors, /help and refused input answer at once,
        # without importing torch and FAISS.  The model loader's own progress bar would garble the
        # spinner: the stage line already says what is happening.
        os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
        from core.runtime import IntelRuntime

        # One operator at their own terminal: the per-user cooldown that protects a shared bot from
        # its users would only make a `--run` script's second command fail.
        runtime = IntelRuntime(self.settings.model_copy(update={"user_cooldown_seconds": 0.0}))
        try:
            with _ProgressDisplay(self._output.stderr) as display:
                await display(Progress("Loading the embedding model"))
                await runtime.start()
        except BaseException:
            await runtime.close()
            raise
        self._runtime = runtime
        return runtime


def check_pasted_text(target: str, *, settings: Settings) -> None:
    """Refuse empty or too-short pasted text before the model loads, as the Discord cog does
    before it defers.  A target that may name a file (one token, or quoted) or is a list of URLs
    is left to the runtime; the service checks every input again either way."""
    stripped = target.strip()
    if not stripped:
        raise EmptyInputError()
    if len(stripped.split()) == 1 or stripped[0] in "\"'":
        return
    check_request_input(stripped, limits=InputLimits.from_settings(settings))


async def _autointel(runtimes: _LazyRuntime, command: ConsoleCommand, output: _Output) -> None:
    check_pasted_text(command.target, settings=runtimes.settings)
    runtime = await runtimes.get()
    assert runtime.service is not None
    from core.service import AutointelRequest  # loaded with the runtime, see _LazyRuntime.get
    limits = InputLimits.from_settings(runtime.settings)
    attachment = await runtime.gate.run(read_target_file, command.target, limits=limits)
    request = AutointelRequest(
        guild_id=CONSOLE_TENANT_ID,
        user_id=CONSOLE_USER_ID,
        target="" if attachment else command.target,
        attachments=(attachment,) if attachment else (),
        depth=command.depth,
        fresh=command.fresh,
    )
    with _ProgressDisplay(output.stderr) as display:
        result = await runtime.service.autointel(request, progress=display)
    runtimes.last_cache_hit = result.cache_hit
    output.result(result)


async def _service(runtimes: _LazyRuntime) -> IntelService:
    runtime = await runtimes.get()
    assert runtime.service is not None
    return runtime.service


async def _ask(runtimes: _LazyRuntime, command: ConsoleCommand, output: _Output) -> None:
    service = await _service(runtimes)
    from core.service import AskRequest  # loaded with the runtime, see _LazyRuntime.get

    result = await service.ask(AskRequest(guild_id=CONSOLE_TENANT_ID, user_id=CONSOLE_USER_ID, question=command.target))
    runtimes.last_cache_hit = result.cache_hit
    output.model(result.answer, render_answer(result.answer, notices=result.notices))


async def _intel(runtimes: _LazyRuntime, command: ConsoleCommand, output: _Output) -> None:
    service = await _service(runtimes)
    if command.subcommand == "search":
        matches = await service.search_reports(CONSOLE_TENANT_ID, command.target)
        output.models(matches, render_matches(command.target, matches))
        return
    history = await service.report_history(CONSOLE_TENANT_ID, limit=50)
    output.model(history, render_history(history))


async def _cache_wrong(runtimes: _LazyRuntime, output: _Output) -> None:
    """``/cache wrong``: the console's "Wrong answer?" button, for the last cached reply."""
    hit = runtimes.last_cache_hit
    if hit is None:
        raise InputError("No answer in this session came from the cache; nothing to report.")
    marked = await (await _service(runtimes)).report_wrong_answer(CONSOLE_TENANT_ID, user_id=CONSOLE_USER_ID, hit=hit)
    runtimes.last_cache_hit = None
    output.line(f"Cache entry #{hit.entry_id} forgotten; this request will not be answered with it again."
                if marked else "That cached answer is already gone; nothing more to do.")


async def _cache_stats(runtimes: _LazyRuntime, output: _Output) -> None:
    stats = await (await _service(runtimes)).cache_stats(CONSOLE_TENANT_ID)
    output.model(stats, render_cache_stats(stats))


async def _settings_show(runtimes: _LazyRuntime, output: _Output) -> None:
    view = await (await _service(runtimes)).settings_view(CONSOLE_TENANT_ID)
    output.model(view, render_settings(view))


async def _digest(runtimes: _LazyRuntime, command: ConsoleCommand, output: _Output) -> None:
    from bot.console_digest import read_chat_file, render_digest

    runtime = await runtimes.get()
    assert runtime.digests is not None
    messages = await runtime.gate.run(read_chat_file, command.target)
    with _ProgressDisplay(output.stderr) as display:
        digest = await runtime.digests.digest(CONSOLE_TENANT_ID, messages, progress=display)
    output.model(digest, render_digest(digest, source=command.target))


async def _dispatch(runtimes: _LazyRuntime, command: ConsoleCommand, output: _Output) -> None:
    if command.name == "digest":
        await _digest(runtimes, command, output)
    elif command.name == "ask":
        await _ask(runtimes, command, output)
    elif command.name == "intel":
        await _intel(runtimes, command, output)
    elif command.name == "cache" and command.subcommand == "wrong":
        await _cache_wrong(runtimes, output)
    elif command.name == "cache":
        await _cache_stats(runtimes, output)
    elif command.name == "settings":
        await _settings_show(runtimes, output)
    else:
        await _autointel(runtimes, command, output)


async def _execute(runtimes: _LazyRuntime, command: ConsoleCommand, output: _Output) -> int:
    """Run one command; returns its exit code and prints any failure on one line.

    A :class:`ConfigError` (e.g. no model at ``EMBEDDING_MODEL``) is not the command's fault and
    would recur on every command: it propagates and ends the console with exit code 2.
    """
    if command.name == "help":
        output.help()
        return EXIT_OK
    try:
        await _dispatch(runtimes, command, output)
    except ConfigError:
        raise
    except IntelError as exc:
        output.error(exc)
        return EXIT_FAILED
    except Exception as exc:  # a bug: one line for the user, the traceback in the debug log
        _log.debug("console command failed", exc_info=exc)
        output.error(RuntimeError(f"internal error ({type(exc).__name__}); run with LOG_LEVEL=DEBUG for details"))
        return EXIT_FAILED
    return EXIT_OK


async def _run_commands(settings: Settings, lines: Sequence[str], output: _Output) -> int:
    """``--run``: parse every command first (usage errors exit 2 at once), then run them in order."""
    try:
        commands = [command for line in lines if (command := parse_command(line)) is not None]
    except ConsoleUsageError as exc:
        output.error(exc)
        return EXIT_USAGE
    async with _LazyRuntime(settings, output) as runtimes:
        for command in commands:
            if command.name == "quit":
                break
            code = await _execute(runtimes, command, output)
            if code != EXIT_OK:
                return code
    return EXIT_OK


_PASTE_END = "."


class _Prompt:
    """The interactive prompt on stderr; echoes what it read when stdin is not a terminal."""

    def __init__(self, output: _Output) -> None:
        self._output = output
        self._stdin = _StdinLines(sys.stdin.fileno())
        self._echo = not sys.stdin.isatty()

    async def read(self, prompt: str) -> str | None:
        self._output.stderr.print(Text(prompt, style="bold cyan"), end="")
        line = await self._stdin.next_line()
        if line is None:
            self._output.stderr.print()
        elif self._echo:
            self._output.stderr.print(Text(line), soft_wrap=True)
        return line

    async def read_pasted_text(self) -> str:
        """Lines up to one holding only ``.`` (or the end of input), for multi-line paste."""
        self._output.stderr.print(Text(f"Paste the text; end it with a line holding only '{_PASTE_END}'."))
        lines: list[str] = []
        while (line := await self.read("... ")) is not None and line.strip() != _PASTE_END:
            lines.append(line)
        return "\n".join(lines)


async def _run_interactive(settings: Settings, output: _Output) -> int:
    """The prompt: read, parse, run, until /quit or end of input.

    ``/autointel`` with no text asks for a multi-line paste, since one line is one command.
    """
    prompt = _Prompt(output)
    output.chat.print(Text("autointel console: type /help for commands, /quit to leave.", style="bold"))
    async with _LazyRuntime(settings, output) as runtimes:
        while (line := await prompt.read("autointel> ")) is not None:
            try:
                command = parse_command(line)
            except ConsoleUsageError as exc:
                output.error(exc)
                continue
            if command is None:
                continue
            if command.name == "quit":
                break
            if command.name == "autointel" and not command.target:
                command = command.model_copy(update={"target": await prompt.read_pasted_text()})
            await _execute(runtimes, command, output)
    return EXIT_OK


async def run_console(settings: Settings, *, commands: list[str] | None, as_json: bool) -> int:
    """The console front end; returns the process exit code (0, 1 or 2)."""
    output = _Output(as_json=as_json)
    try:
        if commands:
            return await _run_commands(settings, commands, output)
        return await _run_interactive(settings, output)
    except ConfigError as exc:
        output.error(exc, prefix="configuration error")  # worded as bot/__main__.py words it
        return EXIT_USAGE
    except IntelError as exc:
        output.error(exc)
        return EXIT_FAILED
