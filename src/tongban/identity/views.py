"""Sign-up, sign-in and account pages. Thin: parse, rate-limit, call a service, render."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import login, logout, update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from tongban.identity import forms, services
from tongban.identity.models import Account
from tongban.kernel import ratelimit
from tongban.kernel.crypto import get_crypto_provider
from tongban.kernel.middleware import client_address
from tongban.kernel.problems import Problem, RateLimited
from tongban.kernel.web import apply_problem, safe_next, too_many_requests

BACKEND = "django.contrib.auth.backends.ModelBackend"


def _rate_key(id_number: str) -> str:
    """Return a keyed digest of an ID number for rate-limit keys (never the number itself)."""
    return get_crypto_provider().blind_index(id_number.strip().upper(), purpose="identity.ratelimit")[:32]


def sign_up(request: HttpRequest) -> HttpResponse:
    form = forms.SignUpForm(request.POST or None)
    if request.method == "POST":
        try:
            ratelimit.hit("sign_up", client_address(request))
            ratelimit.hit("real_name", client_address(request))
            # Per identity too, so that guessing names for one ID number from
            # many addresses is slowed as much as from one.
            ratelimit.hit("real_name", f"id:{_rate_key(request.POST.get('id_number', ''))}")
        except RateLimited as error:
            return too_many_requests(request, error)
        if form.is_valid():
            data = form.cleaned_data
            try:
                account = services.register_citizen(
                    username=data["username"], password=data["password"],
                    name=data["name"], id_number=data["id_number"],
                )
            except Problem as problem:
                apply_problem(form, problem)
            else:
                login(request, account, backend=BACKEND)
                messages.success(request, _("Your account is ready and your real name is verified."))
                return redirect("portal:profile")
    return render(request, "identity/sign_up.html", {"form": form}, status=400 if form.errors else 200)


def sign_in(request: HttpRequest) -> HttpResponse:
    form = forms.SignInForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        username = form.cleaned_data["username"].strip().lower()
        try:
            ratelimit.hit("sign_in", client_address(request))
            ratelimit.hit("sign_in", f"account:{username}")
        except RateLimited as error:
            return too_many_requests(request, error)
        try:
            account = services.sign_in(username=username, password=form.cleaned_data["password"])
        except Problem as problem:
            apply_problem(form, problem)
        else:
            login(request, account, backend=BACKEND)
            return redirect(safe_next(request, "/me/"))
    return render(request, "identity/sign_in.html", {"form": form, "next": safe_next(request, "")},
                  status=400 if form.errors else 200)


@require_POST
def sign_out(request: HttpRequest) -> HttpResponse:
    logout(request)
    messages.success(request, _("You have signed out."))
    return redirect("portal:home")


@login_required
def real_name(request: HttpRequest) -> HttpResponse:
    form = forms.RealNameForm(request.POST or None)
    if request.method == "POST":
        try:
            ratelimit.hit("real_name", client_address(request))
            ratelimit.hit("real_name", f"account:{request.user.pk}")
            ratelimit.hit("real_name", f"id:{_rate_key(request.POST.get('id_number', ''))}")
        except RateLimited as error:
            return too_many_requests(request, error)
        if form.is_valid():
            try:
                services.bind_real_name(request.user, actor=request.user, **form.cleaned_data)  # type: ignore[arg-type]
            except Problem as problem:
                apply_problem(form, problem)
            else:
                messages.success(request, _("Your real name is verified."))
                return redirect("portal:profile")
    return render(request, "identity/real_name.html", {"form": form}, status=400 if form.errors else 200)


@login_required
def change_password(request: HttpRequest) -> HttpResponse:
    form = forms.ChangePasswordForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        account: Account = request.user  # type: ignore[assignment]
        try:
            services.change_password(account, actor=account, **form.cleaned_data)
        except Problem as problem:
            apply_problem(form, problem)
        else:
            # Keep this session; every other session ends with the new stamp.
            update_session_auth_hash(request, account)
            messages.success(request, _("Your password is changed. Other devices are signed out."))
            return redirect("portal:profile" if not account.is_officer else "workbench:home")
    return render(request, "identity/change_password.html", {"form": form}, status=400 if form.errors else 200)


@login_required
@require_POST
def sign_out_everywhere(request: HttpRequest) -> HttpResponse:
    account: Account = request.user  # type: ignore[assignment]
    services.sign_out_everywhere(account, actor=account)
    logout(request)
    messages.success(request, _("You have signed out on every device."))
    return redirect("portal:home")


PENDING_KEY = "officer_pending_account"


def officer_sign_in(request: HttpRequest) -> HttpResponse:
    """Step one: username and password. The session starts only after step two."""
    form = forms.SignInForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        username = form.cleaned_data["username"].strip().lower()
        try:
            ratelimit.hit("officer_sign_in", client_address(request))
            ratelimit.hit("officer_sign_in", f"account:{username}")
        except RateLimited as error:
            return too_many_requests(request, error)
        try:
            account = services.sign_in(
                username=username, password=form.cleaned_data["password"], kind=Account.Kind.OFFICER
            )
        except Problem as problem:
            apply_problem(form, problem)
        else:
            request.session.cycle_key()
            request.session[PENDING_KEY] = account.pk
            request.session["officer_next"] = safe_next(request, reverse("workbench:home"))
            return redirect("identity:officer_second_factor")
    return render(request, "identity/officer_sign_in.html", {"form": form, "next": safe_next(request, "")},
                  status=400 if form.errors else 200)


def officer_second_factor(request: HttpRequest) -> HttpResponse:
    """Step two: the TOTP code; on success the officer's session starts."""
    account_id = request.session.get(PENDING_KEY)
    if account_id is None:
        return redirect("identity:officer_sign_in")
    form = forms.SecondFactorForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            ratelimit.hit("officer_sign_in", client_address(request))
        except RateLimited as error:
            return too_many_requests(request, error)
        account = Account.objects.get(pk=account_id)
        try:
            account = services.verify_second_factor(account, code=form.cleaned_data["code"])
        except Problem as problem:
            apply_problem(form, problem)
        else:
            target = request.session.get("officer_next") or reverse("workbench:home")
            login(request, account, backend=BACKEND)
            request.session["second_factor"] = True
            return redirect(target)
    return render(request, "identity/officer_second_factor.html", {"form": form}, status=400 if form.errors else 200)
