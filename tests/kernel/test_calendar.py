"""The working-day calendar: China's holiday arrangements, deadlines in working days, pauses,
regional days and years whose notice is not loaded yet.

Dates below are the official arrangements (国务院办公厅 notices for 2024–2026) that
``cn_public_holidays.json`` carries and ``cn_calendar`` loads.
"""

from __future__ import annotations

import warnings
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from tongban.kernel import selectors, services
from tongban.kernel.actors import SystemActor
from tongban.kernel.calendar import CHINA
from tongban.kernel.models import AuditRecord, CalendarDay, CalendarYear
from tongban.kernel.problems import Conflict, InvalidInput, PermissionDenied

pytestmark = pytest.mark.django_db

SYSTEM = SystemActor("tests")
UTC = ZoneInfo("UTC")


def at(day: str, clock: str = "10:00") -> datetime:
    """Return a moment in China (Asia/Shanghai)."""
    return datetime.fromisoformat(f"{day}T{clock}").replace(tzinfo=CHINA)


def end_of(day: str) -> datetime:
    return datetime.fromisoformat(f"{day}T23:59:59.999999").replace(tzinfo=CHINA)


def d(day: str) -> date:
    return date.fromisoformat(day)


def working(first: str, last: str, **kwargs) -> list[str]:
    """Return the working days from ``first`` to ``last`` (inclusive), as ISO dates."""
    start, end = d(first), d(last)
    days = [start + timedelta(days=offset) for offset in range((end - start).days + 1)]
    return [day.isoformat() for day in days if selectors.is_working_day(day, **kwargs)]


# --- the national arrangements ----------------------------------------------------------


def test_spring_festival_2025_is_off_from_new_years_eve_and_two_weekend_days_are_worked(cn_calendar):
    # given the 2025 notice: 1月28日至2月4日放假调休，1月26日（周日）、2月8日（周六）上班
    # when / then
    assert working("2025-01-25", "2025-02-09") == ["2025-01-26", "2025-01-27", "2025-02-05", "2025-02-06",
                                                   "2025-02-07", "2025-02-08"]


def test_spring_festival_2026_takes_nine_days_with_saturdays_worked_before_and_after(cn_calendar):
    # given the 2026 notice: 2月15日至23日放假调休，2月14日（周六）、2月28日（周六）上班
    # when / then
    assert working("2026-02-13", "2026-03-01") == ["2026-02-13", "2026-02-14", "2026-02-24", "2026-02-25",
                                                   "2026-02-26", "2026-02-27", "2026-02-28"]


@pytest.mark.parametrize(("year", "worked_sunday", "last_day_off", "worked_saturday"), [
    (2024, "2024-09-29", "2024-10-07", "2024-10-12"),
    (2025, "2025-09-28", "2025-10-08", "2025-10-11"),
    (2026, "2026-09-20", "2026-10-07", "2026-10-10"),
])
def test_national_day_is_off_and_its_adjusted_weekend_days_are_working_days(
    cn_calendar, year, worked_sunday, last_day_off, worked_saturday
):
    # given the year's notice, when / then
    assert selectors.is_working_day(d(worked_sunday)) and d(worked_sunday).weekday() == 6
    assert selectors.is_working_day(d(worked_saturday)) and d(worked_saturday).weekday() == 5
    assert working(f"{year}-10-01", last_day_off) == []
    assert selectors.is_working_day(d(last_day_off) + timedelta(days=1))


def test_an_ordinary_weekend_is_off_and_weekdays_are_worked(cn_calendar):
    assert working("2025-03-01", "2025-03-09") == ["2025-03-03", "2025-03-04", "2025-03-05", "2025-03-06",
                                                   "2025-03-07"]


def test_a_moment_is_judged_by_its_date_in_china(cn_calendar):
    # given 2025-01-27 17:00 UTC, which is already 01-28 (a Spring Festival day) in China
    moment = datetime(2025, 1, 27, 17, 0, tzinfo=UTC)
    # when / then
    assert not selectors.is_working_day(moment)
    with pytest.raises(ValueError, match="naive"):
        selectors.is_working_day(datetime(2025, 1, 27, 9, 0))


# --- deadlines ---------------------------------------------------------------------------


