"""Portal pages for citizens and businesses."""

from __future__ import annotations

import json
import uuid
from datetime import datetime, time
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from tongban.catalog import selectors as catalog
from tongban.credentials import services as credentials
from tongban.exchange import selectors as exchange
from tongban.identity import services as identity
from tongban.identity.middleware import ACTING_FOR_SESSION_KEY
from tongban.identity.models import Account, Delegation
from tongban.kernel.masking import mask_id_number
from tongban.kernel.problems import Problem
from tongban.kernel.web import apply_problem
from tongban.portal.forms import DelegationForm
from tongban.registries.models import LegalEntity
from tongban.services import selectors as service_catalog


def home(request: HttpRequest) -> HttpResponse:
    return render(request, "portal/home.html")


def _represented(account: Account) -> list[LegalEntity]:
    if account.person_id is None:
        return []
    return list(LegalEntity.objects.filter(legal_representative_id=account.person_id).order_by("name"))


def _profile_context(request: HttpRequest, account: Account, delegation_form: DelegationForm | None = None) -> dict[str, object]:
    represented = _represented(account)
    return {
        "person": account.person,
        "masked_id_number": mask_id_number(account.person.id_number) if account.person else "",
        "entities": list(identity.acting_entities(account)),
        "represented": represented,
        "granted": Delegation.objects.filter(granted_by=account).select_related("entity", "delegate__person")
        .order_by("-created_at")[:50],
        "delegation_form": delegation_form or DelegationForm(entities=[(e.pk, e.name) for e in represented]),
    }


@login_required
def profile(request: HttpRequest) -> HttpResponse:
    account: Account = request.user  # type: ignore[assignment]
    if account.is_officer:
        return redirect("workbench:home")
    return render(request, "portal/profile.html", _profile_context(request, account))


@login_required
@require_POST
def acting_for(request: HttpRequest) -> HttpResponse:
    account: Account = request.user  # type: ignore[assignment]
    raw = request.POST.get("entity", "")
    if not raw:
        request.session.pop(ACTING_FOR_SESSION_KEY, None)
        messages.success(request, _("You now act as yourself."))
        return redirect("portal:profile")
    if not raw.isdigit() or not identity.can_act_for(account, int(raw)):
        messages.error(request, _("You may not act for that business."))
        return redirect("portal:profile")
    request.session[ACTING_FOR_SESSION_KEY] = int(raw)
    entity = LegalEntity.objects.get(pk=int(raw))
    messages.success(request, _("You now act for %(name)s.") % {"name": entity.name})
    return redirect("portal:profile")


@login_required
@require_POST
def delegate(request: HttpRequest) -> HttpResponse:
    account: Account = request.user  # type: ignore[assignment]
    represented = _represented(account)
    form = DelegationForm(request.POST, entities=[(e.pk, e.name) for e in represented])
    if form.is_valid():
        entity = next(e for e in represented if e.pk == form.cleaned_data["entity"])
        delegate_account = Account.objects.filter(
            username__iexact=form.cleaned_data["delegate_username"], kind=Account.Kind.CITIZEN
        ).first()
        valid_until = timezone.make_aware(datetime.combine(form.cleaned_data["valid_until"], time(23, 59)))
        if delegate_account is None:
            form.add_error("delegate_username", _("No real-name verified citizen has this username."))
        else:
            try:
                identity.delegate_entity(entity, actor=account, delegate=delegate_account, valid_until=valid_until)
            except Problem as problem:
                apply_problem(form, problem)
            else:
                messages.success(request, _("The delegation is granted."))
                return redirect("portal:profile")
    return render(request, "portal/profile.html", _profile_context(request, account, form), status=400)


@login_required
@require_POST
def revoke_delegation(request: HttpRequest, pk: int) -> HttpResponse:
    account: Account = request.user  # type: ignore[assignment]
    delegation = get_object_or_404(Delegation.objects.filter(granted_by=account), pk=pk)
    try:
        identity.revoke_delegation(delegation, actor=account)
    except Problem as problem:
        messages.error(request, problem.detail)
    else:
        messages.success(request, _("The delegation is revoked."))
    return redirect("portal:profile")


