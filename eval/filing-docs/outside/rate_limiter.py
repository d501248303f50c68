"""A token-bucket rate limiter for outgoing API calls."""

import threading
import time


class TokenBucket:
    """Allows `rate` calls per second on average, with bursts of up to `capacity`."""

    def __init__(self, rate: float, capacity: int) -> None:
        self.rate = rate
        self.capacity = capacity
        self.tokens = float(capacity)
        self.updated = time.monotonic()
        self.lock = threading.Lock()

    def _refill(self) -> None:
        now = time.monotonic()
        self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
        self.updated = now

    def try_acquire(self, tokens: int = 1) -> bool:
        """Takes `tokens` from the bucket if there are enough; never blocks."""
        with self.lock:
            self._refill()
            if self.tokens >= tokens:
                self.tokens -= tokens
                return True
            return False

    def acquire(self, tokens: int = 1) -> None:
        """Blocks until `tokens` are available."""
        while not self.try_acquire(tokens):
            time.sleep(tokens / self.rate)


def limited(bucket: TokenBucket):
    """Decorator: each call to the wrapped function waits for one token."""

    def wrap(fn):
        def inner(*args, **kwargs):
            bucket.acquire()
            return fn(*args, **kwargs)

        return inner

    return wrap