def test_a_deadline_starts_counting_the_day_after_acceptance_and_ends_at_midnight_in_china(cn_calendar):
    # given a case accepted on Monday 2025-03-03, promised in 3 working days
    # when
    due = selectors.add_working_days(at("2025-03-03", "16:30"), 3)
    # then Tuesday, Wednesday, Thursday are counted
    assert due == end_of("2025-03-06")
    assert due.utcoffset() == timedelta(hours=8)


def test_a_deadline_across_the_spring_festival_skips_the_holiday_and_counts_the_worked_sunday(cn_calendar):
    # given a case accepted on Friday 2025-01-24
    accepted = at("2025-01-24")
    # when / then: Sunday 01-26 (worked) and Monday 01-27 count, then the holiday, then 02-05
    assert selectors.add_working_days(accepted, 3) == end_of("2025-02-05")
    # accepted on the last day before the holiday, 3 days run out on Friday after it
    assert selectors.add_working_days(at("2025-01-27"), 3) == end_of("2025-02-07")


def test_a_deadline_around_national_day_2025_counts_the_adjusted_weekend_days(cn_calendar):
    # given a case accepted on Friday 2025-09-26, promised in 5 and 6 working days
    # when / then: 09-28 (Sunday, worked), 09-29, 09-30, then 10-09, 10-10; the 6th is Saturday 10-11
    assert selectors.add_working_days(at("2025-09-26"), 5) == end_of("2025-10-10")
    assert selectors.add_working_days(at("2025-09-26"), 6) == end_of("2025-10-11")


def test_zero_working_days_end_with_the_day_of_acceptance_and_negative_ones_are_refused(cn_calendar):
    assert selectors.add_working_days(at("2025-02-01"), 0) == end_of("2025-02-01")
    with pytest.raises(ValueError):
        selectors.add_working_days(at("2025-02-01"), -1)


def test_working_days_between_counts_the_days_after_the_start_up_to_the_end(cn_calendar):
    assert selectors.working_days_between(d("2025-09-30"), d("2025-10-11")) == 3
    assert selectors.working_days_between(at("2025-10-11"), at("2025-09-30")) == -3
    assert selectors.working_days_between(d("2025-10-01"), d("2025-10-08")) == 0


def test_a_long_time_limit_is_counted_in_one_load_of_the_calendar(cn_calendar, django_assert_num_queries):
    # given a 60-working-day time limit accepted before the 2025 Spring Festival
    # when / then: the exceptions and the loaded years come in two queries, not one per day
    with django_assert_num_queries(2):
        due = selectors.add_working_days(at("2025-01-20"), 60)
    assert selectors.working_days_between(at("2025-01-20"), due) == 60
    with django_assert_num_queries(2):
        selectors.working_days_between(d("2024-01-01"), d("2026-12-31"))


# --- pauses (补正) -----------------------------------------------------------------------


def test_a_supplement_pause_extends_the_deadline_by_the_working_days_it_covered(cn_calendar):
    # given 5 working days from Monday 2025-03-03 (due Monday 03-10 without a pause)
    plain = selectors.TimeLimit(accepted_at=at("2025-03-03"), working_days=5)
    # when the applicant is asked for material on Wednesday and answers on Friday
    paused = selectors.TimeLimit(
        accepted_at=at("2025-03-03"), working_days=5,
        pauses=(selectors.Pause(paused_at=at("2025-03-05", "14:00"), resumed_at=at("2025-03-07", "09:00")),),
    )
    # then Thursday and Friday are not counted: two working days later
    assert plain.deadline().due_at == end_of("2025-03-10")
    assert paused.deadline() == selectors.Deadline(due_at=end_of("2025-03-12"), paused=False)


def test_a_pause_over_a_weekend_costs_only_the_working_days_it_covered(cn_calendar):
    limit = selectors.TimeLimit(
        accepted_at=at("2025-03-03"), working_days=5,
        pauses=(selectors.Pause(paused_at=at("2025-03-07"), resumed_at=at("2025-03-10")),),
    )
    assert limit.deadline().due_at == end_of("2025-03-11")


