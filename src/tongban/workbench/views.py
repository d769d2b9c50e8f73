"""Workbench pages for officers: home, the resource catalog, sharing requests, grants and calls,
and imports of registry files.

Thin: every read goes through a scoped selector, every write through one service.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone, translation
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from tongban.catalog import selectors as catalog_selectors
from tongban.catalog import services as catalog
from tongban.catalog.models import AccessRequest
from tongban.exchange import selectors as exchange
from tongban.identity import selectors as identity_selectors
from tongban.identity.decorators import officer_required
from tongban.identity.models import Account, Role
from tongban.kernel.problems import InvalidInput, Problem
from tongban.kernel.web import apply_problem
from tongban.registries import services as registries
from tongban.registries.models import Registry, RegistryImport
from tongban.workbench.forms import AccessRequestForm, RefuseForm, RegistryImportForm, RevokeForm

STATS_DAYS = 30
RECENT_IMPORTS = 20
# How often an import's page asks for its progress, and when a queued import is said to wait too long.
IMPORT_POLL_SECONDS = 2
IMPORT_STALLED_AFTER = timedelta(minutes=1)


def _officer(request: HttpRequest) -> Account:
    account: Account = request.user  # type: ignore[assignment]
    return account


@officer_required
def home(request: HttpRequest) -> HttpResponse:
    account = _officer(request)
    appointments = account.appointments.select_related("department__region", "position").order_by(
        "department__region__code", "department__kind", "role"
    )
    return render(request, "workbench/home.html", {"appointments": appointments})


@officer_required
def catalog_list(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "").strip()[:100]
    resources = catalog_selectors.resources_visible_to(_officer(request), query=query or None)
    return render(request, "workbench/catalog_list.html", {"resources": resources[:200], "query": query})


def _request_form(account: Account, resource: object, data: object = None) -> AccessRequestForm:
    fields = [(field.name, f"{field.name} · {field.description}") for field in resource.fields.all()]  # type: ignore[attr-defined]
    systems = identity_selectors.machine_systems_of(account.department_ids(Role.DATA_OFFICER))
    return AccessRequestForm(
        data, field_choices=fields,
        system_choices=[(system.pk, f"{system.name} ({system.department.name})") for system in systems],
    )


@officer_required
def catalog_detail(request: HttpRequest, code: str) -> HttpResponse:
    account = _officer(request)
    try:
        resource = catalog_selectors.visible_resource(account, code)
    except Problem:
        return render(request, "404.html", status=404)
    may_request = bool(account.department_ids(Role.DATA_OFFICER))
    form = _request_form(account, resource, request.POST or None) if may_request else None
    if request.method == "POST" and form is not None and form.is_valid():
        data = form.cleaned_data
        system = identity_selectors.machine_systems_of(account.department_ids(Role.DATA_OFFICER)).filter(
            pk=data["system"]
        ).first()
        try:
            if system is None:
                raise InvalidInput(_("Choose one of your department's systems."), field="system")
            access_request = catalog.request_access(
                actor=account, resource=resource, fields=data["fields_wanted"], purpose=data["purpose"],
                legal_basis=data["legal_basis"], system=system,
                valid_until=timezone.make_aware(datetime.combine(data["valid_until"], time(23, 59))),
            )
        except Problem as problem:
            apply_problem(form, problem)
        else:
            if access_request.status == AccessRequest.Status.APPROVED:
                messages.success(request, _("The resource is shared unconditionally: access is granted."))
            else:
                messages.success(request, _("Your request is sent to the owning department."))
            return redirect("workbench:requests")
    status = 400 if form is not None and form.errors else 200
    return render(request, "workbench/catalog_detail.html",
                  {"resource": resource, "form": form, "may_request": may_request}, status=status)


@officer_required
def requests_list(request: HttpRequest) -> HttpResponse:
    account = _officer(request)
    requests = catalog_selectors.requests_visible_to(account).select_related(
        "resource__owner", "requesting_department", "system"
    )[:200]
    mine = account.department_ids()
    return render(request, "workbench/requests.html", {
        "incoming": [r for r in requests if r.resource.owner_id in mine],
        "outgoing": [r for r in requests if r.requesting_department_id in mine],
        "refuse_form": RefuseForm(),
    })


def _decide(request: HttpRequest, request_id: int, decision: str) -> HttpResponse:
    account = _officer(request)
    try:
        access_request = catalog_selectors.visible_request(account, request_id)
        if decision == "approve":
            masking = {name: kind for name in access_request.fields
                       if (kind := request.POST.get(f"mask_{name}", "")) in catalog.MASKS}
            catalog.approve_request(access_request, actor=account, masking=masking or None)
            messages.success(request, _("The request is approved and the grant is in force."))
        else:
            form = RefuseForm(request.POST)
            if not form.is_valid():
                messages.error(request, _("Give the reason for the refusal."))
                return redirect("workbench:requests")
            catalog.refuse_request(access_request, actor=account, reason=form.cleaned_data["reason"])
            messages.success(request, _("The request is refused."))
    except Problem as problem:
        messages.error(request, problem.detail)
    return redirect("workbench:requests")


@officer_required
@require_POST
def approve_request(request: HttpRequest, request_id: int) -> HttpResponse:
    return _decide(request, request_id, "approve")


@officer_required
@require_POST
def refuse_request(request: HttpRequest, request_id: int) -> HttpResponse:
    return _decide(request, request_id, "refuse")


@officer_required
def grants_list(request: HttpRequest) -> HttpResponse:
    account = _officer(request)
    since = timezone.now() - timedelta(days=STATS_DAYS)
    grants = catalog_selectors.grants_visible_to(account).select_related("resource__owner", "consumer", "system")
    return render(request, "workbench/grants.html", {
        "grants": grants[:200],
        "stats": exchange.calls_per_grant_per_day(actor=account, since=since),
        "refused": exchange.refused_calls(actor=account, since=since)[:50],
        "revoke_form": RevokeForm(),
        "days": STATS_DAYS,
    })


@officer_required
@require_POST
def revoke_grant(request: HttpRequest, grant_id: int) -> HttpResponse:
    account = _officer(request)
    form = RevokeForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Give the reason for the revocation."))
        return redirect("workbench:grants")
    try:
        grant = catalog_selectors.visible_grant(account, grant_id)
        catalog.revoke_grant(grant, actor=account, reason=form.cleaned_data["reason"])
    except Problem as problem:
        messages.error(request, problem.detail)
    else:
        messages.success(request, _("The grant is revoked; the next call is refused."))
    return redirect("workbench:grants")


def _registry_label(registry: Registry) -> str:
    name = registry.name_en if translation.get_language() == "en" and registry.name_en else registry.name
    return f"{name} ({registry.owner.name})"


@officer_required
def imports(request: HttpRequest) -> HttpResponse:
    """List recent imports of the officer's departments, and upload a file to import."""
    account = _officer(request)
    choices = [(registry.code, _registry_label(registry)) for registry in registries.importable_registries(account)]
    form = RegistryImportForm(request.POST or None, request.FILES or None,
                              registry_choices=[("", _("Choose a registry")), *choices])
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                registry_import = registries.start_import(
                    actor=account, registry_code=data["registry"], upload=data["file"], reason=data["reason"],
                    skip_registered=data["skip_registered"], language=translation.get_language(),
                )
            except Problem as problem:
                apply_problem(form, problem)
                status = problem.status
            else:
                return redirect("workbench:import_detail", import_id=registry_import.pk)
        else:
            status = 400
    return render(request, "workbench/imports.html", {
        "form": form, "may_import": bool(choices),
        "imports": registries.imports_visible_to(account)[:RECENT_IMPORTS],
    }, status=status)


@officer_required
def import_detail(request: HttpRequest, import_id: int) -> HttpResponse:
    """Show an import's status and progress; to htmx, only the part that changes (polled until it ends)."""
    try:
        registry_import = registries.visible_import(_officer(request), import_id)
    except Problem:
        return render(request, "404.html", status=404)
    context = {
        "registry_import": registry_import,
        "registry_label": _registry_label(registry_import.registry),
        "poll_every": f"{IMPORT_POLL_SECONDS}s",
        "stalled": registry_import.status == RegistryImport.Status.QUEUED
        and timezone.now() - registry_import.uploaded_at > IMPORT_STALLED_AFTER,
        "skipped": max((registry_import.total_rows or 0) - (registry_import.imported or 0), 0)
        if registry_import.skip_registered and registry_import.status == RegistryImport.Status.SUCCEEDED else 0,
    }
    if request.headers.get("HX-Request"):
        response = render(request, "workbench/import_progress.html", {**context, "swap_status": True})
    else:
        response = render(request, "workbench/import_detail.html", context)
    # The same address answers the page or its polled part: caches must tell them apart.
    patch_vary_headers(response, ["HX-Request"])
    return response
