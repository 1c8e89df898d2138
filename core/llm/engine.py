"""The LLM analysis engine, and the process-wide parts it shares between requests.

:class:`LLMBackend` lives as long as the runtime: the HTTP client, one circuit breaker for the
endpoint, the global cap on concurrent calls, the retry policy and the spend ledger.
:class:`LLMEngine` is a light per-request view of it (a model, a guild and that guild's budget)
that implements :class:`~core.engine.AnalysisEngine` under the name ``llm:<model>``.

Every way the LLM can fail leaves :meth:`LLMEngine.analyse` as an :class:`~core.errors.LLMError`
child; the service catches those and runs the local engine with the reason.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Callable, Sequence

from core.embedder import Embedder
from core.errors import (
    BudgetExceededError,
    LLMError,
    LLMOutputError,
    LLMTimeoutError,
    LLMUnavailableError,
)
from core.gate import WorkerGate
from core.llm.breaker import BreakerPolicy, BreakerSnapshot, CircuitBreaker
from core.llm.build import ground_report
from core.llm.client import (
    ChatClient,
    ChatCompletion,
    ChatMessage,
    ChatRequest,
    LLMResponseFormatError,
    OutputMode,
)
from core.llm.ledger import PriceTable, SpendLedger
from core.llm.mapreduce import PassPlan, plan_passes
from core.llm.prompts import (
    analysis_messages,
    estimate_tokens,
    reduce_messages,
    repair_messages,
    system_prompt,
)
from core.llm.retry import Deadline, Retrier, RetryPolicy
from core.llm.schema import InvalidAnswer, LLMReport, llm_report_schema, parse_llm_report
from core.metrics import Metrics
from core.models import IntelReport, SourceDocument
from core.progress import Progress, ProgressSink
from core.settings import Depth, Settings

__all__ = ["LLMBackend", "LLMEngine", "SilenceNotice", "fallback_reason"]

_log = logging.getLogger(__name__)

MessageBuilder = Callable[[OutputMode], tuple[ChatMessage, ...]]

_PROMPT_MARGIN_TOKENS = 300
# Seconds without an LLM answer before the progress line says it is not answering.
SILENCE_NOTICE_SECONDS = 10.0
# The outer backstop fires this long after the total budget, so the last attempt's own timeout
# (which the breaker counts) normally ends the phase first.
_BACKSTOP_GRACE_SECONDS = 1.0


class LLMBackend:
    """Process-wide LLM parts.  Build once per runtime; :meth:`close` closes the HTTP client."""

    def __init__(
        self,
        *,
        settings: Settings,
        client: ChatClient,
        ledger: SpendLedger,
        embedder: Embedder,
        gate: WorkerGate,
        retrier: Retrier | None = None,
        breaker_policy: BreakerPolicy | None = None,
        clock: Callable[[], float] = time.monotonic,
        metrics: Metrics | None = None,
    ) -> None:
        self.settings = settings
        self.metrics = metrics
        self.client = client
        self.ledger = ledger
        self.embedder = embedder
        self.gate = gate
        self.retrier = retrier or Retrier(RetryPolicy(attempt_timeout_seconds=settings.llm_timeout_seconds))
        self.breaker = CircuitBreaker(client.endpoint, policy=breaker_policy, clock=clock)
        self.prices = PriceTable(
            input_per_mtok=settings.llm_price_input_per_mtok, output_per_mtok=settings.llm_price_output_per_mtok
        )
        self.output_mode: OutputMode = "json_object" if settings.llm_output_mode == "json_object" else "json_schema"
        self._clock = clock
        self._calls = asyncio.Semaphore(settings.llm_max_concurrency)
        self.max_output_tokens = min(4_096, settings.llm_context_tokens // 4)

    @property
    def source_budget_tokens(self) -> int:
        """Tokens of source text one call may carry, after the system prompt and the answer."""
        overhead = estimate_tokens(system_prompt("json_object")) + _PROMPT_MARGIN_TOKENS
        return max(500, self.settings.llm_context_tokens - self.max_output_tokens - overhead)

    def breaker_snapshot(self) -> BreakerSnapshot:
        return self.breaker.snapshot()

    def choose_model(self, requested: str) -> tuple[str, str | None]:
        """The model to use for a guild's choice, and a notice when that choice is not allowed."""
        default = self.settings.llm_model
        if requested == default or requested in self.settings.llm_allowed_models:
            return requested, None
        _log.warning("guild model %r is not in LLM_ALLOWED_MODELS; using %r", requested, default)
        return default, f"The model {requested} is not allowed on this bot; {default} wrote this report."

    def engine_for(self, *, guild_id: int, model: str, budget_usd: float) -> LLMEngine:
        return LLMEngine(backend=self, model=model, guild_id=guild_id, budget_usd=budget_usd)

    def estimate_cost(self, plan: PassPlan) -> float:
        """Upper estimate of a plan's cost: every call writes a full-length answer."""
        overhead = estimate_tokens(system_prompt(self.output_mode)) + _PROMPT_MARGIN_TOKENS
        prompt_tokens = sum(
            overhead + sum(estimate_tokens(piece.text) for piece in call) for call in plan.map_calls
        )
        if plan.reduce:
            prompt_tokens += overhead + len(plan.map_calls) * self.max_output_tokens
        return self.prices.estimate(
            prompt_tokens=prompt_tokens, completion_tokens=plan.call_count * self.max_output_tokens
        )

    async def close(self) -> None:
        await self.client.close()

    async def structured(
        self, build: MessageBuilder, *, model: str, guild_id: int, deadline: Deadline
    ) -> LLMReport:
        """One report-shaped answer: call, validate, one repair attempt, else :class:`LLMOutputError`."""
        messages = build(self.output_mode)
        completion = await self._chat(build, model=model, guild_id=guild_id, deadline=deadline)
        try:
            return parse_llm_report(completion.content)
        except InvalidAnswer as first:
            _log.info("LLM answer invalid (%s); asking for a repair", first)
            problems = first.problems

        def repair(mode: OutputMode) -> tuple[ChatMessage, ...]:
            return repair_messages(messages, answer=completion.content, problems=problems)

        repaired = await self._chat(repair, model=model, guild_id=guild_id, deadline=deadline)
        try:
            return parse_llm_report(repaired.content)
        except InvalidAnswer as second:
            _log.warning("LLM answer still invalid after repair: %s", second)
            raise LLMOutputError(str(second)) from second

    async def complete_within_budget(
        self, request: ChatRequest, *, guild_id: int, budget_usd: float, deadline: Deadline
    ) -> ChatCompletion:
        """One call paid from the guild's daily budget: fails fast on an open breaker, reserves the
        call's upper cost (prompt estimate plus a full-length answer) before it, settles after it."""
        self.breaker.check()
        estimate = self.prices.estimate(
            prompt_tokens=sum(estimate_tokens(message.content) for message in request.messages),
            completion_tokens=request.max_tokens,
        )
        async with self.ledger.reserve(guild_id, estimate_usd=estimate, budget_usd=budget_usd):
            return await self.complete(request, guild_id=guild_id, deadline=deadline)

    async def complete(self, request: ChatRequest, *, guild_id: int, deadline: Deadline) -> ChatCompletion:
        """One logical call: under the concurrency cap, through the breaker, retried within
        ``deadline``, then recorded in the ledger and the metrics.  Every LLM call goes through here."""
        try:
            completion = await self._attempts(request, deadline=deadline)
        except LLMError as error:
            if self.metrics is not None:
                self.metrics.record_llm_call(outcome=type(error).__name__)
            raise
        cost = self.prices.cost(completion.usage)
        await self.ledger.record(guild_id, model=request.model, usage=completion.usage, cost_usd=cost)
        if self.metrics is not None:
            self.metrics.record_llm_call(
                outcome="ok", prompt_tokens=completion.usage.prompt_tokens,
                completion_tokens=completion.usage.completion_tokens, cost_usd=cost,
            )
        return completion

    async def _chat(
        self, build: MessageBuilder, *, model: str, guild_id: int, deadline: Deadline
    ) -> ChatCompletion:
        """A report call; an endpoint that rejects json_schema output is switched to JSON mode once."""
        try:
            return await self.complete(self._request(build, model=model), guild_id=guild_id, deadline=deadline)
        except LLMResponseFormatError:
            if self.settings.llm_output_mode != "auto" or self.output_mode == "json_object":
                raise
            _log.warning("%s does not support json_schema output; using JSON mode", self.client.endpoint)
            self.output_mode = "json_object"
            return await self.complete(self._request(build, model=model), guild_id=guild_id, deadline=deadline)

    def _request(self, build: MessageBuilder, *, model: str) -> ChatRequest:
        schema = llm_report_schema() if self.output_mode == "json_schema" else {}
        return ChatRequest(
            model=model,
            messages=build(self.output_mode),
            output_mode=self.output_mode,
            json_schema=schema,
            max_tokens=self.max_output_tokens,
        )

    async def _attempts(self, request: ChatRequest, *, deadline: Deadline) -> ChatCompletion:
        async def one_attempt(timeout_seconds: float) -> ChatCompletion:
            async def call() -> ChatCompletion:
                async with self._calls:
                    return await self.client.complete(request, timeout_seconds=timeout_seconds)

            return await self.breaker.call(call)

        return await self.retrier.run(one_attempt, deadline=deadline)


