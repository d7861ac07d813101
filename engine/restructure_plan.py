"""A restructuring plan (merge units, abolish a level, rename, move users) read from TOML or JSON, and the
organisation it leads to, computed in memory so a dry run changes nothing.

The same computation serves the dry run and the apply (engine.restructure), before and after the
organisation step: merged and abolished units are recognised whether they are still active or already
inactive, so a rerun after an interruption computes the same targets."""

from __future__ import annotations

import hashlib
import json
import tomllib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import inputs
from engine.calendar import VN_TZ
from engine.errors import Invalid
from engine.models import Level, LevelAlias, Unit, UnitSuccessor, User

PLAN_KEYS = ("effective", "merge", "abolish_level", "rename", "move_users")
CHILDREN_TO = ("parent",)


@dataclass
class Merge:
    into: dict  # code, and for a new unit: name, level, parent, agency_code
    sources: list[str]


@dataclass
class Abolish:
    level: str
    children_to: str
    work_to: str


@dataclass
class Plan:
    effective: datetime
    merges: list[Merge] = field(default_factory=list)
    abolish: list[Abolish] = field(default_factory=list)
    renames: list[dict] = field(default_factory=list)
    moves: list[tuple[str, str]] = field(default_factory=list)
    raw: dict = field(default_factory=dict)

    @property
    def sha256(self) -> str:
        return hashlib.sha256(json.dumps(self.raw, sort_keys=True, ensure_ascii=False, default=str)
                              .encode()).hexdigest()


def parse_toml(text: str | bytes) -> Plan:
    """A plan from TOML text (the file an operator writes); syntax errors are a 422 naming the line."""
    try:
        raw = tomllib.loads(text.decode("utf-8") if isinstance(text, bytes) else text)
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise Invalid.of("plan_toml", error=str(e), details={"plan": str(e)}) from None
    return parse(raw)


def _list(check: inputs.Checker, raw: dict, key: str) -> list[dict]:
    value = raw.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        check.add(key, "phải là một danh sách bảng")
        return []
    return value


def parse(raw: Any) -> Plan:
    """Check a plan's shape (each bad field named: `merge[0].from[1]`) and return it."""
    check = inputs.Checker()
    if not isinstance(raw, dict):
        raise Invalid.of("plan_table", details={"plan": "phải là một bảng"})
    for key in raw:
        if key not in PLAN_KEYS:
            check.add(str(key)[:60], f"khóa không biết; dùng {', '.join(PLAN_KEYS)}")
    effective = check.moment("effective", raw.get("effective"))
    if effective is None and "effective" not in check.details:
        check.add("effective", "bắt buộc nhập")
    if effective is not None and not isinstance(effective, datetime):
        effective = datetime(effective.year, effective.month, effective.day, tzinfo=VN_TZ)
    if isinstance(effective, datetime) and effective.tzinfo is None:
        effective = effective.replace(tzinfo=VN_TZ)
    plan = Plan(effective=effective or datetime.now(VN_TZ))
    for i, m in enumerate(_list(check, raw, "merge")):
        into = m.get("into")
        if isinstance(into, str):
            into = {"code": into}
        if not isinstance(into, dict):
            check.add(f"merge[{i}].into", "bắt buộc: mã đơn vị hoặc bảng {code, name, level, parent}")
            continue
        clean = {k: check.text(f"merge[{i}].into.{k}", into.get(k), max_length=300 if k == "name" else 64)
                 for k in ("code", "name", "level", "parent", "agency_code")}
        if not clean["code"]:
            check.add(f"merge[{i}].into.code", "bắt buộc nhập")
        sources = m.get("from")
        if not isinstance(sources, list) or not sources:
            check.add(f"merge[{i}].from", "phải là danh sách mã đơn vị")
            sources = []
        plan.merges.append(Merge({k: v for k, v in clean.items() if v},
                                 [check.text(f"merge[{i}].from[{j}]", s, Unit.code, required=True)
                                  for j, s in enumerate(sources)]))
    for i, a in enumerate(_list(check, raw, "abolish_level")):
        level = check.text(f"abolish_level[{i}].level", a.get("level"), Level.code, required=True)
        children = check.text(f"abolish_level[{i}].children_to", a.get("children_to", "parent"), max_length=32)
        if children not in CHILDREN_TO:
            check.add(f"abolish_level[{i}].children_to", "chỉ hỗ trợ \"parent\"")
        work_to = check.text(f"abolish_level[{i}].work_to", a.get("work_to"), Level.code, required=True)
        plan.abolish.append(Abolish(level, children, work_to))
    for i, r in enumerate(_list(check, raw, "rename")):
        plan.renames.append({"unit": check.text(f"rename[{i}].unit", r.get("unit"), Unit.code, required=True),
                             "name": check.text(f"rename[{i}].name", r.get("name"), Unit.name, required=True),
                             "agency_code": check.text(f"rename[{i}].agency_code", r.get("agency_code"),
                                                       Unit.agency_code) or None})
    for i, mv in enumerate(_list(check, raw, "move_users")):
        plan.moves.append((check.text(f"move_users[{i}].from", mv.get("from"), Unit.code, required=True),
                           check.text(f"move_users[{i}].to", mv.get("to"), Unit.code, required=True)))
    check.done("plan_invalid")
    plan.raw = json.loads(json.dumps(raw, default=str))
    return plan


