"""For operators: /healthz (the process answers), /readyz (database, schema, scheduler lease), /metrics
(Prometheus) and one JSON log line per request with its request id and user. See docs/operations.md."""

from __future__ import annotations

import logging
import os
import re
import time
import uuid

from flask import Blueprint, Flask, Response, current_app, g, jsonify, request
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily
from sqlalchemy import inspect, select

from engine import health, metrics
from engine.models import User
from web.jsonlog import configure as configure_logging

bp = Blueprint("ops", __name__)
access_log = logging.getLogger("motcua.request")
REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")  # a proxy's id is echoed only when it is harmless


@bp.get("/healthz")
def healthz() -> Response:
    """Alive: answers without touching the database (a restart does not cure a database outage)."""
    return jsonify(status="ok")


@bp.get("/readyz")
def readyz() -> tuple[Response, int]:
    body = health.readiness(current_app.extensions["motcua_db"])
    return jsonify(body), 200 if body["ready"] else 503


class _Backlog:
    """The e-mail outbox backlog, counted in the database when Prometheus scrapes."""

    def collect(self) -> list[GaugeMetricFamily]:
        with current_app.extensions["motcua_db"].transaction() as s:
            count = health.outbox_backlog(s)
        return [GaugeMetricFamily("motcua_outbox_backlog", "Notifications with an e-mail address not sent yet",
                                  value=count)]


@bp.get("/metrics")
def prometheus() -> Response:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # every worker's and the scheduler's values, added up
        own = generate_latest(registry)
    else:
        own = generate_latest(REGISTRY)
    backlog = CollectorRegistry()
    backlog.register(_Backlog())
    return Response(own + generate_latest(backlog), mimetype=CONTENT_TYPE_LATEST)


def _start() -> None:
    given = request.headers.get("X-Request-Id", "")
    g.request_id = given if REQUEST_ID.match(given) else uuid.uuid4().hex
    g.request_started = time.perf_counter()


def _finish(response: Response) -> Response:
    started = g.get("request_started")
    if started is None:  # a request that failed before our before_request
        return response
    seconds = time.perf_counter() - started
    endpoint = request.endpoint or "unmatched"  # unmatched paths share one label: no label per random URL
    metrics.REQUEST_SECONDS.labels(endpoint=endpoint, method=request.method).observe(seconds)
    metrics.REQUESTS.labels(endpoint=endpoint, method=request.method, status=str(response.status_code)).inc()
    response.headers["X-Request-Id"] = g.request_id
    access_log.info("request", extra={"fields": {
        "request_id": g.request_id, "user": _username(g.get("user")), "remote": request.remote_addr,
        "method": request.method,
        "path": request.path, "status": response.status_code, "duration_ms": round(seconds * 1000, 1)}})
    return response


def _username(user: object) -> str | None:
    """The signed-in user's name without touching a session that may be gone: a failed request rolled its
    transaction back, which expires the loaded user, so the name is then read once by id."""
    state = inspect(user, raiseerr=False) if user is not None else None
    if state is None:
        return None
    name = state.dict.get("username")
    if name is None and state.identity:
        with current_app.extensions["motcua_db"].session() as s:
            name = s.scalar(select(User.username).where(User.id == state.identity[0]))
    return name


def init_app(app: Flask) -> None:
    configure_logging()
    metrics.install()
    app.register_blueprint(bp)
    app.before_request(_start)
    app.after_request(_finish)
