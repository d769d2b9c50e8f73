"""View decorators other blocks' pages use to require a kind of sign-in."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import urlencode


def officer_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Let through only officers whose session passed the second factor."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        user = request.user
        if not (
            user.is_authenticated
            and getattr(user, "is_officer", False)
            and request.session.get("second_factor")
        ):
            query = urlencode({"next": request.get_full_path()})
            return redirect(f"{reverse('identity:officer_sign_in')}?{query}")
        return view(request, *args, **kwargs)

    return wrapper
