"""The organisation: levels, roles, units (a tree), users, passwords (argon2, throttled logins) and API tokens."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from engine import inputs, principals
from engine.errors import Invalid, NotFound
from engine.models import ApiToken, Level, Role, Unit, User, UserRole, utcnow
from engine.throttle import LoginThrottle

_hasher = PasswordHasher()

DEFAULT_LEVELS = [("province", "Cấp tỉnh", 1), ("district", "Cấp huyện", 2), ("commune", "Cấp xã", 3)]
# What a role lets its holder do. Behaviour reads these columns of the roles table, never a role's code.
CAPABILITIES = ("receives_dossiers", "escalation_target", "reads_reports", "designs", "releases_claims")
DEFAULT_ROLES: list[tuple[str, str, tuple[str, ...]]] = [
    ("clerk", "Cán bộ một cửa", ("receives_dossiers",)),
    ("specialist", "Chuyên viên", ()),
    ("head", "Lãnh đạo phòng", ("escalation_target", "reads_reports", "releases_claims")),
    ("leader", "Lãnh đạo cơ quan / UBND", ("reads_reports",)),
    ("designer", "Thiết kế quy trình", ("designs",)),
    ("admin", "Quản trị hệ thống", ("reads_reports", "designs", "releases_claims")),
]


def ensure_reference_data(session: Session) -> None:
    """Levels and roles every deployment starts with; both are data an admin may extend."""
    for code, name, rank in DEFAULT_LEVELS:
        if session.get(Level, code) is None:
            session.add(Level(code=code, name=name, rank=rank))
    for code, name, capabilities in DEFAULT_ROLES:
        if session.get(Role, code) is None:
            add_role(session, code, name, capabilities)
    session.flush()


def add_role(session: Session, code: str, name: str, capabilities: tuple[str, ...] | list[str] = ()) -> Role:
    """A role with what it may do (a subset of CAPABILITIES); a province names its roles as it likes."""
    unknown = set(capabilities) - set(CAPABILITIES)
    if unknown:
        raise Invalid.of("capabilities_unknown", names=", ".join(sorted(unknown)),
                         details={"capabilities": sorted(unknown)})
    if session.get(Role, code) is not None:
        raise Invalid.of("role_exists", code=code, details={"code": code})
    role = Role(code=code, name=name, **{c: c in capabilities for c in CAPABILITIES})
    session.add(role)
    session.flush()
    return role


def roles_with(session: Session, capability: str) -> list[str]:
    """The codes of the roles that have `capability`."""
    if capability not in CAPABILITIES:
        raise ValueError(f"unknown capability {capability}")
    return list(session.scalars(select(Role.code).where(getattr(Role, capability).is_(True)).order_by(Role.code)))


def role_labels(session: Session) -> dict[str, str]:
    """Role code → its name, as the roles table says (pages show these, never a copy)."""
    return dict(session.execute(select(Role.code, Role.name)).all())


def level_labels(session: Session) -> dict[str, str]:
    """Level code → its name, from the levels table."""
    return dict(session.execute(select(Level.code, Level.name)).all())


def unit_by_code(session: Session, code: str) -> Unit:
    unit = session.scalar(select(Unit).where(Unit.code == code))
    if unit is None:
        raise NotFound.of("unit_not_found", code=code)
    return unit


def add_unit(session: Session, code: str, name: str, level: str, parent: str | None = None,
             agency_code: str | None = None) -> Unit:
    if session.get(Level, level) is None:
        raise Invalid.of("level_not_found", code=level)
    if session.scalar(select(Unit).where(Unit.code == code)) is not None:
        raise Invalid.of("unit_exists", code=code)
    parent_unit = unit_by_code(session, parent) if parent else None
    unit = Unit(code=code, name=name, level_code=level, parent_id=parent_unit.id if parent_unit else None,
                agency_code=agency_code or code)
    session.add(unit)
    session.flush()
    unit.path = f"{parent_unit.path if parent_unit else '/'}{unit.id}/"
    session.flush()
    return unit


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def add_user(session: Session, username: str, unit: str, roles: list[str], password: str | None = None,
             full_name: str = "", email: str | None = None) -> tuple[User, str | None]:
    """Create a user; returns the user and the generated password when none was given."""
    if session.scalar(select(User).where(User.username == username)) is not None:
        raise Invalid.of("user_exists", username=username)
    for role in roles:
        if session.get(Role, role) is None:
            raise Invalid.of("role_not_found", code=role)
    generated = None
    if not password:
        password = generated = secrets.token_urlsafe(12)
    user = User(username=username, full_name=full_name or username, email=email,
                password_hash=hash_password(password), unit_id=unit_by_code(session, unit).id)
    user.role_links = [UserRole(role_code=r) for r in dict.fromkeys(roles)]
    session.add(user)
    session.flush()
    return user, generated


def user_by_username(session: Session, username: str) -> User:
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise NotFound.of("user_not_found", username=username)
    return user


_dummy_hash: list[str] = []


def _verify_dummy(password: str) -> None:
    """The same argon2 work as a real check, for answers that must not reveal why they failed."""
    if not _dummy_hash:
        _dummy_hash.append(_hasher.hash(secrets.token_urlsafe(16)))
    try:
        _hasher.verify(_dummy_hash[0], password)
    except (VerificationError, InvalidHashError):
        pass


def authenticate(session: Session, username: str, password: str, *, throttle: LoginThrottle | None = None,
                 client: str = "") -> User | None:
    """The user when the password is right and `client` (the address) is not being throttled for this
    username; None otherwise. Unknown, inactive, wrong and throttled cost one argon2 verification each and
    look the same to the caller, so neither the answer nor its timing reveals which usernames exist. There is
    no per-account lock-out: anyone could lock any official out with it (engine.throttle)."""
    check = inputs.Checker()
    username = check.text("username", username, User.username)
    check.text("password", password, max_length=1024, strip=False)  # argon2 of megabytes is a DoS
    check.done()
    if throttle is not None and throttle.wait(username, client):
        _verify_dummy(password)
        return None
    user = session.scalar(select(User).where(User.username == username))
    try:
        if user is None or not user.active:
            _verify_dummy(password)
            raise VerificationError("unknown or inactive user")
        _hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        if throttle is not None:
            throttle.failed(username, client)
        return None
    if throttle is not None:
        throttle.succeeded(username, client)
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return user


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


TOKEN_DAYS = 90  # MOTCUA_TOKEN_DAYS


def issue_token(session: Session, user: User, days: int = TOKEN_DAYS) -> str:
    """A new bearer token for `user`, valid for `days` days; only its SHA-256 is stored."""
    if days < 1:
        raise Invalid.of("token_days_min", details={"days": days})
    token = "mc_" + secrets.token_urlsafe(32)
    session.add(ApiToken(user_id=user.id, token_hash=_token_hash(token), expires_at=utcnow() + timedelta(days=days)))
    session.flush()
    return token


def user_for_token(session: Session, token: str, days: int = TOKEN_DAYS) -> User | None:
    """The active user of a live token; an expired or revoked token opens nothing. Tokens from before expiry
    existed (no expires_at) count `days` from their creation. One query per call (engine.principals)."""
    tokens = ApiToken.__table__.c
    found = principals.lookup(session, tokens.token_hash, _token_hash(token), (tokens.expires_at, tokens.created_at))
    if found is None:
        return None
    row, user = found
    expires = row.expires_at or row.created_at + timedelta(days=days)
    return user if expires > utcnow() else None


def revoke_tokens(session: Session, user: User) -> int:
    """Every API token of `user` stops working at once; returns how many were revoked."""
    return session.execute(delete(ApiToken).where(ApiToken.user_id == user.id)).rowcount or 0
