"""The websocket hub: a subscriber too slow for its queue loses the oldest messages, and the hub counts them."""

from __future__ import annotations

import asyncio

from backend_helpers import run_async

from backend.app.streaming.hub import Hub


def test_a_full_queue_drops_the_oldest_and_the_hub_counts_it():
    async def scenario() -> tuple[list[int], int, int]:
        hub = Hub(max_queue=2)
        sub, other = hub.subscribe(1), hub.subscribe(2)
        for seq in range(1, 6):
            hub.publish(1, seq, "metric", seq, f"m{seq}")
        hub.publish(2, 1, "metric", 1, "other run")
        await asyncio.sleep(0)  # deliveries run on the subscriber's loop
        assert other.dropped == 0 and other.queue.qsize() == 1
        kept = [entry.seq for entry in (await sub.get(), await sub.get()) if entry is not None]
        return kept, sub.dropped, hub.dropped()

    kept, dropped, total = run_async(scenario())
    assert kept == [4, 5] and dropped == 3 and total == 3
