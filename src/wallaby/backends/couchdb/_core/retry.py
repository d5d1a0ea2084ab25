"""When to try again: exponential backoff with jitter, as a pure policy."""

from __future__ import annotations

import random
from collections.abc import Callable

from .errors import InvalidArgument

__all__ = ["Backoff"]


class Backoff:
    """Delay before retry number ``attempt`` (1, 2, ...): ``first * factor**(attempt-1)``,
    capped at ``cap`` seconds, then scaled by a random factor in [1 - jitter, 1].

    ``retries`` is how many consecutive failures are retried; None means forever.
    """

    __slots__ = ("first", "factor", "cap", "jitter", "retries", "_random")

    def __init__(
        self,
        first: float = 0.1,
        factor: float = 2.0,
        cap: float = 30.0,
        jitter: float = 0.5,
        retries: int | None = None,
        random_source: Callable[[], float] = random.random,
    ) -> None:
        if first < 0 or factor < 1 or cap < 0 or not 0 <= jitter <= 1:
            raise InvalidArgument("backoff needs first >= 0, factor >= 1, cap >= 0, 0 <= jitter <= 1")
        if retries is not None and retries < 0:
            raise InvalidArgument("retries must be None (forever) or >= 0")
        self.first = first
        self.factor = factor
        self.cap = cap
        self.jitter = jitter
        self.retries = retries
        self._random = random_source

    def gives_up(self, attempt: int) -> bool:
        """Has ``attempt`` consecutive failures used up the retries."""
        return self.retries is not None and attempt > self.retries

    def delay(self, attempt: int) -> float:
        """Seconds to wait before retry number ``attempt``."""
        try:
            base = min(self.cap, self.first * self.factor ** max(0, attempt - 1))
        except OverflowError:  # retrying forever reaches factor**1024 and beyond
            base = self.cap
        return base * (1 - self.jitter * self._random())

    def __repr__(self) -> str:
        return (
            f"Backoff(first={self.first}, factor={self.factor}, cap={self.cap}, "
            f"jitter={self.jitter}, retries={self.retries})"
        )