class LLMEngine:
    """:class:`~core.engine.AnalysisEngine` backed by the LLM, for one guild and model."""

    def __init__(self, *, backend: LLMBackend, model: str, guild_id: int, budget_usd: float) -> None:
        self._backend = backend
        self.model = model
        self.guild_id = guild_id
        self.budget_usd = budget_usd
        self.dropped_insights = 0
        self._silence: SilenceNotice | None = None

    @property
    def name(self) -> str:
        return f"llm:{self.model}"

    async def analyse(
        self, sources: Sequence[SourceDocument], *, depth: Depth, progress: ProgressSink
    ) -> IntelReport:
        backend = self._backend
        backend.breaker.check()  # open: refuse before spending anything or waiting
        plan = plan_passes(sources, depth=depth, budget_tokens=backend.source_budget_tokens)
        started = time.perf_counter()
        async with backend.ledger.reserve(
            self.guild_id, estimate_usd=backend.estimate_cost(plan), budget_usd=self.budget_usd
        ):
            answer = await self._within_budget(plan, sources=sources, depth=depth, progress=progress)
        await progress(Progress("Checking the LLM's evidence"))
        grounded = await backend.gate.run(
            ground_report,
            answer,
            sources=sources,
            depth=depth,
            model=self.model,
            embedder=backend.embedder,
            elapsed_seconds=time.perf_counter() - started,
        )
        self.dropped_insights = grounded.dropped_insights
        return grounded.report

    async def _within_budget(
        self, plan: PassPlan, *, sources: Sequence[SourceDocument], depth: Depth, progress: ProgressSink
    ) -> LLMReport:
        """The plan's answer within ``LLM_TOTAL_BUDGET_SECONDS``; a hang trips the breaker.

        The per-attempt timeouts shrink to what the deadline leaves, so the last attempt's own
        timeout (a breaker failure) normally ends the phase; the outer timeout, a little later, is
        the backstop.  While no answer comes, :class:`SilenceNotice` tells the user when local
        analysis takes over.
        """
        settings = self._backend.settings
        seconds = settings.llm_total_budget_seconds
        deadline = Deadline(seconds)
        started = time.monotonic()
        self._silence = SilenceNotice(progress, deadline=deadline,
                                      quiet_seconds=min(SILENCE_NOTICE_SECONDS, settings.llm_timeout_seconds))
        try:
            async with asyncio.timeout(seconds + _BACKSTOP_GRACE_SECONDS), self._silence:
                return await self._run_plan(plan, source_count=len(sources), depth=depth, progress=progress,
                                            deadline=deadline)
        except TimeoutError as exc:
            self._backend.breaker.trip(f"no report within {seconds:g} s")
            raise LLMUnavailableError(attempts=0, last_reason=f"no report within {seconds:g} seconds") from exc
        except LLMUnavailableError as error:
            if not _hung(error):
                raise
            waited = f"no answer in {time.monotonic() - started:.0f} seconds"
            self._backend.breaker.trip(f"{waited} ({error.last_reason})")
            raise LLMUnavailableError(attempts=error.attempts, last_reason=waited) from error

    async def _run_plan(
        self, plan: PassPlan, *, source_count: int, depth: Depth, progress: ProgressSink, deadline: Deadline
    ) -> LLMReport:
        if plan.truncated:
            _log.info("quick depth: source text truncated to fit one LLM call")
        partials = await self._map(plan, source_count=source_count, depth=depth, progress=progress,
                                   deadline=deadline)
        if not plan.reduce:
            return partials[0]
        await progress(Progress("Merging the LLM's partial reports", done=len(partials), total=len(partials)))
        return await self._reduce(partials, source_count=source_count, depth=depth, deadline=deadline)

    async def _map(
        self, plan: PassPlan, *, source_count: int, depth: Depth, progress: ProgressSink, deadline: Deadline
    ) -> list[LLMReport]:
        total = len(plan.map_calls)
        done = 0
        await progress(Progress("Asking the LLM", done=0, total=total))

        async def one(pieces: list) -> LLMReport:
            nonlocal done

            def build(mode: OutputMode) -> tuple[ChatMessage, ...]:
                return analysis_messages(pieces, depth=depth, source_count=source_count, output_mode=mode)

            partial = await self._structured(build, deadline=deadline)
            done += 1
            await progress(Progress("Asking the LLM", done=done, total=total))
            return partial

        return await _all_or_first_error([one(pieces) for pieces in plan.map_calls])

    async def _reduce(
        self, partials: list[LLMReport], *, source_count: int, depth: Depth, deadline: Deadline
    ) -> LLMReport:
        batches = _batches(partials, budget_tokens=self._backend.source_budget_tokens)

        async def merge(batch: list[LLMReport]) -> LLMReport:
            if len(batch) == 1 and len(batches) > 1:
                return batch[0]  # nothing to merge it with in this round

            def build(mode: OutputMode) -> tuple[ChatMessage, ...]:
                return reduce_messages(batch, depth=depth, source_count=source_count, output_mode=mode)

            return await self._structured(build, deadline=deadline)

        merged = await _all_or_first_error([merge(batch) for batch in batches])
        if len(merged) == 1:
            return merged[0]
        return await self._reduce(merged, source_count=source_count, depth=depth, deadline=deadline)

    async def _structured(self, build: MessageBuilder, *, deadline: Deadline) -> LLMReport:
        answer = await self._backend.structured(build, model=self.model, guild_id=self.guild_id, deadline=deadline)
        if self._silence is not None:
            self._silence.answered()
        return answer