# --- the organisation after the plan, in memory -----------------------------------------------------


@dataclass
class U:
    code: str
    name: str
    level: str
    parent: str | None
    active: bool
    id: int | None = None
    new: bool = False


@dataclass
class Model:
    """Units by code, who holds which roles where, successors and level aliases — after the plan."""

    units: dict[str, U]
    roles_at: dict[str, set[str]]
    successor: dict[str, str]
    aliases: dict[str, str]
    affected: set[str]  # units whose open work moves (merged away or at an abolished level)
    problems: list[str]
    warnings: list[str]

    def current(self, code: str) -> str:
        seen = {code}
        while not self.units[code].active and code in self.successor:
            code = self.successor[code]
            if code in seen:
                break
            seen.add(code)
        return code

    def ancestor_at(self, code: str, level: str) -> str | None:
        seen: set[str] = set()
        current: str | None = code
        while current is not None and current not in seen:
            seen.add(current)
            u = self.units[current]
            if u.level == level and u.active:
                return current
            current = u.parent
        return None

    def target(self, receiving: str, lane_level: str, item_unit: str) -> str | None:
        """Where an open step goes: its lane's level (or that level's alias) on the path of the case's
        receiving unit as it is after the plan; else the successor of the unit it sits at."""
        level = self.aliases.get(lane_level, lane_level)
        start = self.current(receiving)
        found = self.ancestor_at(start, level)
        if found is None:
            below = [u.code for u in self.units.values() if u.active and u.level == level
                     and self.ancestor_at(u.code, self.units[start].level) == start]
            found = below[0] if len(below) == 1 else None
        if found is None:
            cur = self.current(item_unit)
            found = cur if self.units[cur].active else None
        return found


