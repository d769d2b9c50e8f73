"""Properties of the working-day arithmetic over the shipped arrangements (2024–2026), in memory.

Whatever the acceptance moment (in any time zone) and the promised working days:
the deadline is the end of a working day in China, exactly that many working days
after the day of acceptance, and the first such day; a pause that starts before the
deadline moves it by exactly the working days it covered.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, timezone

from hypothesis import given
from hypothesis import strategies as st

from tongban.kernel.calendar import (
    CHINA,
    Pause,
    TimeLimit,
    calendar_from_arrangements,
    china_date,
    read_arrangements,
)

CALENDAR = calendar_from_arrangements(read_arrangements(), date(2023, 12, 1), date(2027, 6, 30))

zones = st.sampled_from([CHINA, UTC, timezone(timedelta(hours=-8)), timezone(timedelta(hours=14))])
moments = st.builds(
    lambda naive, zone: naive.replace(tzinfo=zone),
    st.datetimes(min_value=datetime(2024, 1, 1), max_value=datetime(2026, 9, 30)),
    zones,
)
counts = st.integers(min_value=0, max_value=60)


@given(moments, counts)
def test_the_deadline_is_the_end_of_the_nth_working_day_after_acceptance(start, n):
    due = CALENDAR.add_working_days(start, n)

    assert due.tzinfo == CHINA and due.timetz().replace(tzinfo=None) == time.max
    assert CALENDAR.working_days_between(start, due) == n
    if n > 0:
        assert CALENDAR.is_working_day(due.date())
        # … and the first day at which n working days have passed
        assert CALENDAR.working_days_between(start, due.date() - timedelta(days=1)) == n - 1
    else:
        assert due.date() == china_date(start)


@given(moments, moments)
def test_working_days_between_is_antisymmetric(first, second):
    assert CALENDAR.working_days_between(first, second) == -CALENDAR.working_days_between(second, first)


@given(moments, st.integers(min_value=1, max_value=30), st.integers(min_value=0, max_value=20),
       st.integers(min_value=0, max_value=20))
def test_a_pause_before_the_deadline_moves_it_by_the_working_days_it_covered(start, n, pause_after, length):
    # given a pause starting some days after acceptance, before the unpaused deadline
    plain = CALENDAR.add_working_days(start, n)
    paused_at = start + timedelta(days=pause_after)
    resumed_at = paused_at + timedelta(days=length)
    if china_date(paused_at) >= plain.date():
        return  # a pause on or after the deadline's day does not move it (tested in test_calendar)
    covered = CALENDAR.working_days_between(paused_at, resumed_at)
    # when
    deadline = CALENDAR.deadline(TimeLimit(accepted_at=start, working_days=n,
                                           pauses=(Pause(paused_at=paused_at, resumed_at=resumed_at),)))
    # then
    assert deadline.due_at == CALENDAR.add_working_days(start, n + covered)
    assert not deadline.paused and deadline.estimated == (deadline.due_at.year > 2026)