def test_two_pauses_add_up_and_a_pause_over_a_holiday_covers_no_working_day(cn_calendar):
    # given 3 working days from 2025-01-24, paused over the Spring Festival and again afterwards
    limit = selectors.TimeLimit(
        accepted_at=at("2025-01-24"), working_days=3,
        pauses=(
            selectors.Pause(paused_at=at("2025-01-27"), resumed_at=at("2025-02-04")),  # holidays only
            selectors.Pause(paused_at=at("2025-02-05"), resumed_at=at("2025-02-06")),  # covers 02-06
        ),
    )
    # when / then: 01-26, 01-27 counted, 02-05 counted (the pause's first day), 02-06 stopped
    assert limit.deadline().due_at == end_of("2025-02-05")
    assert selectors.TimeLimit(accepted_at=at("2025-01-24"), working_days=4, pauses=limit.pauses
                               ).deadline().due_at == end_of("2025-02-07")


def test_an_open_pause_leaves_no_deadline_until_the_applicant_answers(cn_calendar):
    limit = selectors.TimeLimit(
        accepted_at=at("2025-03-03"), working_days=5, pauses=(selectors.Pause(paused_at=at("2025-03-05")),)
    )
    deadline = limit.deadline()
    assert deadline.paused and deadline.due_at is None


def test_a_pause_on_or_after_the_deadline_does_not_move_it(cn_calendar):
    # given 5 working days from 2025-03-03, due 03-10, paused on 03-10 and on 03-12
    on_the_day = selectors.TimeLimit(accepted_at=at("2025-03-03"), working_days=5,
                                     pauses=(selectors.Pause(paused_at=at("2025-03-10", "17:00")),))
    after = selectors.TimeLimit(
        accepted_at=at("2025-03-03"), working_days=5,
        pauses=(selectors.Pause(paused_at=at("2025-03-12"), resumed_at=at("2025-03-20")),),
    )
    assert on_the_day.deadline() == selectors.Deadline(due_at=end_of("2025-03-10"))
    assert after.deadline().due_at == end_of("2025-03-10")


def test_impossible_pauses_are_refused():
    with pytest.raises(ValueError):
        selectors.Pause(paused_at=at("2025-03-05"), resumed_at=at("2025-03-04"))
    with pytest.raises(ValueError):
        selectors.TimeLimit(accepted_at=at("2025-03-05"), working_days=5,
                            pauses=(selectors.Pause(paused_at=at("2025-03-04")),))
    with pytest.raises(ValueError):
        selectors.TimeLimit(accepted_at=at("2025-03-03"), working_days=5,
                            pauses=(selectors.Pause(paused_at=at("2025-03-04")),
                                    selectors.Pause(paused_at=at("2025-03-05"))))


# --- on time, approaching, overdue ---------------------------------------------------------


def test_a_case_turns_yellow_two_working_days_before_its_deadline_and_red_after_it(cn_calendar):
    # given a deadline at the end of Friday 2025-03-14
    due = end_of("2025-03-14")
    # when / then
    assert selectors.deadline_state(at("2025-03-10"), due) == selectors.DeadlineState.ON_TIME
    assert selectors.deadline_state(at("2025-03-12"), due) == selectors.DeadlineState.APPROACHING
    assert selectors.deadline_state(at("2025-03-14", "23:59"), due) == selectors.DeadlineState.APPROACHING
    assert selectors.deadline_state(at("2025-03-15", "00:00"), due) == selectors.DeadlineState.OVERDUE
    assert selectors.deadline_state(at("2025-03-10"), due, warn_working_days=4) == "approaching"


def test_a_deadline_after_a_holiday_is_approaching_although_many_calendar_days_remain(cn_calendar):
    # given a deadline on 2025-02-05, the first working day after the Spring Festival
    # when looked at on 2025-01-27, nine calendar days earlier, then: one working day is left
    assert selectors.deadline_state(at("2025-01-27"), end_of("2025-02-05"), warn_working_days=1) == \
        selectors.DeadlineState.APPROACHING


# --- regional days -------------------------------------------------------------------------


