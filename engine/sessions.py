"""Signed-in browsers, revocable on the server. The cookie holds `<user id>:<key>`; only the key's SHA-256 is
stored, so a stolen database does not open sessions, and logging out deletes the row so that a copy of the
cookie taken before logout is refused afterwards."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import delete
from sqlalchemy.orm import Session

from engine import principals
from engine.models import LoginSession, User, utcnow

# A browser left signed in is signed out after this long, and its row is removed at the user's next login.
MAX_AGE = timedelta(days=30)


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def start(session: Session, user: User) -> str:
    """A new session for `user`; returns the key the cookie carries."""
    key = secrets.token_urlsafe(32)
    session.execute(delete(LoginSession).where(LoginSession.user_id == user.id,
                                               LoginSession.created_at < utcnow() - MAX_AGE))
    session.add(LoginSession(user_id=user.id, key_hash=_hash(key)))
    session.flush()
    return key


def user_for(session: Session, user_id: int, key: str) -> User | None:
    """The active user of a live session, or None (logged out, revoked, deactivated, or a forged cookie).
    One query per call (engine.principals)."""
    logins = LoginSession.__table__.c
    found = principals.lookup(session, logins.key_hash, _hash(key), (logins.user_id, logins.created_at))
    if found is None:
        return None
    row, user = found
    if row.user_id != user_id or row.created_at < utcnow() - MAX_AGE:
        return None
    return user


def end(session: Session, key: str) -> None:
    session.execute(delete(LoginSession).where(LoginSession.key_hash == _hash(key)))


def end_all(session: Session, user: User) -> int:
    """Sign `user` out everywhere (a lost laptop, a password given away); returns how many sessions ended."""
    return session.execute(delete(LoginSession).where(LoginSession.user_id == user.id)).rowcount or 0
