"""core/looplag.py: lag is measured on the running loop and stalls over the threshold are kept."""

from __future__ import annotations

import asyncio
import time

import pytest

from core.looplag import LoopLagMonitor


def test_lag_over_the_threshold_is_a_stall_and_under_it_is_not() -> None:
    monitor = LoopLagMonitor(stall_threshold=0.1)
    for lag in (0.01, 0.05, 0.25, -0.001):
        monitor.record(lag)

    snapshot = monitor.snapshot()
    assert snapshot.samples == 4
    assert snapshot.max_lag_seconds == 0.25
    assert snapshot.stall_count == 1
    assert [stall.lag_seconds for stall in snapshot.stalls] == [0.25]
    assert snapshot.last_lag_seconds == 0.0


async def test_a_blocking_call_on_the_loop_is_seen_as_a_stall() -> None:
    async with LoopLagMonitor(interval=0.01, stall_threshold=0.1) as monitor:
        await asyncio.sleep(0.05)
        time.sleep(0.2)  # noqa: ASYNC251 - blocking the loop on purpose is the point of this test
        await asyncio.sleep(0.05)

    snapshot = monitor.snapshot()
    assert snapshot.stall_count >= 1
    assert snapshot.max_lag_seconds >= 0.1
    assert not monitor.running


async def test_stop_is_idempotent_and_reset_forgets() -> None:
    monitor = LoopLagMonitor()
    monitor.start()
    monitor.record(1.0)
    await monitor.stop()
    await monitor.stop()
    monitor.reset()

    assert monitor.snapshot().stall_count == 0


def test_invalid_options_are_refused() -> None:
    with pytest.raises(ValueError, match="interval"):
        LoopLagMonitor(interval=0)
    with pytest.raises(ValueError, match="stall_threshold"):
        LoopLagMonitor(stall_threshold=0)
