"""Who may open a page: one decorator for "signed in and holding this capability" (a column of the roles
table, read through `User.can`) and the admin check, so every area asks the same way."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import abort
from flask_login import current_user, login_required

from engine.errors import Forbidden


def capability_required(capability: str, refusal: str) -> Callable[[Callable], Callable]:
    """Sign-in first, then a 403 saying `refusal` to anyone whose roles lack `capability`."""

    def decorate(view: Callable) -> Callable:
        @wraps(view)
        @login_required
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if not current_user.user.can(capability):
                raise Forbidden(refusal)
            return view(*args, **kwargs)

        return wrapper

    return decorate


def require_admin() -> None:
    if not current_user.user.has_role("admin"):
        abort(403)
