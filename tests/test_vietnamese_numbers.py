"""Amounts typed the Vietnamese way: `1.800.000` is one million eight hundred thousand đồng, never 1.8; what
reads two ways is refused with a message naming the field, on both backends."""

from __future__ import annotations

from typing import Any

import pytest

from engine import forms, vn_numbers
from engine.errors import Invalid

MONEY = {"components": [{"type": "number", "key": "so_tien", "label": "Số tiền (đồng)", "decimalDigits": 0}]}
RATIO = {"components": [{"type": "number", "key": "he_so", "label": "Hệ số"}]}


@pytest.mark.parametrize("typed", ["1.800.000", "1800000", "1.800.000 đ", " 1 800 000 ", 1800000])
def test_money_accepts_dots_as_thousands_and_plain_digits(typed: Any) -> None:
    assert forms.validate(MONEY, {"so_tien": typed})["so_tien"] == 1800000


@pytest.mark.parametrize("typed", ["1.8", "1,8", "1.80.000", 1.8])
def test_money_refuses_what_is_not_a_whole_amount_with_a_message(typed: Any) -> None:
    with pytest.raises(Invalid) as e:
        forms.validate(MONEY, {"so_tien": typed})
    assert "so_tien" in e.value.details and "Số tiền (đồng)" in e.value.details["so_tien"]


def test_decimal_fields_take_a_comma_and_refuse_the_ambiguous_grouping() -> None:
    assert forms.validate(RATIO, {"he_so": "2,5"})["he_so"] == 2.5
    assert forms.validate(RATIO, {"he_so": "1.800.000"})["he_so"] == 1800000
    with pytest.raises(Invalid) as e:
        forms.validate(RATIO, {"he_so": "1.800"})
    assert "không rõ" in e.value.details["he_so"]


def test_display_uses_dot_thousands_and_the_dong_sign() -> None:
    assert vn_numbers.fmt(1800000, money=True) == "1.800.000 đ"
    assert vn_numbers.fmt(2.5) == "2,5"
    assert vn_numbers.fmt(-1234) == "-1.234"


def test_the_api_answers_422_naming_the_field_for_1_8_dong(api: Any) -> None:
    from tests.test_three_level_case_api import receive, user_for

    case = receive(api)
    for data in ({"outcome": "approve"}, {"so_van_ban": "15/DS-UBND"}):
        task = api.get(f"/api/v1/cases/{case['code']}", "xa_a1_clerk").get_json()["tasks"][0]
        assert api.post(f"/api/v1/tasks/{task['id']}/complete", user_for(task), json={"data": data}).status_code == 200
    task = api.get(f"/api/v1/cases/{case['code']}", "xa_a1_clerk").get_json()["tasks"][0]
    assert task["step"] == "district_appraise"
    bad = api.post(f"/api/v1/tasks/{task['id']}/complete", user_for(task),
                   json={"data": {"outcome": "approve", "muc_de_xuat": "1.8"}})
    assert bad.status_code == 422
    assert "muc_de_xuat" in bad.get_json()["details"]
    good = api.post(f"/api/v1/tasks/{task['id']}/complete", user_for(task),
                    json={"data": {"outcome": "approve", "muc_de_xuat": "1.800.000"}})
    assert good.status_code == 200