def test_a_city_holiday_applies_in_the_city_and_its_districts_only(cn_calendar, org):
    # given Hangzhou gives Wednesday 2025-03-05 off
    services.add_calendar_day(actor=SYSTEM, date=d("2025-03-05"), kind=CalendarDay.Kind.HOLIDAY,
                              name="杭州市特别假日", name_en="Hangzhou day off", region=org.cities[0])
    # when / then
    assert not selectors.is_working_day(d("2025-03-05"), region="330100")
    assert not selectors.is_working_day(d("2025-03-05"), region="330106")  # Xihu District, in Hangzhou
    assert selectors.is_working_day(d("2025-03-05"), region="330203")  # Haishu District, in Ningbo
    assert selectors.is_working_day(d("2025-03-05"))
    assert selectors.add_working_days(at("2025-03-04"), 1, region="330106") == end_of("2025-03-06")


def test_the_nearest_region_wins_over_the_province_and_the_nation(cn_calendar, org):
    # given Zhejiang works on national holiday 2025-10-08 and Hangzhou keeps it off after all
    province = org.cities[0].parent
    services.add_calendar_day(actor=SYSTEM, date=d("2025-10-08"), kind=CalendarDay.Kind.WORKING_DAY,
                              name="浙江省调休上班", region=province)
    services.add_calendar_day(actor=SYSTEM, date=d("2025-10-08"), kind=CalendarDay.Kind.HOLIDAY,
                              name="杭州市假日", region=org.cities[0])
    # when / then
    assert selectors.is_working_day(d("2025-10-08"), region="330203")
    assert not selectors.is_working_day(d("2025-10-08"), region="330106")
    assert not selectors.is_working_day(d("2025-10-08"))


# --- years whose notice is not loaded --------------------------------------------------------


def test_a_year_without_a_notice_is_counted_by_the_weekend_rule_and_says_so(cn_calendar):
    # given no 2027 notice is loaded
    # when a deadline crosses into 2027
    with pytest.warns(selectors.CalendarNotLoaded) as caught:
        due = selectors.add_working_days(at("2026-12-30"), 3)
    # then Monday to Friday are counted, and the warning names the year
    assert due == end_of("2027-01-04")
    assert caught[0].message.years == frozenset({2027})
    with pytest.warns(selectors.CalendarNotLoaded):
        assert selectors.is_working_day(d("2027-02-08"))
    limit = selectors.TimeLimit(accepted_at=at("2026-12-30"), working_days=3)
    with pytest.warns(selectors.CalendarNotLoaded):
        deadline = limit.deadline()
    assert deadline.estimated and deadline.years_not_loaded == frozenset({2027})


def test_a_loaded_year_raises_no_warning(cn_calendar):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        selectors.add_working_days(at("2025-12-01"), 10)
        assert selectors.TimeLimit(accepted_at=at("2025-12-01"), working_days=10).deadline().estimated is False


def test_the_calendar_check_names_the_missing_years(cn_calendar):
    from tongban.kernel.calendar import missing_calendar_years

    assert missing_calendar_years(d("2026-06-01")) == []
    assert missing_calendar_years(d("2026-11-02")) == [2027]  # next year's notice is due in November
    assert missing_calendar_years(d("2028-03-01")) == [2028]


# --- loading the arrangements ----------------------------------------------------------------


def test_loading_the_shipped_file_records_each_notice_and_a_second_load_writes_nothing(db):
    # given an empty calendar
    # when
    first = services.load_holiday_arrangements(actor=SYSTEM)
    audited = AuditRecord.objects.filter(action="kernel.calendar.loaded").count()
    second = services.load_holiday_arrangements(actor=SYSTEM)
    # then
    assert first.years == (2024, 2025, 2026) and first.created == CalendarDay.objects.count() > 0
    assert not second.changed
    assert AuditRecord.objects.filter(action="kernel.calendar.loaded").count() == audited == 1
    assert list(CalendarYear.objects.values_list("year", "document_number")) == [
        (2024, "国办发明电〔2023〕7号"), (2025, "国办发明电〔2024〕12号"), (2026, "国办发明电〔2025〕7号"),
    ]


