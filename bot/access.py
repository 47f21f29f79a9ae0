"""Who may use the bot, and how often: the allow-lists and a per-user rate limit.

Pure logic with an injectable clock, wired into Telegram by :mod:`bot.handlers`.
"""

from __future__ import annotations

import time
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass

from bot.config import TelegramSettings

REFUSAL_REPEAT_SECONDS = 3600


@dataclass(frozen=True)
class AccessPolicy:
    """Allow-lists from ``[telegram]`` in config.toml (see :class:`TelegramSettings`)."""

    settings: TelegramSettings

    def is_admin(self, user_id: int | None) -> bool:
        """Whether the user may reload, upload, remove and see statistics."""
        return user_id is not None and user_id in self.settings.admins

    def may_ask(self, user_id: int | None, chat_id: int | None) -> bool:
        """Whether questions from this user in this chat are answered.

        Admins and allowed users anywhere; anyone in an allowed group chat; everyone
        when ``open`` is set. Otherwise (including empty allow-lists) no one else.
        """
        return (
            self.settings.open
            or self.is_admin(user_id)
            or (user_id is not None and user_id in self.settings.allowed_users)
            or (chat_id is not None and chat_id in self.settings.allowed_chats)
        )


class RefusalMemory:
    """Remember whom we refused, so a stranger gets one refusal, not one per message.

    Args:
        repeat_after: seconds after which the same person is told again.
        clock: returns seconds (``time.monotonic`` by default).
    """

    def __init__(self, repeat_after: float = REFUSAL_REPEAT_SECONDS, clock: Callable[[], float] = time.monotonic):
        self.repeat_after = repeat_after
        self.clock = clock
        self._last: dict[int, float] = {}

    def should_tell(self, key: int) -> bool:
        """Return True (and remember) if ``key`` was not told within ``repeat_after``."""
        now = self.clock()
        last = self._last.get(key)
        if last is not None and now - last < self.repeat_after:
            return False
        self._last[key] = now
        return True


class RateLimiter:
    """At most ``limit`` events per user in any ``window`` seconds (sliding window).

    Args:
        limit: events allowed per window; 0 disables the limit.
        window: seconds.
        clock: returns seconds (``time.monotonic`` by default).
    """

    def __init__(self, limit: int, window: float = 60.0, clock: Callable[[], float] = time.monotonic):
        self.limit = limit
        self.window = window
        self.clock = clock
        self._events: dict[int, deque[float]] = defaultdict(deque)

    def allow(self, user_id: int) -> bool:
        """Record an event for ``user_id`` and return whether it is within the limit."""
        if self.limit <= 0:
            return True
        now = self.clock()
        events = self._events[user_id]
        while events and now - events[0] >= self.window:
            events.popleft()
        if len(events) >= self.limit:
            return False
        events.append(now)
        return True

    def retry_after(self, user_id: int) -> int:
        """Seconds until ``user_id`` may send again (0 if now)."""
        events = self._events.get(user_id)
        if not events or len(events) < self.limit:
            return 0
        return max(1, int(self.window - (self.clock() - events[0])) + 1)
