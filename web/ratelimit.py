"""The rate-limit store and the allowances of engine.throttle, wired to Flask.

One store per app from MOTCUA_RATELIMIT_STORAGE (`limits` storage URI): `redis://host:6379/N` in production,
so all gunicorn workers and nodes share one count per client; `memory://` (the default) counts per process,
which is right for `make run` and nothing else. The client is `request.remote_addr`: behind a reverse proxy
that is the proxy unless ProxyFix is configured (docs/security.md).
"""

from __future__ import annotations

import ipaddress
import logging
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, current_app, request
from flask_babel import gettext as _
from limits.storage import storage_from_string

from engine.config import Settings
from engine.throttle import CounterStore, Exhausted, LoginPolicy, LoginThrottle, Quota, Reservation, reserve

SECRET_ACTIONS = ("lookup", "rate", "supplement", "api_lookup")
log = logging.getLogger(__name__)


class FailOpen:
    """The store, except that an unreachable store counts nothing instead of failing the request: while Redis
    is down the desk, the lookup and the login keep working (unthrottled), and the log says so once a minute."""

    def __init__(self, store: CounterStore) -> None:
        self.store, self._logged = store, 0.0

    def _down(self, e: Exception) -> None:
        if time.monotonic() - self._logged > 60:
            self._logged = time.monotonic()
            log.error("rate-limit store unreachable, limits are not enforced: %s", e)

    def _try(self, call: Callable[[], Any], fallback: Callable[[], Any]) -> Any:
        try:
            return call()
        except Exception as e:  # noqa: BLE001 — any storage error (redis, memcached…) means "cannot count"
            self._down(e)
            return fallback()

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        return self._try(lambda: self.store.incr(key, expiry, amount), lambda: 0)

    def get(self, key: str) -> int:
        return self._try(lambda: self.store.get(key), lambda: 0)

    def get_expiry(self, key: str) -> float:
        return self._try(lambda: self.store.get_expiry(key), time.time)

    def clear(self, key: str) -> None:
        self._try(lambda: self.store.clear(key), lambda: None)


class Limits:
    def __init__(self, settings: Settings) -> None:
        uri = settings.ratelimit_storage
        # A short timeout: a lost Redis must not hang the workers (FailOpen then lets the request through).
        options = {"key_prefix": settings.ratelimit_prefix, "socket_timeout": 2, "socket_connect_timeout": 2} \
            if "redis" in urlsplit(uri).scheme else {}
        self.store: CounterStore = FailOpen(storage_from_string(uri, **options))
        self.secret = Quota.parse(settings.secret_check_limit)
        self.submit = Quota.parse(settings.online_submit_limit)
        self.verify = Quota.parse(settings.verify_limit)
        self.bytes = Quota(settings.online_bytes_per_day, 86400)
        self.login = LoginThrottle(self.store, LoginPolicy(free_per_account=settings.login_failures_per_account,
                                                           free_per_address=settings.login_failures_per_address,
                                                           max_delay=settings.login_max_delay_seconds))


def init_app(app: Flask) -> None:
    app.extensions["motcua_limits"] = Limits(app.config["MOTCUA"])


def limits() -> Limits:
    return current_app.extensions["motcua_limits"]


def client() -> str:
    """The address allowances are counted for. An IPv6 client counts as its /64: one subscriber usually holds
    a whole /64 and could otherwise take a fresh address for every try."""
    address = request.remote_addr or ""
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(parsed, ipaddress.IPv6Address):
        if parsed.ipv4_mapped is not None:
            return str(parsed.ipv4_mapped)
        return str(ipaddress.ip_network(f"{parsed}/64", strict=False))
    return str(parsed)


def secret_check(action: str) -> Reservation:
    """One try of a case's secret, from the allowance every public secret check shares (lookup, rating,
    supplement, the public API). The caller refunds it when the secret was right: only wrong guesses count."""
    return reserve(limits().store, action, "secret", client(), limits().secret)


def signature_check() -> Reservation:
    """One signature check of an uploaded PDF (the /xac-thuc page and POST /api/v1/public/verify share it).
    Every check counts, valid or not: validating a signature costs real CPU, and the page is anonymous."""
    return reserve(limits().store, "verify", "verify", client(), limits().verify)


def online_submission(nbytes: int) -> list[Reservation]:
    """One anonymous submission of `nbytes`: the count and the bytes of the day. The caller refunds both when
    the form is sent back for correction."""
    taken = [reserve(limits().store, "submit", "submit", client(), limits().submit)]
    try:
        taken.append(reserve(limits().store, "submit_bytes", "bytes", client(), limits().bytes, max(nbytes, 1)))
    except Exhausted:
        taken[0].refund()
        raise
    return taken


def _period(seconds: int) -> str:
    if seconds >= 86400:
        return _("ngày")
    if seconds >= 3600:
        return _("giờ")
    if seconds >= 60:
        return _("phút")
    return _("giây")


def message(e: Exhausted) -> str:
    """The 429 text in the user's language, naming what was stopped and when to come back."""
    if e.action == "submit_bytes":
        return _("Nộp hồ sơ trực tuyến tạm dừng: từ địa chỉ này đã gửi quá %(mb)d MB giấy tờ trong một ngày. "
                 "Vui lòng thử lại sau %(hours)d giờ hoặc nộp trực tiếp tại Bộ phận Một cửa.",
                 mb=e.quota.amount // (1024 * 1024), hours=max(1, round(e.retry_after / 3600)))
    if e.action == "verify":
        return _("Kiểm tra chữ ký số tạm dừng: từ địa chỉ này chỉ được kiểm tra %(n)d tệp mỗi %(period)s. "
                 "Vui lòng thử lại sau %(seconds)d giây.", n=e.quota.amount, period=_period(e.quota.seconds),
                 seconds=e.retry_after)
    if e.action == "submit":
        return _("Nộp hồ sơ trực tuyến tạm dừng: từ địa chỉ này chỉ được nộp %(n)d hồ sơ mỗi %(period)s. "
                 "Vui lòng thử lại sau %(seconds)d giây.", n=e.quota.amount, period=_period(e.quota.seconds),
                 seconds=e.retry_after)
    actions = {"lookup": _("Tra cứu hồ sơ"), "rate": _("Đánh giá hồ sơ"), "supplement": _("Gửi bổ sung hồ sơ")}
    return _("%(action)s tạm dừng vì mã tra cứu bị nhập sai quá nhiều lần từ địa chỉ này (tối đa %(n)d lần mỗi "
             "%(period)s, dùng chung cho tra cứu, đánh giá và gửi bổ sung). Vui lòng thử lại sau %(seconds)d giây.",
             action=actions.get(e.action, actions["lookup"]), n=e.quota.amount, period=_period(e.quota.seconds),
             seconds=e.retry_after)


def api_message(e: Exhausted) -> str:
    """The JSON API speaks English like its other errors."""
    return (f"too many wrong secrets from this address: at most {e.quota.amount} per {e.quota.seconds} s, shared "
            f"by the lookup page, the rating, the supplement page and this API; retry in {e.retry_after} s")