DATA_USE_PAGE_SIZE = 25


@login_required
def data_use(request: HttpRequest) -> HttpResponse:
    """Show every gateway call that read the person's record (or, acting for an entity, the entity's)."""
    account: Account = request.user  # type: ignore[assignment]
    entity = getattr(request, "acting_for", None)
    if entity is not None:
        calls = exchange.calls_about_entity(entity.pk)
    elif account.person_id is not None:
        calls = exchange.calls_about_person(account.person_id)
    else:
        calls = exchange.calls_about_person(-1)
    page = Paginator(calls, DATA_USE_PAGE_SIZE).get_page(request.GET.get("page"))
    codes = [call.resource_code for call in page]
    # Gateway calls name catalog resources; licence reuse by cases names licence types.
    resource_names = {**catalog.resource_names(codes), **credentials.licence_type_names(codes)}
    return render(request, "portal/data_use.html", {
        "page": page, "entity": entity, "resource_names": resource_names,
        "verified": account.person_id is not None,
    })


# -- the wallet (卡包) -------------------------------------------------------------------------------


def _wallet_holder(request: HttpRequest) -> dict[str, int | None]:
    """Return whose licences the page shows: the entity acted for, else the signed-in person."""
    account: Account = request.user  # type: ignore[assignment]
    entity = getattr(request, "acting_for", None)
    if entity is not None:
        return {"entity_id": entity.pk}
    return {"person_id": account.person_id}


@login_required
def wallet(request: HttpRequest) -> HttpResponse:
    """List the licences the person (or the entity acted for) holds."""
    licences = credentials.licences_held_by(**_wallet_holder(request))
    return render(request, "portal/wallet.html", {"licences": licences,
                                                  "entity": getattr(request, "acting_for", None)})


def _held_licence(request: HttpRequest, licence_id: uuid.UUID) -> Any:
    return get_object_or_404(credentials.licences_held_by(**_wallet_holder(request)), pk=licence_id)


def _share_url(request: HttpRequest, token: str) -> str:
    return request.build_absolute_uri(reverse("portal:shared_licence", args=[token]))


@login_required
def licence_detail(request: HttpRequest, licence_id: uuid.UUID) -> HttpResponse:
    """Show one held licence in full, with the form to share it and its shares."""
    licence = _held_licence(request, licence_id)
    properties = licence.licence_type.schema.get("properties", {})
    values = json.loads(licence.fields)
    english = (request.LANGUAGE_CODE or "").startswith("en")
    fields = [((properties[name].get("x-title-en") if english else properties[name].get("title")) or name,
               values[name]) for name in licence.licence_type.field_order() if name in values]
    disclosable = [(name, (properties[name].get("x-title-en") if english else properties[name].get("title")) or name)
                   for name in licence.licence_type.disclosable]
    now = timezone.now()
    shares = [(share, share.is_open(now), _share_url(request, share.token)) for share in licence.shares.all()]
    printable = licence.status != licence.Status.REVOKED and (licence.valid_until is None or licence.valid_until > now)
    return render(request, "portal/licence.html", {
        "licence": licence, "fields": fields, "disclosable": disclosable, "shares": shares, "printable": printable,
        "durations": [("10m", _("10 minutes")), ("1h", _("1 hour")), ("1d", _("1 day")), ("7d", _("7 days"))],
    })


