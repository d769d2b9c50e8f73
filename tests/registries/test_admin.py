"""The admin shows registry records read-only, with masked ID numbers."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.test import Client, RequestFactory

from tongban.identity.models import Account
from tongban.kernel.masking import mask_id_number
from tongban.registries.models import (
    LegalEntity,
    OwnershipShare,
    Parcel,
    Person,
    RecordChange,
    Registry,
    VitalEvent,
)

from .builders import make_parcel, make_person, make_vital_event

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("model", [Registry, Person, LegalEntity, RecordChange, VitalEvent, Parcel])
def test_admin_cannot_write_registry_records(model, db):
    request = RequestFactory().get("/")
    request.user = Account(is_superuser=True, is_staff=True, is_active=True)
    model_admin = admin.site._registry[model]
    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request)
    assert not model_admin.has_delete_permission(request)


def test_person_list_in_the_admin_shows_masked_numbers_only(person):
    staff = Account.objects.create_superuser("root", password="Correct-Horse-Battery-9")
    client = Client()
    client.force_login(staff)
    session = client.session
    session["second_factor"] = True  # the admin site asks for the second factor
    session.save()
    response = client.get("/admin/registries/person/")
    assert response.status_code == 200
    page = response.content.decode()
    assert mask_id_number(person.id_number) in page
    assert person.id_number not in page
    detail = client.get(f"/admin/registries/person/{person.pk}/change/").content.decode()
    assert person.id_number not in detail


def test_outsider_without_staff_rights_cannot_open_the_admin(person, outsider):
    client = Client()
    client.force_login(outsider)
    assert client.get("/admin/registries/person/").status_code == 302


def test_vital_events_and_parcels_in_the_admin_show_no_whole_number(vital_registries):
    # given
    subject, spouse = make_person(), make_person(name="王芳", sex="female")
    event = make_vital_event("marriage", subject, spouse=spouse)
    parcel = make_parcel([(subject, "1/2"), (spouse, "1/2")])
    staff = Account.objects.create_superuser("root", password="Correct-Horse-Battery-9")
    client = Client()
    client.force_login(staff)
    session = client.session
    session["second_factor"] = True
    session.save()
    # when
    pages = [client.get(f"/admin/registries/vitalevent/{event.pk}/change/"),
             client.get(f"/admin/registries/parcel/{parcel.pk}/change/"),
             client.get("/admin/registries/parcel/")]
    # then
    assert [page.status_code for page in pages] == [200, 200, 200]
    for page in pages:
        assert subject.id_number not in page.content.decode()
    assert mask_id_number(subject.id_number) in pages[0].content.decode()
    assert OwnershipShare.objects.filter(parcel=parcel).count() == 2