def test_loading_a_corrected_file_fixes_and_removes_days_of_that_notice_only(cn_calendar, tmp_path, org):
    # given an administrator's own national day and a city day, and a file that moves a 2026 working day
    services.add_calendar_day(actor=SYSTEM, date=d("2026-12-31"), kind=CalendarDay.Kind.HOLIDAY,
                              name="特别假日", source="a later notice")
    services.add_calendar_day(actor=SYSTEM, date=d("2026-10-10"), kind=CalendarDay.Kind.HOLIDAY,
                              name="杭州市假日", region=org.cities[0])
    corrected = tmp_path / "corrected.json"
    corrected.write_text("""{"years": [{"year": 2026, "notice": "国务院办公厅关于2026年部分节假日安排的通知",
        "document_number": "国办发明电〔2025〕7号", "published_on": "2025-11-04", "holidays": [
        {"name": "国庆节", "name_en": "National Day", "from": "2026-10-01", "to": "2026-10-07",
         "working_days": ["2026-09-20"]}]}]}""", encoding="utf-8")
    # when
    result = services.load_holiday_arrangements(actor=SYSTEM, path=corrected)
    # then the 2026 days no longer in the file are gone, other sources and regions stay
    assert result.removed > 0 and result.created == 0
    assert selectors.is_working_day(d("2026-10-10")) is False  # a Saturday again
    assert CalendarDay.objects.filter(date=d("2026-12-31"), region=None).exists()
    assert CalendarDay.objects.filter(date=d("2026-10-10"), region=org.cities[0]).exists()
    assert CalendarDay.objects.filter(date=d("2025-01-28")).exists()  # other years untouched


@pytest.mark.parametrize("content", [
    "not json",
    '{"years": [{"year": 2030}]}',
    '{"years": [{"year": 2030, "notice": "n", "document_number": "x", "published_on": "2029-11-01",'
    ' "holidays": [{"name": "a", "from": "2030-01-01", "to": "2030-01-01", "working_days": ["2030-01-01"]}]}]}',
])
def test_a_malformed_arrangements_file_is_refused_and_nothing_is_written(db, tmp_path, content):
    path = tmp_path / "bad.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(InvalidInput):
        services.load_holiday_arrangements(actor=SYSTEM, path=path)
    assert not CalendarDay.objects.exists() and not CalendarYear.objects.exists()


# --- managing days -----------------------------------------------------------------------------


def test_a_platform_admin_adds_and_removes_a_day_and_both_are_audited(cn_calendar, platform_admin):
    # when
    day = services.add_calendar_day(actor=platform_admin, date=d("2026-12-31"), kind="holiday",
                                    name="特别假日", name_en="Special day off", source="国办发明电〔2026〕1号")
    assert not selectors.is_working_day(d("2026-12-31"))
    services.remove_calendar_day(day, actor=platform_admin)
    # then
    assert selectors.is_working_day(d("2026-12-31"))
    actions = list(AuditRecord.objects.filter(actor=platform_admin.audit_name, action__startswith="kernel.calendar")
                   .values_list("action", flat=True))
    assert actions == ["kernel.calendar_day.added", "kernel.calendar_day.removed"]


def test_a_second_day_on_the_same_date_and_region_is_a_conflict(cn_calendar):
    with pytest.raises(Conflict):
        services.add_calendar_day(actor=SYSTEM, date=d("2025-01-28"), kind="working_day", name="x")
    with pytest.raises(InvalidInput):
        services.add_calendar_day(actor=SYSTEM, date=d("2025-03-03"), kind="weekend", name="x")


def test_an_officer_who_is_not_a_platform_admin_cannot_change_the_calendar(cn_calendar, window_officer):
    # given a national holiday and a window officer
    day = CalendarDay.objects.get(date=d("2025-01-28"), region=None)
    before = AuditRecord.objects.count()
    # when / then
    with pytest.raises(PermissionDenied):
        services.add_calendar_day(actor=window_officer, date=d("2025-03-05"), kind="holiday", name="x")
    with pytest.raises(PermissionDenied):
        services.remove_calendar_day(day, actor=window_officer)
    with pytest.raises(PermissionDenied):
        services.load_holiday_arrangements(actor=window_officer)
    assert CalendarDay.objects.filter(pk=day.pk).exists()
    assert not CalendarDay.objects.filter(date=d("2025-03-05")).exists()
    assert AuditRecord.objects.count() == before