@login_required
def licence_pdf(request: HttpRequest, licence_id: uuid.UUID) -> HttpResponse:
    """Download the held licence as a PDF signed with the issuer's e-seal, its QR code opening its verification page."""
    licence = _held_licence(request, licence_id)
    try:
        document = credentials.licence_pdf(licence, actor=request.user)
    except Problem as problem:
        messages.error(request, problem.detail)
        return redirect("portal:licence", licence_id=licence.pk)
    response = HttpResponse(document, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{licence.licence_type.code}-{licence.pk}.pdf"'
    # Personal data: neither shared caches nor the browser's cache keep it.
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_POST
def share_licence(request: HttpRequest, licence_id: uuid.UUID) -> HttpResponse:
    licence = _held_licence(request, licence_id)
    try:
        credentials.share_licence(licence, actor=request.user, fields=request.POST.getlist("fields"),
                                  duration=request.POST.get("duration", ""))
    except Problem as problem:
        messages.error(request, problem.detail)
    else:
        messages.success(request, _("The link is ready: give it to whoever needs to see the licence."))
    return redirect("portal:licence", licence_id=licence.pk)


@login_required
@require_POST
def withdraw_share(request: HttpRequest, licence_id: uuid.UUID, share_id: int) -> HttpResponse:
    licence = _held_licence(request, licence_id)
    share = get_object_or_404(licence.shares.all(), pk=share_id)
    try:
        credentials.withdraw_share(share, actor=request.user)
    except Problem as problem:
        messages.error(request, problem.detail)
    else:
        messages.success(request, _("The link no longer shows the licence."))
    return redirect("portal:licence", licence_id=licence.pk)


def shared_licence(request: HttpRequest, token: str) -> HttpResponse:
    """The page a share link (or its QR code) opens: the verdict and only the fields the holder chose."""
    actor = request.user if request.user.is_authenticated else None
    shown = credentials.open_share(token, actor=actor)
    if shown is None:
        raise Http404
    status = 410 if shown.outcome == "share_ended" else 200
    response = render(request, "portal/shared_licence.html", {"shown": shown}, status=status)
    # Personal data: neither shared caches nor the browser's history cache keep it.
    response["Cache-Control"] = "no-store"
    response["Referrer-Policy"] = "no-referrer"
    return response


# -- the service catalog (public) ------------------------------------------------------------------

CATALOG_PAGE_SIZE = 20
CATALOG_FILTERS = ("q", "topic", "life_event", "department", "region")


def services(request: HttpRequest) -> HttpResponse:
    """Find a service: search by keyword, filter by topic, life event, department, region."""
    chosen = {name: request.GET.get(name, "").strip()[:100] for name in CATALOG_FILTERS}
    items = service_catalog.published_items(
        query=chosen["q"], topic=chosen["topic"], life_event=chosen["life_event"],
        department=chosen["department"], region=chosen["region"],
    )
    page = Paginator(items, CATALOG_PAGE_SIZE).get_page(request.GET.get("page"))
    query_string = urlencode({name: value for name, value in chosen.items() if value})
    return render(request, "portal/services.html", {
        "chosen": chosen, "page": page, "query_string": query_string,
        "searched": any(chosen.values()),
        "topics": service_catalog.topics(),
        "life_events": list(service_catalog.published_life_events()),
        "departments": list(service_catalog.catalog_departments()),
        "regions": list(service_catalog.catalog_regions()),
    })


def service_guide(request: HttpRequest, code: str) -> HttpResponse:
    """The service guide (办事指南): every standard element of a published item, and where to apply."""
    try:
        item = service_catalog.published_item(code)
    except Problem:
        raise Http404 from None
    schema = item.form_schema or {}
    properties = schema.get("properties", {})
    order = (item.form_ui or {}).get("order") or list(properties)
    prefill = (item.form_ui or {}).get("prefill", {})
    form_fields = [{"name": name, "spec": properties[name], "required": name in schema.get("required", []),
                    "prefill": prefill.get(name)} for name in order if name in properties]
    return render(request, "portal/service_guide.html", {
        "item": item,
        "materials": list(item.materials.all()),
        "form_fields": form_fields,
        "apply_url": reverse("portal:service_guide", args=[item.code]) + "apply/",
    })


def life_event(request: HttpRequest, code: str) -> HttpResponse:
    """A life event (一件事): the services it bundles, in order."""
    try:
        event, items = service_catalog.published_life_event(code)
    except Problem:
        raise Http404 from None
    return render(request, "portal/life_event.html", {"event": event, "items": items})
