"""Satisfaction rating (Thông tư 01/2018, Điều 13): after the result is returned, the citizen scores the nine
criteria 0–2 once per case, from the lookup page; the averages appear in the reports."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from engine import public, reports
from engine.errors import Conflict, Invalid
from engine.models import Case, Rating
from tests.conftest import World, at
from tests.helpers import csrf_token as _csrf

ALL_TWO = {f"c{i}": "2" for i in range(1, 10)}


def _returned_case(world: World) -> tuple[str, str]:
    code = world.receive(procedure="ho_tro_mai_tang", received_at=at("2025-03-03 09:00"))
    for n, data in enumerate(({"outcome": "approve"}, {}, {"outcome": "approve"}, {"outcome": "approve"}, {})):
        world.complete_next(code, data, now=at(f"2025-03-04 0{n + 1}:00"))
    with world.db.transaction() as s:
        case = s.scalar(select(Case).where(Case.code == code))
        assert case.status_code == 10
        return code, case.lookup_secret


def test_citizen_rates_once_from_the_lookup_page(world: World, api: Any) -> None:
    code, secret = _returned_case(world)
    token = _csrf(api.client.get("/tra-cuu").get_data(as_text=True))
    keys = {"code": code, "secret": secret, "csrf_token": token}
    track = api.client.post("/tra-cuu", data=keys).get_data(as_text=True)
    assert "Đánh giá việc giải quyết hồ sơ" in track
    form = api.client.post("/danh-gia", data=keys).get_data(as_text=True)  # the button on the lookup page
    assert form.count('type="radio"') == 27 and "Thái độ của cán bộ" in form
    scores = {**ALL_TWO, "c7": "1"}
    resp = api.client.post("/danh-gia", data={**scores, **keys, "rating": "1", "comment": "Nhanh, chu đáo"})
    assert resp.status_code == 200 and "Cảm ơn ông/bà đã đánh giá" in resp.get_data(as_text=True)
    with world.db.transaction() as s:
        rating = s.scalar(select(Rating))
        assert rating.scores["c7"] == 1 and rating.scores["c1"] == 2 and rating.comment == "Nhanh, chu đáo"
    assert "đã đánh giá" in api.client.post("/tra-cuu", data=keys).get_data(as_text=True)
    again = api.client.post("/danh-gia", data={**ALL_TWO, **keys, "rating": "1"})
    assert again.status_code == 409 and "đã được đánh giá" in again.get_data(as_text=True)
    with world.db.transaction() as s:
        assert len(s.scalars(select(Rating)).all()) == 1


def test_ratings_are_averaged_per_criterion_in_reports(world: World) -> None:
    first, second = _returned_case(world), _returned_case(world)
    with world.db.transaction() as s:
        public.rate(s, *first, ALL_TWO, now=at("2025-03-05 09:00"))
        public.rate(s, *second, {**ALL_TWO, "c3": 1, "c9": 0}, now=at("2025-03-06 09:00"))
    with world.db.transaction() as s:
        f = reports.filters_for(s, world.user(s, "huyen_a_head"), "2025-03-01", "2025-03-31")
        summary = reports.ratings_summary(s, f)
        averages = {c["code"]: c["average"] for c in summary["criteria"]}
        assert summary["count"] == 2 and averages["c1"] == 2.0 and averages["c3"] == 1.5 and averages["c9"] == 1.0
        other = reports.filters_for(s, world.user(s, "huyen_b_head"), "2025-03-01", "2025-03-31")
        assert reports.ratings_summary(s, other)["count"] == 0


def test_rating_rules(world: World) -> None:
    open_code = world.receive(procedure="ho_tro_mai_tang")
    code, secret = _returned_case(world)
    with world.db.transaction() as s:
        open_secret = s.scalar(select(Case.lookup_secret).where(Case.code == open_code))
        with pytest.raises(Conflict):  # not returned yet
            public.rate(s, open_code, open_secret, ALL_TWO)
        with pytest.raises(Invalid) as bad:
            public.rate(s, code, secret, {**ALL_TWO, "c4": "3", "c5": None})
        assert set(bad.value.details) == {"c4", "c5"}
