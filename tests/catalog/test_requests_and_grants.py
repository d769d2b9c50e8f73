"""Requests and grants (供需对接): who may ask, who may decide, and what a grant covers."""

from __future__ import annotations

import pytest
from django.utils import timezone

from tests.catalog.fixtures import LEGAL_BASIS, PURPOSE, SYSTEM, in_days, request_persons
from tongban.catalog import selectors, services
from tongban.catalog.models import AccessRequest, CatalogResource
from tongban.demo.catalog import seed_catalog
from tongban.kernel.models import AuditRecord
from tongban.kernel.problems import Conflict, InvalidInput, PermissionDenied


def test_a_data_officer_requests_fields_and_the_owner_approves_with_masking(tax_data, police_data, tax_client):
    # given a pending request from the tax department
    request = request_persons(tax_data, tax_client.system)
    assert request.status == AccessRequest.Status.PENDING
    assert request.requesting_department_id == tax_client.system.department_id

    # when the owner's data officer approves it, masking names
    grant = services.approve_request(request, actor=police_data, masking={"name": "name"})

    # then a grant covers exactly the requested fields for the system, and both steps are audited
    assert grant.fields == ["id_number", "name", "birth_date"]
    assert grant.system_id == tax_client.system.pk and grant.masking == {"name": "name"}
    request.refresh_from_db()
    assert request.status == AccessRequest.Status.APPROVED
    actions = list(AuditRecord.objects.filter(action__startswith="catalog.access").values_list("action", flat=True))
    assert actions == ["catalog.access.requested", "catalog.access.approved"]
    found = services.find_grant(system_id=tax_client.system.pk, resource_code="hz-persons",
                                fields=["name"], purpose=PURPOSE.upper(), at=timezone.now())
    assert found == grant


def test_an_unconditionally_shared_resource_is_granted_at_once(tax_data, tax_client, entities_resource):
    request = services.request_access(
        actor=tax_data, resource=entities_resource, fields=["uscc", "name"], purpose=PURPOSE,
        legal_basis=LEGAL_BASIS, valid_until=in_days(10), system=tax_client.system,
    )

    assert request.status == AccessRequest.Status.APPROVED
    assert request.grant.fields == ["uscc", "name"]
    assert AuditRecord.objects.filter(action="catalog.access.granted_at_once").count() == 1


def test_a_resource_that_is_not_shared_cannot_be_requested(org, tax_data, tax_client):
    secret = services.publish_resource(
        actor=SYSTEM, code="hz-police-cases", name="案件信息", owner=org.department("330100", "public_security"),
        classification="core", sharing_type="not_shared", open_type="not_open", update_cycle="daily",
        fields=[{"name": "case_no"}],
    )

    with pytest.raises(PermissionDenied):
        services.request_access(actor=tax_data, resource=secret, fields=["case_no"], purpose=PURPOSE,
                                legal_basis=LEGAL_BASIS, valid_until=in_days(1), system=tax_client.system)
    assert not AccessRequest.objects.exists()


def test_only_a_data_officer_of_the_systems_department_may_request(tax_window, ningbo_data, citizen, tax_client):
    for outsider in (tax_window, ningbo_data, citizen):
        with pytest.raises(PermissionDenied):
            request_persons(outsider, tax_client.system)
    assert not AccessRequest.objects.exists()


def test_a_request_names_known_fields_a_purpose_and_a_future_end(tax_data, tax_client, persons_resource):
    with pytest.raises(InvalidInput):
        request_persons(tax_data, tax_client.system, fields=["id_number", "salary"])
    with pytest.raises(InvalidInput):
        request_persons(tax_data, tax_client.system, purpose="  ")
    with pytest.raises(InvalidInput):
        request_persons(tax_data, tax_client.system, days=-1)


def test_another_department_cannot_approve_or_refuse(tax_data, market_data, ningbo_data, tax_client):
    request = request_persons(tax_data, tax_client.system)

    for outsider in (tax_data, market_data, ningbo_data):
        with pytest.raises(PermissionDenied):
            services.approve_request(request, actor=outsider)
        with pytest.raises(PermissionDenied):
            services.refuse_request(request, actor=outsider, reason="no")
    request.refresh_from_db()
    assert request.status == AccessRequest.Status.PENDING


