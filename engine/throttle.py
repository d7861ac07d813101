"""How often an anonymous client may try something: the shared allowance for secret checks, the online
submission allowance (count and bytes), and login throttling with growing delays.

The counters live in a shared store (the `limits` library's storage: Redis in production, so every gunicorn
worker and every node sees the same numbers; memory for a single process). The store is handed in by the
web layer; nothing here knows about Flask or HTTP.

Every allowance is a fixed window that starts at the first attempt. An attempt *reserves* its cost with one
atomic increment and gives it back when it turns out not to count (a right secret, a form the citizen must
correct): increment-then-refund stays exact however many workers race, where test-then-increment lets a
burst through.
"""

from __future__ import annotations

import hashlib
import math
import re
import time
from dataclasses import dataclass
from typing import Protocol

PERIODS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}


class CounterStore(Protocol):
    """The part of `limits.storage.Storage` used here (memory://, redis://…)."""

    def incr(self, key: str, expiry: int, amount: int = 1) -> int: ...

    def get(self, key: str) -> int: ...

    def get_expiry(self, key: str) -> float: ...

    def clear(self, key: str) -> None: ...


@dataclass(frozen=True)
class Quota:
    amount: int
    seconds: int

    @classmethod
    def parse(cls, text: str) -> Quota:
        """'10/minute', '5 per hour', '100/day' — the usual rate-limit notation."""
        found = re.fullmatch(r"\s*(\d+)\s*(?:/|per)\s*(second|minute|hour|day)s?\s*", text or "")
        if not found:
            raise ValueError(f"a limit is written like '10/minute', not {text!r}")
        return cls(int(found.group(1)), PERIODS[found.group(2)])


class Reservation:
    """Cost taken from an allowance; `refund()` gives it back (at most once)."""

    def __init__(self, store: CounterStore, key: str, quota: Quota, cost: int) -> None:
        self.store, self.key, self.quota, self.cost = store, key, quota, cost

    def refund(self) -> None:
        if self.cost:
            self.store.incr(self.key, self.quota.seconds, -self.cost)
            self.cost = 0


class Exhausted(Exception):
    """An allowance is used up; `retry_after` in seconds."""

    def __init__(self, action: str, quota: Quota, retry_after: int) -> None:
        super().__init__(f"{action}: more than {quota.amount} in {quota.seconds} s")
        self.action, self.quota, self.retry_after = action, quota, retry_after


def _part(value: str) -> str:
    """Keys carry no raw user input (length, spaces, colons): a short digest of it."""
    return hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()[:24]


def reserve(store: CounterStore, action: str, bucket: str, client: str, quota: Quota, cost: int = 1) -> Reservation:
    """Take `cost` from the client's allowance `bucket`, or raise Exhausted naming `action` (nothing taken)."""
    key = f"{bucket}:{_part(client)}"
    used = store.incr(key, quota.seconds, cost)
    if used > quota.amount:
        store.incr(key, quota.seconds, -cost)
        raise Exhausted(action, quota, _retry_after(store, key))
    return Reservation(store, key, quota, cost)


def _retry_after(store: CounterStore, key: str) -> int:
    return max(1, math.ceil(store.get_expiry(key) - time.time()))


# --- login ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LoginPolicy:
    """Failures allowed before delays start, per username from one address and per address; then each
    further failure doubles the wait, up to `max_delay`. Failures are forgotten after `window` seconds (per
    address) or `account_window` (per username from one address), and the latter on a successful login."""

    free_per_account: int = 5
    free_per_address: int = 100
    base_delay: int = 15  # a few typos cost a short pause; guessing costs 15 s, 30 s, 1 min, … 15 min a try
    max_delay: int = 900
    window: int = 3600
    account_window: int = 86400

    def delay(self, failures: int, free: int) -> int:
        if failures < free:
            return 0
        return int(min(self.max_delay, self.base_delay * 2 ** min(failures - free, 30)))


class LoginThrottle:
    """Throttling by address and by username+address, never by account alone: a stranger elsewhere cannot
    lock an official out, and the answer never depends on whether the username exists."""

    def __init__(self, store: CounterStore, policy: LoginPolicy | None = None) -> None:
        self.store, self.policy = store, policy or LoginPolicy()

    def _keys(self, username: str, client: str) -> tuple[str, str]:
        name = username.strip().casefold()
        return f"login:acct:{_part(name + chr(0) + client)}", f"login:addr:{_part(client)}"

    def wait(self, username: str, client: str) -> int:
        """Seconds before this username may be tried again from this address (0: now)."""
        waits = [0]
        for key in self._keys(username, client):
            if self.store.get(f"{key}:wait") > 0:
                waits.append(_retry_after(self.store, f"{key}:wait"))
        return max(waits)

    def failed(self, username: str, client: str) -> None:
        account, address = self._keys(username, client)
        p = self.policy
        for key, free, window in ((account, p.free_per_account, p.account_window),
                                  (address, p.free_per_address, p.window)):
            failures = self.store.incr(f"{key}:fails", window)
            delay = p.delay(failures, free)
            if delay:
                self.store.clear(f"{key}:wait")
                self.store.incr(f"{key}:wait", delay)

    def succeeded(self, username: str, client: str) -> None:
        """The right password from this address: its account counters start again (the address's stay, or an
        attacker with one account of their own could reset them)."""
        account, _address = self._keys(username, client)
        self.store.clear(f"{account}:fails")
        self.store.clear(f"{account}:wait")
