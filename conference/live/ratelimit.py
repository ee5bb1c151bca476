"""Per-connection token buckets."""

import time
from dataclasses import dataclass, field


@dataclass(slots=True)
class TokenBucket:
    capacity: float
    refill_per_second: float
    tokens: float = -1.0
    updated: float = field(default_factory=time.monotonic)

    def __post_init__(self) -> None:
        if self.tokens < 0:
            self.tokens = self.capacity

    def take(self, cost: float = 1.0) -> bool:
        now = time.monotonic()
        self.tokens = min(
            self.capacity, self.tokens + (now - self.updated) * self.refill_per_second
        )
        self.updated = now
        if self.tokens < cost:
            return False
        self.tokens -= cost
        return True


# bucket name -> (burst capacity, sustained rate per second)
BUCKETS: dict[str, tuple[float, float]] = {
    "default": (10, 1.0),
    "write": (5, 0.5),
    "presence": (20, 12.0),
    "reaction": (3, 0.5),
}
# Refusals within the window that make the server close the socket as abusive.
ABUSE_REFUSALS = 30
ABUSE_WINDOW_SECONDS = 10.0


def new_buckets() -> dict[str, TokenBucket]:
    return {name: TokenBucket(cap, rate) for name, (cap, rate) in BUCKETS.items()}
