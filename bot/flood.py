"""Flood control for what people send: at most 30 messages per person in any 10 seconds.

The counters live in memory. That is enough: they only need to survive as long as a burst
does (seconds); a restart forgets them, which at worst lets one burst through again. One bot
process serves all updates (one shared database connection), so there is nothing to share
between processes either. Stale counters are dropped as the dictionary grows.
"""

import time
from collections import deque
from collections.abc import Callable
from enum import Enum

LIMIT = 30
# Button presses: a person walking a long self-assessment taps fast, but not 15 times a
# second for ten seconds; forged presses past this are dropped before they are audited.
PRESS_LIMIT = 150
WINDOW = 10.0
_SWEEP_EVERY = 1000


class Verdict(Enum):
    OK = "ok"
    WARN = "warn"  # the first update over the limit: say "slow down" once
    DROP = "drop"  # later ones in the same flood: ignore silently


class FloodGuard:
    """Counts the updates each person gets handled in a sliding window."""

    def __init__(
        self,
        limit: int = LIMIT,
        window: float = WINDOW,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limit, self.window, self.clock = limit, window, clock
        self._handled: dict[int, deque[float]] = {}
        self._warned: set[int] = set()
        self._calls = 0

    def check(self, person: int) -> Verdict:
        now = self.clock()
        self._sweep(now)
        times = self._handled.setdefault(person, deque())
        while times and now - times[0] >= self.window:
            times.popleft()
        if len(times) < self.limit:
            times.append(now)
            self._warned.discard(person)
            return Verdict.OK
        if person in self._warned:
            return Verdict.DROP
        self._warned.add(person)
        return Verdict.WARN

    def _sweep(self, now: float) -> None:
        self._calls += 1
        if self._calls % _SWEEP_EVERY:
            return
        for person in [p for p, t in self._handled.items() if not t or now - t[-1] >= self.window]:
            del self._handled[person]
            self._warned.discard(person)
