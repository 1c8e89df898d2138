from __future__ import annotations

import httpx

from core.metrics import Metrics


async def test_metrics_endpoint_serves_recorded_counters() -> None:
    metrics = Metrics()
    port = await metrics.serve(port=0, host="127.0.0.1")
    try:
        metrics.record_command("autointel", outcome="ok", seconds=1.5)
        metrics.record_command("autointel", outcome="ok", seconds=0.5)
        metrics.record_cache("exact")
        metrics.record_llm_call(outcome="ok", prompt_tokens=100, completion_tokens=20, cost_usd=0.01)
        async with httpx.AsyncClient() as client:
            response = await client.get(f"http://127.0.0.1:{port}/metrics")
        body = response.text
        assert response.status_code == 200
        assert 'intel_commands_total{command="autointel",outcome="ok"} 2.0' in body
        assert 'intel_cache_lookups_total{result="exact"} 1.0' in body
        assert 'intel_llm_tokens_total{kind="prompt"} 100.0' in body
        assert "intel_llm_cost_usd_total 0.01" in body
    finally:
        await metrics.close()


def test_two_metrics_objects_do_not_share_counters() -> None:
    first, second = Metrics(), Metrics()
    first.record_cache("miss")
    assert b'intel_cache_lookups_total{result="miss"} 1.0' in first.render()
    assert b'intel_cache_lookups_total{result="miss"}' not in second.render()
