"""Workbench pages for the catalog, requests, grants and call statistics."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from tests.catalog.fixtures import PURPOSE
from tongban.catalog.models import AccessRequest, Grant
from tongban.exchange import services as exchange

pytestmark = pytest.mark.django_db


def officer_client(account) -> Client:
    """A client signed in as an officer who passed the second factor."""
    client = Client()
    client.force_login(account)
    session = client.session
    session["second_factor"] = True
    session.save()
    return client


def test_a_data_officer_finds_a_resource_and_requests_it(tax_data, tax_client, persons_resource):
    client = officer_client(tax_data)
    listing = client.get(reverse("workbench:catalog"), {"q": "persons"})
    assert persons_resource.code in listing.content.decode()

    response = client.post(reverse("workbench:catalog_detail", args=[persons_resource.code]), {
        "fields_wanted": ["name", "birth_date"], "purpose": PURPOSE, "legal_basis": "税收征收管理法",
        "valid_until": "2027-06-30", "system": tax_client.system.pk,
    })

    assert response.status_code == 302
    request = AccessRequest.objects.get()
    assert request.fields == ["name", "birth_date"] and request.status == AccessRequest.Status.PENDING


def test_the_owner_approves_with_masking_and_the_call_shows_in_the_statistics(
        tax_data, police_data, tax_client, persons_resource, person):
    officer_client(tax_data).post(reverse("workbench:catalog_detail", args=[persons_resource.code]), {
        "fields_wanted": ["name", "birth_date"], "purpose": PURPOSE, "legal_basis": "law",
        "valid_until": "2027-06-30", "system": tax_client.system.pk,
    })
    request = AccessRequest.objects.get()
    owner = officer_client(police_data)

    owner.post(reverse("workbench:approve_request", args=[request.pk]), {"mask_name": "name"})

    grant = Grant.objects.get()
    assert grant.masking == {"name": "name"}
    from tongban.identity.api_auth import SystemPrincipal

    principal = SystemPrincipal(system=tax_client.system, department=tax_client.system.department,
                                client_id=tax_client.client_id, scopes=frozenset({"api"}))
    exchange.call_resource(actor=principal, resource_code=persons_resource.code, key=person.id_number,
                           fields="name", purpose=PURPOSE, case_id="C-1")
    page = owner.get(reverse("workbench:grants")).content.decode()
    assert f"#{grant.pk}" in page


def test_the_requester_cannot_approve_their_own_request(tax_data, tax_client, persons_resource):
    client = officer_client(tax_data)
    client.post(reverse("workbench:catalog_detail", args=[persons_resource.code]), {
        "fields_wanted": ["name"], "purpose": PURPOSE, "legal_basis": "law",
        "valid_until": "2027-06-30", "system": tax_client.system.pk,
    })
    request = AccessRequest.objects.get()

    client.post(reverse("workbench:approve_request", args=[request.pk]))

    request.refresh_from_db()
    assert request.status == AccessRequest.Status.PENDING
    assert not Grant.objects.exists()


def test_an_officer_of_another_city_sees_no_requests(tax_data, ningbo_data, tax_client, persons_resource):
    officer_client(tax_data).post(reverse("workbench:catalog_detail", args=[persons_resource.code]), {
        "fields_wanted": ["name"], "purpose": PURPOSE, "legal_basis": "law",
        "valid_until": "2027-06-30", "system": tax_client.system.pk,
    })
    page = officer_client(ningbo_data).get(reverse("workbench:requests")).content.decode()
    assert PURPOSE not in page


def test_a_citizen_cannot_open_the_catalog(citizen):
    client = Client()
    client.force_login(citizen)
    response = client.get(reverse("workbench:catalog"))
    assert response.status_code == 302


def test_the_owner_revokes_a_grant_and_the_next_call_is_refused(tax_grant, police_data, tax_client, person):
    officer_client(police_data).post(reverse("workbench:revoke_grant", args=[tax_grant.pk]),
                                     {"reason": "purpose fulfilled"})
    tax_grant.refresh_from_db()
    assert tax_grant.revoked_at is not None
    from tongban.identity.api_auth import SystemPrincipal
    from tongban.kernel.problems import PermissionDenied

    principal = SystemPrincipal(system=tax_client.system, department=tax_client.system.department,
                                client_id=tax_client.client_id, scopes=frozenset({"api"}))
    with pytest.raises(PermissionDenied):
        exchange.call_resource(actor=principal, resource_code="hz-persons", key=person.id_number,
                               fields="name", purpose=PURPOSE, case_id="C-2")
