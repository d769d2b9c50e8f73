"""Real property: parcels and ownership shares, owned by natural resources."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from fractions import Fraction

import pytest

from tongban.kernel.models import AuditRecord
from tongban.kernel.problems import InvalidInput, PermissionDenied
from tongban.registries import services
from tongban.registries.models import OwnershipShare, Parcel, RecordChange

from .builders import make_citizen, make_entity, make_parcel, make_person, parcel_code

pytestmark = pytest.mark.django_db


def _counts() -> tuple[int, int, int, int]:
    return (Parcel.objects.count(), OwnershipShare.objects.count(), RecordChange.objects.count(),
            AuditRecord.objects.count())


@pytest.fixture
def owners(vital_registries):
    alice = make_person(name="王芳", sex="female")
    bob = make_person(name="李强")
    company = make_entity(bob)
    return alice, bob, company


def _shares(parcel, on=None):
    return sorted((share.holder_key, Fraction(share.numerator, share.denominator))
                  for share in services.parcel_shares(parcel, on=on))


def test_land_officer_registers_a_parcel_held_in_shares(land_officer, owners):
    # given
    alice, bob, company = owners
    code = parcel_code()
    # when
    parcel = services.register_parcel(
        actor=land_officer, location_code=code.lower(), region="330106", area="88.5", use="residential",
        owners=[{"holder": alice, "share": "1/2"}, {"holder": bob, "share": "0.25"},
                {"holder": company, "share": Fraction(1, 4)}],
        acquired_on=date(2019, 4, 1), reason="First registration",
    )
    # then
    parcel.refresh_from_db()
    assert (parcel.location_code, parcel.area, parcel.use) == (code, Decimal("88.50"), "residential")
    assert _shares(parcel) == sorted([(f"person:{alice.pk}", Fraction(1, 2)), (f"person:{bob.pk}", Fraction(1, 4)),
                                      (f"entity:{company.pk}", Fraction(1, 4))])
    change = RecordChange.objects.get(parcel=parcel)
    assert change.kind == "created"
    assert {owner["holder"] for owner in change.after["owners"]} == {
        f"person:{alice.pk}", f"person:{bob.pk}", f"entity:{company.pk}"}
    assert "王芳" not in str(change.after)
    entry = AuditRecord.objects.order_by("seq").last()
    assert (entry.action, entry.target, entry.details["owners"]) == (
        "registries.parcel.registered", f"parcel:{parcel.pk}", 3)


def test_transfer_ends_the_current_shares_and_keeps_past_ownership(land_officer, owners):
    # given
    alice, bob, company = owners
    parcel = make_parcel([(alice, "1/2"), (bob, "1/2")], acquired_on=date(2015, 6, 1))
    # when
    services.transfer_parcel(parcel, actor=land_officer, owners=[{"holder": company, "share": 1}],
                             on=date(2023, 9, 1), reason="Sale contract registered")
    # then
    assert _shares(parcel) == [(f"entity:{company.pk}", 1)]
    assert _shares(parcel, on=date(2023, 8, 31)) == sorted([(f"person:{alice.pk}", Fraction(1, 2)),
                                                            (f"person:{bob.pk}", Fraction(1, 2))])
    assert _shares(parcel, on=date(2023, 9, 1)) == [(f"entity:{company.pk}", 1)]
    assert _shares(parcel, on=date(2010, 1, 1)) == []
    change = RecordChange.objects.filter(parcel=parcel).order_by("pk").last()
    assert (change.kind, change.reason) == ("updated", "Sale contract registered")
    assert change.after["owners"] == [{"holder": f"entity:{company.pk}", "share": "1/1"}]


def test_transfer_to_the_same_owners_writes_nothing(land_officer, owners):
    alice, _bob, _company = owners
    parcel = make_parcel([(alice, 1)])
    before = _counts()
    services.transfer_parcel(parcel, actor=land_officer, owners=[{"holder": alice, "share": "1"}],
                             on=date(2024, 1, 1), reason="Nothing changes")
    assert _counts() == before


@pytest.mark.parametrize(
    "shares",
    [["1/2", "1/3"], ["1/2", "2/3"], ["0.5", "0.4"]],
)
def test_shares_that_do_not_add_up_to_one_are_refused(land_officer, owners, shares):
    alice, bob, _company = owners
    parcel = make_parcel([(alice, 1)])
    before = _counts()
    with pytest.raises(InvalidInput) as caught:
        services.transfer_parcel(parcel, actor=land_officer,
                                 owners=[{"holder": alice, "share": shares[0]}, {"holder": bob, "share": shares[1]}],
                                 on=date(2024, 1, 1), reason="Partial sale")
    assert caught.value.extensions["field"] == "owners"
    assert _counts() == before
    assert _shares(parcel) == [(f"person:{alice.pk}", 1)]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"location_code": "ABC"}, "location_code"),
        ({"location_code": "330102001002GB00001"}, "location_code"),  # another region's code
        ({"region": "000000"}, "region"),
        ({"area": "-5"}, "area"),
        ({"area": "12.345"}, "area"),
        ({"area": "lots"}, "area"),
        ({"use": "military"}, "use"),
        ({"owners": []}, "owners"),
        ({"owners": [{"holder": "someone", "share": 1}]}, "owners"),
        ({"owners": [{"holder": None, "share": "1/0"}]}, "owners"),
        ({"acquired_on": "yesterday"}, "acquired_on"),
        ({"reason": ""}, "reason"),
    ],
)
def test_bad_parcel_input_is_refused_and_changes_nothing(land_officer, owners, changes, field):
    alice, _bob, _company = owners
    arguments = {"actor": land_officer, "location_code": parcel_code(), "region": "330106", "area": "100",
                 "use": "commercial", "owners": [{"holder": alice, "share": 1}],
                 "acquired_on": date(2020, 1, 1), "reason": "First registration"}
    arguments.update(changes)
    before = _counts()
    with pytest.raises(InvalidInput) as caught:
        services.register_parcel(**arguments)
    assert caught.value.extensions["field"] == field
    assert _counts() == before


def test_a_parcel_code_is_registered_once(land_officer, owners):
    alice, _bob, _company = owners
    parcel = make_parcel([(alice, 1)])
    with pytest.raises(InvalidInput) as caught:
        services.register_parcel(actor=land_officer, location_code=parcel.location_code, region="330106",
                                 area="10", use="residential", owners=[{"holder": alice, "share": 1}],
                                 acquired_on=date(2020, 1, 1), reason="Again")
    assert caught.value.extensions["field"] == "location_code"


def test_a_same_holder_twice_or_a_deceased_holder_is_refused(land_officer, health_officer, owners):
    alice, bob, _company = owners
    parcel = make_parcel([(alice, 1)])
    services.register_vital_event(actor=health_officer, kind="death", occurred_on=date(2024, 1, 1),
                                  place="330106", subject=bob, certificate_number="D1", reason="Certificate")
    bob.refresh_from_db()
    for owners_given in ([{"holder": alice, "share": "1/2"}, {"holder": alice, "share": "1/2"}],
                         [{"holder": bob, "share": 1}]):
        with pytest.raises(InvalidInput):
            services.transfer_parcel(parcel, actor=land_officer, owners=owners_given, on=date(2024, 2, 1),
                                     reason="Transfer")


def test_transfer_cannot_precede_the_current_acquisition(land_officer, owners):
    alice, bob, _company = owners
    parcel = make_parcel([(alice, 1)], acquired_on=date(2020, 1, 1))
    with pytest.raises(InvalidInput) as caught:
        services.transfer_parcel(parcel, actor=land_officer, owners=[{"holder": bob, "share": 1}],
                                 on=date(2019, 1, 1), reason="Backdated")
    assert caught.value.extensions["field"] == "on"


def test_only_natural_resources_registers_and_transfers_parcels(police, owners, outsider):
    alice, bob, _company = owners
    parcel = make_parcel([(alice, 1)])
    before = _counts()
    for actor in (police, outsider):
        with pytest.raises(PermissionDenied):
            make_parcel([(alice, 1)], actor=actor)
        with pytest.raises(PermissionDenied):
            services.transfer_parcel(parcel, actor=actor, owners=[{"holder": bob, "share": 1}],
                                     on=date(2024, 1, 1), reason="Transfer")
    assert _counts() == before


def test_parcels_are_seen_by_the_owner_department_and_by_their_holders_only(land_officer, owners, outsider):
    alice, bob, _company = owners
    first = make_parcel([(alice, 1)])
    second = make_parcel([(bob, 1)])
    assert list(services.parcels_visible_to(land_officer)) == [first, second]
    assert list(services.parcels_visible_to(make_citizen(alice, "alice"))) == [first]
    assert list(services.parcels_visible_to(outsider)) == []
