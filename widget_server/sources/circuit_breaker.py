"""A small circuit breaker for one upstream, for code running on one event loop.

    closed ──(threshold consecutive failures)──> open
    open ──(cool-down elapsed, next caller)──> half-open: exactly one trial call
    half-open ──(trial succeeds)──> closed        half-open ──(trial fails)──> open again

Why: when France Travail is down or slow, every search would otherwise wait for
its whole time budget before giving up.  An open breaker answers "unavailable"
at once, and the upstream gets room to recover instead of a retry storm.

The breaker counts *logical calls* (one `Permit` each), not HTTP exchanges,
so a search that fans out into several parallel requests is one success or one
failure.  It has no lock: every method is synchronous and runs on the single
event-loop thread, so there is no interleaving inside a method.
"""

from __future__ import annotations

import time
from typing import Callable, Literal

State = Literal["closed", "open", "half-open"]


class BreakerOpen(Exception):
    """Raised by `CircuitBreaker.permit()` while calls are refused."""

    def __init__(self, retry_after: float) -> None:
        super().__init__(f"circuit open, next trial in {retry_after:.1f} s")
        self.retry_after = retry_after


class Permit:
    """The right to make one call; report its outcome exactly once."""

    __slots__ = ("_breaker", "_trial", "_done")

    def __init__(self, breaker: CircuitBreaker, trial: bool) -> None:
        self._breaker = breaker
        self._trial = trial
        self._done = False

    def success(self) -> None:
        if not self._done:
            self._done = True
            self._breaker._on_success(self._trial)

    def failure(self) -> None:
        if not self._done:
            self._done = True
            self._breaker._on_failure(self._trial)

    def release(self) -> None:
        """The call ended without a verdict (cancelled by its caller, or a bug of ours)."""
        if not self._done:
            self._done = True
            self._breaker._on_release(self._trial)


class CircuitBreaker:
    def __init__(self, threshold: int, cooldown_s: float, *,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if threshold < 1:
            raise ValueError("threshold must be at least 1")
        self.threshold = threshold
        self.cooldown_s = cooldown_s
        self._clock = clock
        self._failures = 0                 # consecutive, while closed
        self._opened_at: float | None = None
        self._trial_running = False

    @property
    def state(self) -> State:
        if self._opened_at is None:
            return "closed"
        if self._trial_running or self._clock() - self._opened_at >= self.cooldown_s:
            return "half-open"
        return "open"

    def permit(self) -> Permit:
        """A permit for one call, or BreakerOpen."""
        if self._opened_at is None:
            return Permit(self, trial=False)
        waited = self._clock() - self._opened_at
        if waited < self.cooldown_s:
            raise BreakerOpen(self.cooldown_s - waited)
        if self._trial_running:
            # One trial at a time: a burst of searches after the cool-down must
            # not all hit an upstream that may still be down.
            raise BreakerOpen(0.0)
        self._trial_running = True
        return Permit(self, trial=True)

    def _on_success(self, trial: bool) -> None:
        if trial:
            self._trial_running = False
        # A success closes the circuit even if it started before it opened:
        # the upstream answered, which is what the breaker wants to know.
        self._opened_at = None
        self._failures = 0

    def _on_failure(self, trial: bool) -> None:
        if trial:
            self._trial_running = False
            self._opened_at = self._clock()
            return
        if self._opened_at is not None:
            return                         # already open: a late failure changes nothing
        self._failures += 1
        if self._failures >= self.threshold:
            self._opened_at = self._clock()

    def _on_release(self, trial: bool) -> None:
        if trial:
            self._trial_running = False    # let the next caller make the trial

    def __repr__(self) -> str:
        return f"<CircuitBreaker {self.state} failures={self._failures}/{self.threshold}>"