def test_the_owner_refuses_with_a_reason_and_cannot_decide_twice(tax_data, police_data, tax_client):
    request = request_persons(tax_data, tax_client.system)

    refused = services.refuse_request(request, actor=police_data, reason="Use the tax registry instead")

    assert refused.status == AccessRequest.Status.REFUSED and refused.reason
    with pytest.raises(Conflict):
        services.approve_request(request, actor=police_data)


def test_an_approval_may_shorten_but_not_lengthen_the_period(tax_data, police_data, tax_client):
    request = request_persons(tax_data, tax_client.system, days=10)

    with pytest.raises(InvalidInput):
        services.approve_request(request, actor=police_data, valid_until=in_days(20))
    with pytest.raises(InvalidInput):
        services.approve_request(request, actor=police_data, masking={"sex": "name"})
    grant = services.approve_request(request, actor=police_data, valid_until=in_days(5))

    assert grant.valid_until < request.valid_until


def test_a_revoked_grant_is_found_no_more(tax_grant, police_data, ningbo_data, tax_client):
    with pytest.raises(PermissionDenied):
        services.revoke_grant(tax_grant, actor=ningbo_data, reason="not mine")

    services.revoke_grant(tax_grant, actor=police_data, reason="Purpose fulfilled")

    args = {"system_id": tax_client.system.pk, "resource_code": "hz-persons", "fields": ["name"],
            "purpose": PURPOSE, "at": timezone.now()}
    assert services.find_grant(**args) is None
    assert services.grant_refusal_reason(**args) == "revoked"
    with pytest.raises(Conflict):
        services.revoke_grant(tax_grant, actor=police_data, reason="again")


def test_a_grant_covers_only_its_fields_purpose_and_period(tax_grant, tax_client):
    base = {"system_id": tax_client.system.pk, "resource_code": "hz-persons", "purpose": PURPOSE}
    now = timezone.now()

    assert services.find_grant(**base, fields=["id_number", "name"], at=now) == tax_grant
    assert services.grant_refusal_reason(**base, fields=["sex"], at=now) == "fields_not_granted"
    assert services.find_grant(**{**base, "purpose": "Marketing"}, fields=["name"], at=now) is None
    assert services.grant_refusal_reason(**base, fields=["name"], at=in_days(31)) == "expired"


def test_requests_and_grants_are_visible_to_both_sides_only(
    tax_grant, tax_data, police_data, ningbo_data, citizen, platform_admin, market_data
):
    for side in (tax_data, police_data, platform_admin):
        assert list(selectors.grants_visible_to(side)) == [tax_grant]
        assert selectors.requests_visible_to(side).count() == 1
    for outsider in (ningbo_data, citizen, market_data):
        assert not selectors.grants_visible_to(outsider).exists()
        assert not selectors.requests_visible_to(outsider).exists()


def test_every_officer_browses_the_catalog_but_a_citizen_does_not(ningbo_data, citizen, resources):
    assert [r.code for r in selectors.resources_visible_to(ningbo_data, query="人口")] == ["hz-persons"]
    assert selectors.resources_visible_to(ningbo_data, query="legal_representative").count() == 1
    assert not selectors.resources_visible_to(citizen).exists()


def test_seeding_the_catalog_twice_changes_nothing(org, resources):
    before = AuditRecord.objects.count()

    seed_catalog(org)

    assert AuditRecord.objects.count() == before
    persons = CatalogResource.objects.get(code="hz-persons")
    id_field = persons.fields.get(name="id_number")
    assert id_field.sensitive_personal and persons.registry is not None
    assert persons.sharing_type == "conditional"


def test_only_the_owner_publishes_its_resources(org, ningbo_data, police_data):
    with pytest.raises(PermissionDenied):
        services.publish_resource(
            actor=ningbo_data, code="x", name="x", owner=org.department("330100", "public_security"),
            classification="general", sharing_type="conditional", open_type="open", update_cycle="daily",
            fields=[{"name": "a"}],
        )


def test_resource_names_follow_the_language(resources):
    from django.utils import translation

    with translation.override("zh-hans"):
        assert selectors.resource_names(["hz-persons", "nope"]) == {"hz-persons": "杭州市人口基础信息"}
    assert selectors.resource_names(["hz-persons"]) == {"hz-persons": "Hangzhou population data"}
