"""The public calendar API, the calendar in the admin site and the ``tongban calendar`` command."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from tongban import cli
from tongban.kernel import services
from tongban.kernel.actors import SystemActor
from tongban.kernel.checks import check_calendar_loaded
from tongban.kernel.models import AuditRecord, CalendarDay, CalendarYear

pytestmark = pytest.mark.django_db

API = "/api/v1/kernel/calendar"
ADMIN = "/admin/kernel/calendarday/"


def admin_client(account) -> Client:
    """A client signed in as an officer who passed the second factor (the admin site asks for it)."""
    client = Client()
    client.force_login(account)
    session = client.session
    session["second_factor"] = True
    session.save()
    return client


# --- the API -----------------------------------------------------------------------------------


def test_anyone_reads_a_years_holidays_and_adjusted_working_days_with_the_notice(cn_calendar):
    # when an anonymous caller asks for 2026
    response = Client().get(f"{API}/2026")
    # then
    assert response.status_code == 200
    body = response.json()
    assert body["loaded"] is True
    assert body["notice"] == {"notice": "国务院办公厅关于2026年部分节假日安排的通知",
                              "document_number": "国办发明电〔2025〕7号", "published_on": "2025-11-04"}
    working_days = [day["date"] for day in body["days"] if day["kind"] == "working_day"]
    assert working_days == ["2026-01-04", "2026-02-14", "2026-02-28", "2026-05-09", "2026-09-20", "2026-10-10"]
    spring = [day for day in body["days"] if day["name"] == "春节" and day["kind"] == "holiday"]
    assert [day["date"] for day in spring][0::8] == ["2026-02-15", "2026-02-23"]
    assert spring[0]["name_en"] == "Spring Festival" and spring[0]["region_code"] is None


def test_a_year_without_a_notice_says_it_is_not_loaded(cn_calendar):
    body = Client().get(f"{API}/2027").json()
    assert body == {"year": 2027, "loaded": False, "notice": None, "days": []}


def test_a_regions_calendar_shows_its_own_days_over_the_national_ones(cn_calendar, org):
    # given Hangzhou works on 2025-10-08, a national holiday
    services.add_calendar_day(actor=SystemActor("tests"), date=date(2025, 10, 8), kind="working_day",
                              name="杭州市调休上班", region=org.cities[0])
    # when / then
    in_xihu = {day["date"]: day for day in Client().get(f"{API}/2025", {"region": "330106"}).json()["days"]}
    national = {day["date"]: day for day in Client().get(f"{API}/2025").json()["days"]}
    in_ningbo = {day["date"]: day for day in Client().get(f"{API}/2025", {"region": "330200"}).json()["days"]}
    assert in_xihu["2025-10-08"]["kind"] == "working_day" and in_xihu["2025-10-08"]["region_code"] == "330100"
    assert national["2025-10-08"]["kind"] == in_ningbo["2025-10-08"]["kind"] == "holiday"


def test_an_unknown_region_or_an_absurd_year_is_refused_as_a_problem(cn_calendar):
    unknown = Client().get(f"{API}/2025", {"region": "999999"})
    assert unknown.status_code == 404 and unknown["Content-Type"] == "application/problem+json"
    assert Client().get(f"{API}/12").status_code == 422


# --- the admin site -------------------------------------------------------------------------------


def test_a_platform_admin_lists_days_by_year_and_kind_and_adds_one_through_the_service(cn_calendar, platform_admin):
    client = admin_client(platform_admin)
    # when listing 2025's adjusted working days
    listing = client.get(ADMIN, {"year": "2025", "kind__exact": "working_day"})
    # then
    assert listing.status_code == 200
    assert listing.context["cl"].result_count == CalendarDay.objects.filter(
        date__year=2025, kind="working_day").count() == 5
    # when adding a day
    added = client.post(f"{ADMIN}add/", {"date": "2026-12-31", "kind": "holiday", "name": "特别假日",
                                         "name_en": "Special day off", "region": "", "source": "test notice"})
    # then it was written and audited by the service, as the admin
    assert added.status_code == 302, added.content
    day = CalendarDay.objects.get(date=date(2026, 12, 31))
    assert AuditRecord.objects.filter(action="kernel.calendar_day.added", actor=platform_admin.audit_name,
                                      target=f"calendar_day:{day.pk}").exists()
    # when deleting it
    deleted = client.post(f"{ADMIN}{day.pk}/delete/", {"post": "yes"})
    assert deleted.status_code == 302
    assert not CalendarDay.objects.filter(pk=day.pk).exists()
    assert AuditRecord.objects.filter(action="kernel.calendar_day.removed", actor=platform_admin.audit_name).exists()


def test_the_admin_never_edits_a_day_in_place(cn_calendar, platform_admin):
    day = CalendarDay.objects.filter(region=None).first()
    page = admin_client(platform_admin).post(f"{ADMIN}{day.pk}/change/", {
        "date": "2025-03-03", "kind": day.kind, "name": "changed", "name_en": "", "region": "", "source": ""})
    day.refresh_from_db()
    assert page.status_code in (200, 403) and day.name != "changed"


def test_an_officer_who_is_not_a_platform_admin_cannot_open_or_use_the_calendar_admin(cn_calendar, window_officer):
    client = admin_client(window_officer)
    count = CalendarDay.objects.count()
    assert client.get(ADMIN).status_code == 302  # not staff: sent to sign in
    client.post(f"{ADMIN}add/", {"date": "2026-12-31", "kind": "holiday", "name": "x", "region": "", "source": ""})
    assert CalendarDay.objects.count() == count


# --- the command and the system check ---------------------------------------------------------------


def test_the_load_command_loads_the_shipped_file_once(db, capsys):
    call_command("calendar", "load")
    assert set(CalendarYear.objects.values_list("year", flat=True)) == {2024, 2025, 2026}
    cli.main(["calendar", "load"])  # the console script (it closes the connection when done)
    out = capsys.readouterr().out
    assert "2024, 2025, 2026: 108 days added" in out and "already loaded, nothing changed" in out


def test_the_check_command_fails_while_this_year_is_missing(db):
    this_year = date.today().year
    with pytest.raises(CommandError, match=str(this_year)):
        call_command("calendar", "check")
    assert [message.id for message in check_calendar_loaded(databases=["default"])][:1] == ["kernel.W001"]
    assert check_calendar_loaded(databases=None) == []
