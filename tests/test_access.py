"""Allow-lists, the one-refusal memory, and the per-user rate limit."""

from __future__ import annotations

from bot.access import AccessPolicy, RateLimiter, RefusalMemory
from bot.config import TelegramSettings


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_allow_lists():
    policy = AccessPolicy(
        TelegramSettings(admins=frozenset({1}), allowed_users=frozenset({2}), allowed_chats=frozenset({-50}))
    )
    assert policy.is_admin(1) and not policy.is_admin(2) and not policy.is_admin(None)
    assert policy.may_ask(1, 1) and policy.may_ask(2, 2)
    assert policy.may_ask(3, -50)  # anyone in an allowed group, there
    assert not policy.may_ask(3, 3) and not policy.may_ask(3, -60) and not policy.may_ask(None, None)


def test_private_mode_and_open_mode():
    assert not AccessPolicy(TelegramSettings()).may_ask(5, 5)
    assert AccessPolicy(TelegramSettings(open=True)).may_ask(5, 5)


def test_rate_limit_sliding_window():
    clock = Clock()
    limiter = RateLimiter(3, window=60, clock=clock)
    assert [limiter.allow(7) for _ in range(4)] == [True, True, True, False]
    assert limiter.allow(8)  # per user
    assert 1 <= limiter.retry_after(7) <= 61
    clock.now += 30
    assert not limiter.allow(7)
    clock.now += 31
    assert limiter.allow(7)


def test_rate_limit_off():
    limiter = RateLimiter(0)
    assert all(limiter.allow(1) for _ in range(1000))


def test_refusal_memory_tells_once_per_period():
    clock = Clock()
    memory = RefusalMemory(repeat_after=3600, clock=clock)
    assert memory.should_tell(9) and not memory.should_tell(9) and memory.should_tell(10)
    clock.now += 3601
    assert memory.should_tell(9)
