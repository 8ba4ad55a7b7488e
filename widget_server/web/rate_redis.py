"""Token buckets in Redis, shared by every worker of every host (WIDGET_REDIS_URL).

Same buckets as `TokenBuckets` (a bucket of `burst` tokens refilled at `rate` per second, a
request takes one), taken atomically by one Lua script: one round trip per request, whatever the
number of buckets it draws from, and Redis's own clock, so hosts whose clocks differ agree. Each
bucket key expires once the bucket would be full again: forgetting it then changes nothing.

Redis is a helper, not a gate. Every call is bounded (REDIS_TIMEOUT_S to connect, to send and to
read, a timeout not retried); when Redis fails or does not answer in time the request is served, counted by
the process's own buckets (the limits of a deployment without Redis, see rate_limit.py), and a warning is logged
once for the outage. Redis is not asked again for RETRY_S, so an unreachable one costs one
bounded wait per RETRY_S per worker, not one per request; the first answer after an outage
is logged too, and the limits are shared again from then on.
"""

from __future__ import annotations

import logging
import time
from typing import Awaitable, Callable, Sequence
from urllib.parse import urlsplit

from redis.asyncio import Redis
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError, RedisError
from redis.asyncio.retry import Retry   # not redis.retry.Retry: that one cannot await

# (bucket family, key, rate per second, burst): "ip" or "caller", so both never share a key.
Draw = tuple[str, str, float, int]

LOGGER_NAME = "widget_server.rate_limit"
REDIS_TIMEOUT_S = 0.05   # a Redis on the same network answers in about a millisecond
RETRY_S = 1.0
KEY_PREFIX = "widget:rl:"

# KEYS: the buckets, in order; ARGV: rate and burst of each. Stops at the first empty bucket (the
# later ones keep their tokens, as in-process) and returns the seconds until it has one, as a
# string: Lua numbers would come back as integers.
TAKE_SCRIPT = """
local now = redis.call('TIME')
now = tonumber(now[1]) + tonumber(now[2]) / 1000000
for i, key in ipairs(KEYS) do
  local rate = tonumber(ARGV[2 * i - 1])
  local burst = tonumber(ARGV[2 * i])
  local state = redis.call('HMGET', key, 't', 'at')
  local tokens = burst
  if state[1] then
    tokens = math.min(burst, tonumber(state[1]) + math.max(0, now - tonumber(state[2])) * rate)
  end
  local ttl_ms = math.ceil(burst / rate * 1000) + 1000
  if tokens >= 1 then
    redis.call('HSET', key, 't', tostring(tokens - 1), 'at', tostring(now))
    redis.call('PEXPIRE', key, ttl_ms)
  else
    redis.call('HSET', key, 't', tostring(tokens), 'at', tostring(now))
    redis.call('PEXPIRE', key, ttl_ms)
    return tostring((1 - tokens) / rate)
  end
end
return '0'
"""

logger = logging.getLogger(LOGGER_NAME)


class RedisBuckets:
    """Takes tokens in Redis; says None while Redis is unreachable (the caller counts them itself)."""

    def __init__(self, url: str, *,
                 timeout_s: float = REDIS_TIMEOUT_S, retry_s: float = RETRY_S,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.where = redacted(url)
        self.retry_s = retry_s
        self.clock = clock
        # One retry, on a broken connection only: a pooled connection that Redis closed (a restart,
        # an idle timeout) is replaced at once; a timeout is not retried, so the wait stays bounded.
        self.redis = Redis.from_url(url, socket_timeout=timeout_s, socket_connect_timeout=timeout_s,
                                    retry=Retry(NoBackoff(), 1, supported_errors=(ConnectionError,)))
        self._script: Callable[..., Awaitable[bytes]] = self.redis.register_script(TAKE_SCRIPT)
        self._down_until = 0.0     # while Redis is down: when to ask it again
        self._down = False

    async def take(self, draws: Sequence[Draw]) -> float | None:
        """Take a token from each bucket in turn: 0.0 if all had one, else the seconds to wait;
        None when Redis is unreachable."""
        if self._down and self.clock() < self._down_until:
            return None
        keys = [f"{KEY_PREFIX}{family}:{key}" for family, key, _, _ in draws]
        args: list[float] = []
        for _, _, rate, burst in draws:
            args += [rate, burst]
        try:
            # EVALSHA; the script is loaded once per Redis (again after a restart) by redis-py.
            wait = float(await self._script(keys=keys, args=args))
        except (RedisError, OSError) as exc:
            self._went_down(exc)
            return None
        if self._down:
            self._down = False
            logger.warning("Redis at %s answers again: rate limits are shared again.", self.where)
        return wait

    def _went_down(self, exc: Exception) -> None:
        if not self._down:
            logger.warning("Redis at %s unreachable (%s: %s): requests are served, rate limits are counted "
                           "by each process until it answers again.", self.where, type(exc).__name__, exc)
        self._down = True
        self._down_until = self.clock() + self.retry_s

    async def aclose(self) -> None:
        await self.redis.aclose()


def redacted(url: str) -> str:
    """The URL without its password, fit for a log line."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}{parts.path}"
