"""Registering and amending legal entities."""

from __future__ import annotations

from datetime import date

import pytest

from tongban.kernel.models import AuditRecord
from tongban.kernel.problems import InvalidInput, PermissionDenied
from tongban.registries import services
from tongban.registries.models import LegalEntity, RecordChange

from .builders import SYSTEM, make_entity, make_person, valid_uscc

pytestmark = pytest.mark.django_db


def _counts() -> tuple[int, int, int]:
    return LegalEntity.objects.count(), RecordChange.objects.count(), AuditRecord.objects.count()


def _register(representative, actor=SYSTEM, **overrides):
    values = {
        "uscc": valid_uscc(), "name": "杭州瑞丰科技有限公司", "entity_type": "company",
        "legal_representative": representative, "registered_region": "330106",
        "established_on": date(2019, 1, 2), "reason": "Business licence issued",
    }
    values.update(overrides)
    return services.register_entity(actor=actor, **values)


def test_owner_officer_registers_an_entity_with_history_and_audit(person, market_officer):
    audit_before = AuditRecord.objects.count()
    entity = _register(person, market_officer)
    assert entity.legal_representative == person
    change = entity.history.get()
    assert change.after["legal_representative"] == person.pk
    assert change.after["uscc"] == entity.uscc
    assert (change.changed_by, change.reason) == (market_officer.audit_name, "Business licence issued")
    assert AuditRecord.objects.count() == audit_before + 1
    assert AuditRecord.objects.order_by("seq").last().target == f"entity:{entity.pk}"


def test_invalid_code_is_refused(person):
    code = valid_uscc()
    bad = code[:-1] + ("0" if code[-1] != "0" else "1")
    before = _counts()
    with pytest.raises(InvalidInput, match="unified social credit code is not valid"):
        _register(person, uscc=bad)
    assert _counts() == before


def test_a_code_cannot_be_registered_twice(person):
    entity = make_entity(person)
    before = _counts()
    with pytest.raises(InvalidInput, match="already registered"):
        _register(person, uscc=entity.uscc.lower())
    assert _counts() == before


def test_a_deceased_person_cannot_become_legal_representative(person):
    services.amend_person(person, actor=SYSTEM, changes={"status": "deceased"}, reason="Death registered")
    with pytest.raises(InvalidInput, match="living person"):
        _register(person)


def test_unknown_entity_type_and_future_establishment_are_refused(person):
    with pytest.raises(InvalidInput):
        _register(person, entity_type="cooperative")
    with pytest.raises(InvalidInput, match="future"):
        _register(person, established_on=date(2999, 1, 1))


def test_population_registry_officer_cannot_register_an_entity(person, police):
    before = _counts()
    with pytest.raises(PermissionDenied):
        _register(person, police)
    assert _counts() == before


def test_officer_of_another_city_cannot_amend_an_entity(person, org, registries):
    from tongban.kernel.models import Department

    from .builders import NINGBO, make_officer

    entity = make_entity(person)
    ningbo_market = make_officer(org, "nb-market", city=NINGBO, kind=Department.Kind.MARKET_REGULATION)
    before = _counts()
    with pytest.raises(PermissionDenied):
        services.amend_entity(entity, actor=ningbo_market, changes={"status": "suspended"}, reason="x")
    assert _counts() == before


def test_changing_the_legal_representative_is_kept_in_history(person, market_officer):
    # given
    entity = make_entity(person)
    successor = make_person(name="李强")
    # when (the successor given by ID number, as a window officer would type it)
    services.amend_entity(entity, actor=market_officer,
                          changes={"legal_representative": successor.id_number, "status": "active"},
                          reason="Shareholders' resolution")
    # then
    entity.refresh_from_db()
    assert entity.legal_representative == successor
    change = entity.history.order_by("pk").last()
    assert change.before == {"legal_representative": person.pk}
    assert change.after == {"legal_representative": successor.pk}
    assert list(services.entities_represented_by(successor)) == [entity]


def test_the_code_of_a_registered_entity_cannot_change(person, market_officer):
    entity = make_entity(person)
    with pytest.raises(InvalidInput, match="cannot change"):
        services.amend_entity(entity, actor=market_officer, changes={"uscc": valid_uscc()}, reason="x")


def test_deregistration_is_an_amendment_of_status(person, market_officer):
    entity = make_entity(person)
    services.amend_entity(entity, actor=market_officer, changes={"status": "deregistered"},
                          reason="Deregistered on request")
    assert LegalEntity.objects.get(pk=entity.pk).status == LegalEntity.Status.DEREGISTERED
    assert AuditRecord.objects.order_by("seq").last().action == "registries.entity.amended"
