"""Coalescing under load: work that arrives close together is done together, and nothing waits otherwise.

Like Nagle's algorithm or a network card's adaptive interrupt moderation. A consumer's transaction or a
relay's claim costs about the same for one event as for ten, so when events come faster than one per
`wait_s`, the first of them waits up to `wait_s` for the others. A slow or lone stream (gaps longer than
`wait_s` on average) is handled at once.
"""

import math
import time

SMOOTHING = 0.3  # weight of the newest gap in the moving mean


class ArrivalPace:
    def __init__(self, wait_s: float) -> None:
        self.wait_s = wait_s
        self._mean_gap_s = math.inf
        self._last_arrival: float | None = None

    def arrived(self, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        if self._last_arrival is not None:
            gap = now - self._last_arrival
            self._mean_gap_s = (
                gap if math.isinf(self._mean_gap_s) else (1 - SMOOTHING) * self._mean_gap_s + SMOOTHING * gap
            )
        self._last_arrival = now

    @property
    def busy(self) -> bool:
        """Arrivals come faster than one per `wait_s`: waiting for the next ones is worth it."""
        return self.wait_s > 0 and self._mean_gap_s < self.wait_s

    def wait_until(self, first_arrival: float) -> float:
        """When work that first arrived at `first_arrival` should start (monotonic time)."""
        return first_arrival + self.wait_s if self.busy else first_arrival