class SilenceNotice:
    """While the LLM has not answered for ``quiet_seconds``, says so and when local analysis starts.

    An async context manager: a small task on the loop that sends one progress line a second
    ("the LLM is not answering; local analysis in 12 s") until the block ends.  Each answer
    (:meth:`answered`) silences it again for ``quiet_seconds``.
    """

    def __init__(
        self, progress: ProgressSink, *, deadline: Deadline, quiet_seconds: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._progress = progress
        self._deadline = deadline
        self._quiet_seconds = quiet_seconds
        self._clock = clock
        self._last_answer_at = clock()
        self._task: asyncio.Task[None] | None = None

    def answered(self) -> None:
        self._last_answer_at = self._clock()

    async def __aenter__(self) -> SilenceNotice:
        self._task = asyncio.get_running_loop().create_task(self._run(), name="llm-silence-notice")
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    async def _run(self) -> None:
        while True:
            silent_for = self._clock() - self._last_answer_at
            if silent_for < self._quiet_seconds:
                await asyncio.sleep(self._quiet_seconds - silent_for)
                continue
            left = math.ceil(self._deadline.remaining())
            await self._progress(Progress("Asking the LLM", detail=f"the LLM is not answering; local analysis in {left} s"))
            await asyncio.sleep(1.0)


def _hung(error: LLMUnavailableError) -> bool:
    """Whether the LLM phase ran out because the endpoint did not answer (not because it erred)."""
    cause: BaseException | None = error.__cause__
    return error.last_reason == "out of time" or isinstance(cause, LLMTimeoutError)


def _batches(partials: list[LLMReport], *, budget_tokens: int) -> list[list[LLMReport]]:
    """Group partial reports so each reduce call fits; at least two per group so it converges."""
    batches: list[list[LLMReport]] = [[]]
    used = 0
    for partial in partials:
        size = estimate_tokens(partial.model_dump_json(exclude_defaults=True))
        if len(batches[-1]) >= 2 and used + size > budget_tokens:
            batches.append([])
            used = 0
        batches[-1].append(partial)
        used += size
    return batches


async def _all_or_first_error(calls: Sequence) -> list[LLMReport]:
    """Run calls concurrently; on the first LLM error cancel the rest and raise that error."""
    try:
        async with asyncio.TaskGroup() as group:
            tasks = [group.create_task(call) for call in calls]
    except BaseExceptionGroup as failures:
        first = failures.exceptions[0]
        if isinstance(first, Exception):
            first.__suppress_context__ = True  # hide the group; keep the error's own cause
            raise first  # noqa: B904
        raise
    return [task.result() for task in tasks]


def fallback_reason(error: LLMError) -> str:
    """The short reason a user sees when the LLM could not write their report."""
    if isinstance(error, BudgetExceededError):
        return "the LLM budget for today is used up"
    return str(error)