def model_after(session: Session, plan: Plan) -> Model:
    """The organisation after `plan`, from the database as it is now (before or after the apply)."""
    units: dict[str, U] = {}
    by_id: dict[int, str] = {}
    for u in session.scalars(select(Unit)):
        by_id[u.id] = u.code
    for u in session.scalars(select(Unit)):
        units[u.code] = U(u.code, u.name, u.level_code, by_id.get(u.parent_id) if u.parent_id else None,
                          u.active, u.id)
    roles_at: dict[str, set[str]] = {}
    for user in session.scalars(select(User).where(User.active.is_(True))):
        roles_at.setdefault(by_id[user.unit_id], set()).update(user.roles)
    successor = {by_id[s.predecessor_id]: by_id[s.successor_id] for s in session.scalars(select(UnitSuccessor))}
    aliases = {a.level_code: a.work_to for a in session.scalars(select(LevelAlias))}
    levels = {lv.code for lv in session.scalars(select(Level))}
    m = Model(units, roles_at, successor, aliases, set(), [], [])
    _merge(m, plan, levels)
    _abolish(m, plan, levels)
    for i, r in enumerate(plan.renames):
        if r["unit"] not in m.units:
            m.problems.append(f"rename[{i}]: không có đơn vị {r['unit']}")
    for i, (src, dst) in enumerate(plan.moves):
        for key, code in (("from", src), ("to", dst)):
            if code not in m.units:
                m.problems.append(f"move_users[{i}].{key}: không có đơn vị {code}")
        if src in m.units and dst in m.units:
            if not m.units[m.current(dst)].active:
                m.problems.append(f"move_users[{i}].to: đơn vị {dst} không còn hoạt động sau khi sắp xếp")
            m.roles_at.setdefault(m.current(dst), set()).update(m.roles_at.pop(src, set()))
    for code in sorted(m.affected):
        if m.roles_at.get(code):
            m.warnings.append(f"{code}: còn người dùng ở đơn vị ngừng hoạt động (thêm move_users)")
    _cycles(m)
    return m


def _merge(m: Model, plan: Plan, levels: set[str]) -> None:
    abolished = {a.level for a in plan.abolish}
    seen: dict[str, int] = {}
    for i, mg in enumerate(plan.merges):
        code = mg.into["code"]
        if code not in m.units:
            level, parent = mg.into.get("level"), mg.into.get("parent")
            if not mg.into.get("name") or level not in levels:
                m.problems.append(f"merge[{i}].into: đơn vị mới {code} cần name và level có thật")
                continue
            if parent and parent not in m.units:
                m.problems.append(f"merge[{i}].into.parent: không có đơn vị {parent}")
                continue
            m.units[code] = U(code, mg.into["name"], level, parent, True, new=True)
        if m.units[code].level in abolished:
            m.problems.append(f"merge[{i}].into: {code} vừa được sáp nhập vào vừa thuộc cấp bị bãi bỏ")
        for src in mg.sources:
            if src not in m.units:
                m.problems.append(f"merge[{i}].from: không có đơn vị {src}")
                continue
            if src == code:
                m.problems.append(f"merge[{i}]: {src} sáp nhập vào chính nó (vòng lặp)")
                continue
            if src in seen:
                m.problems.append(f"merge[{i}].from: {src} đã được sáp nhập ở merge[{seen[src]}]")
                continue
            if m.units[src].level in abolished:
                m.problems.append(f"merge[{i}].from: {src} vừa được sáp nhập vừa thuộc cấp bị bãi bỏ")
            seen[src] = i
            m.units[src].active = False
            m.successor[src] = code
            m.affected.add(src)
            m.roles_at.setdefault(code, set()).update(m.roles_at.pop(src, set()))


def _abolish(m: Model, plan: Plan, levels: set[str]) -> None:
    for i, ab in enumerate(plan.abolish):
        if ab.level not in levels:
            m.problems.append(f"abolish_level[{i}].level: không có cấp {ab.level}")
            continue
        if ab.work_to not in levels or ab.work_to == ab.level:
            m.problems.append(f"abolish_level[{i}].work_to: cấp {ab.work_to} không dùng được")
            continue
        m.aliases[ab.level] = ab.work_to
        # Every unit of the level, active or already retired by an earlier (interrupted) apply.
        doomed = [u for u in m.units.values() if u.level == ab.level]
        for u in doomed:
            for child in m.units.values():
                if child.parent == u.code and child.active:
                    child.parent = u.parent
            u.active = False
            m.affected.add(u.code)
            if u.code not in m.successor and u.parent is not None:
                m.successor[u.code] = m.ancestor_at(u.parent, ab.work_to) or u.parent


def _cycles(m: Model) -> None:
    for start in m.successor:
        seen, code = {start}, start
        while code in m.successor:
            code = m.successor[code]
            if code in seen:
                m.problems.append(f"vòng lặp kế thừa đơn vị qua {start}")
                return
            seen.add(code)
