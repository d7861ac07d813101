"""What every response carries and how the app trusts its reverse proxy: security headers (CSP without inline
script, no framing, nosniff, referrer policy, HSTS over https), Secure cookies when the request came over
https, werkzeug's ProxyFix behind MOTCUA_PROXY_FIX proxies, and the one check for `next` redirect targets."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, Response, request
from flask.sessions import SecureCookieSessionInterface
from werkzeug.middleware.proxy_fix import ProxyFix

# Scripts only from our own files (esbuild bundles in web/static/dist): an injected <script> or onerror=
# does not run. JSON data blocks (<script type="application/json">) are not executed, so they stay allowed.
# Styles may be inline: bpmn-js and form-js set style attributes; a style cannot run code.
CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "
       "font-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
       "frame-ancestors 'none'")
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    # Case codes and lookup secrets can sit in URLs: never send them to another site.
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
}
HSTS = "max-age=31536000; includeSubDomains"


class SessionCookies(SecureCookieSessionInterface):
    """The session cookie is `Secure` whenever the request came over https (directly or through a trusted
    proxy), so `make run` over plain http still signs in and production never sends the cookie in clear."""

    def get_cookie_secure(self, app: Flask) -> bool:
        return bool(app.config.get("SESSION_COOKIE_SECURE")) or request.is_secure


def _headers(response: Response) -> Response:
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    if request.is_secure:
        response.headers.setdefault("Strict-Transport-Security", HSTS)
    return response


def init_app(app: Flask) -> None:
    proxies = int(app.config["MOTCUA"].proxy_fix or 0)
    if proxies > 0:
        # Trust exactly `proxies` hops of X-Forwarded-For/-Proto: the client address (rate limits, logs) and
        # https (Secure cookies, HSTS). Without a proxy these headers are ignored, so clients cannot forge them.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies)  # type: ignore[method-assign]
    app.session_interface = SessionCookies()
    app.after_request(_headers)


def safe_next(target: str | None) -> str | None:
    """`target` when it is a path on this site, else None. Browsers drop tabs and newlines from URLs and
    read a backslash as a slash, so "/\\t/evil.example" and "/\\\\evil" would leave the site: refuse anything
    that is not a plain absolute path."""
    if not target or any(c in target for c in "\\\t\r\n") or any(ord(c) < 0x20 or ord(c) == 0x7F for c in target):
        return None
    if not target.startswith("/") or target.startswith("//"):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target
