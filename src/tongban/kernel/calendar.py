"""The working-day calendar (工作日历) and promised time limits (承诺时限).

Service items promise their results in working days. A day is a working day
when it is Monday to Friday, unless it is a public holiday, or when it is an
adjusted working day (调休上班) on a weekend; the exceptions are ``CalendarDay``
rows (national, or a region's own for the region and the regions under it).
Dates are the dates in China (Asia/Shanghai), whatever the server's zone.

Two layers:

- ``WorkingCalendar`` holds the exceptions of a date range and does all the
  arithmetic without touching the database (pure, property-tested);
- the module functions (``is_working_day``, ``add_working_days``,
  ``working_days_between``, ``deadline_state``, ``TimeLimit.deadline``) load
  the range they need in one go (two indexed queries, whatever its length)
  and warn with ``CalendarNotLoaded`` when a year they touched has no State
  Council notice loaded: such a year is counted by the weekend rule alone.

The counting rule (ADR 0014): N working days from acceptance end at the end
(23:59:59.999999, Asia/Shanghai) of the Nth working day after the day of
acceptance; the day of acceptance itself is not counted. A pause (补正, waiting
for the applicant) from day P to day R stops the clock for the working days
after P up to and including R; the clock counts again from the next working
day after R, as after acceptance.
"""

from __future__ import annotations

import json
import logging
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any, TypeAlias
from zoneinfo import ZoneInfo

from django.db.models import Q

from tongban.kernel.models import CalendarDay, CalendarYear, Region

logger = logging.getLogger(__name__)

CHINA = ZoneInfo("Asia/Shanghai")
HOLIDAY = CalendarDay.Kind.HOLIDAY.value
WORKING_DAY = CalendarDay.Kind.WORKING_DAY.value

# A region given by its row or by its 6-digit division code; None is the national calendar.
RegionLike: TypeAlias = Region | str | None
DayLike: TypeAlias = date | datetime

# Days loaded beyond the last one a count needs at least: the longest holiday
# period with its weekends is under three weeks.
_MARGIN_DAYS = 31


class CalendarNotLoaded(UserWarning):
    """A computation touched a year whose national holiday notice is not loaded.

    The result is computed with the weekend rule alone for those years and may
    be wrong: load the year's notice (``tongban calendar load``).
    """

    def __init__(self, years: Iterable[int]) -> None:
        self.years = frozenset(years)
        listed = ", ".join(str(year) for year in sorted(self.years))
        super().__init__(
            f"No holiday arrangement is loaded for {listed}: counted Monday to Friday as working days."
        )


class DeadlineState(StrEnum):
    """Where a case stands against its deadline: green, yellow or red in the workbench."""

    ON_TIME = "on_time"
    APPROACHING = "approaching"
    OVERDUE = "overdue"


def china_date(moment: DayLike) -> date:
    """Return the date in China of ``moment`` (a date is returned as it is).

    Raise ValueError for a naive datetime.
    """
    if isinstance(moment, datetime):
        if moment.tzinfo is None or moment.utcoffset() is None:
            raise ValueError("A naive datetime has no date in China: pass an aware datetime.")
        return moment.astimezone(CHINA).date()
    return moment


def end_of_day(day: date) -> datetime:
    """Return the last microsecond of ``day`` in China (23:59:59.999999 Asia/Shanghai)."""
    return datetime.combine(day, time.max, tzinfo=CHINA)


def region_codes(region: RegionLike) -> tuple[str, ...]:
    """Return the division codes whose days apply in ``region``, nearest first.

    The codes of a region's city and province follow from its own code (the
    org tree keeps codes and parents consistent), so no query is needed.
    """
    if region is None:
        return ()
    code = region.code if isinstance(region, Region) else region
    if len(code) != 6 or not code.isdigit():
        raise ValueError(f"{code!r} is not a 6-digit division code.")
    codes = [code, f"{code[:4]}00", f"{code[:2]}0000"]
    return tuple(dict.fromkeys(codes))


class _BeyondRange(Exception):
    """A count walked past the last day a ``WorkingCalendar`` holds."""


@dataclass(frozen=True)
class WorkingCalendar:
    """The working days from ``first`` to ``last`` for one region, held in memory.

    ``exceptions`` maps a date to ``"holiday"`` or ``"working_day"`` (already
    resolved: the nearest region's day wins); ``loaded_years`` are the years
    whose national notice is loaded. Every method is pure; asking about a day
    outside ``first`` … ``last`` raises ValueError.
    """

    first: date
    last: date
    exceptions: Mapping[date, str] = field(default_factory=dict)
    loaded_years: frozenset[int] = frozenset()

    def is_working_day(self, day: date) -> bool:
        """Return True if ``day`` is a working day."""
        if not self.first <= day <= self.last:
            raise ValueError(f"{day} is outside the loaded range {self.first} … {self.last}.")
        kind = self.exceptions.get(day)
        if kind == HOLIDAY:
            return False
        if kind == WORKING_DAY:
            return True
        return day.weekday() < 5

    def years_not_loaded(self, first: date, last: date) -> frozenset[int]:
        """Return the years from ``first`` to ``last`` whose national notice is not loaded."""
        return frozenset(range(first.year, last.year + 1)) - self.loaded_years

    def _next_day(self, day: date) -> date:
        following = day + timedelta(days=1)
        if following > self.last:
            raise _BeyondRange(following)
        return following

    def nth_working_day_after(self, day: date, count: int) -> date:
        """Return the ``count``-th working day after ``day`` (``day`` itself when count is 0).

        Raise ValueError for a negative count.
        """
        if count < 0:
            raise ValueError("A count of working days is not negative.")
        counted = 0
        while counted < count:
            day = self._next_day(day)
            if self.is_working_day(day):
                counted += 1
        return day

    def add_working_days(self, start: datetime, days: int) -> datetime:
        """Return the end of the ``days``-th working day after the day of ``start``."""
        return end_of_day(self.nth_working_day_after(china_date(start), days))

    def working_days_between(self, start: DayLike, end: DayLike) -> int:
        """Return the working days after the day of ``start`` up to and including the day of ``end``.

        Negative when ``end`` is before ``start``; so
        ``working_days_between(s, add_working_days(s, n)) == n``.
        """
        first, last = china_date(start), china_date(end)
        if last < first:
            return -self.working_days_between(last, first)
        return sum(1 for offset in range(1, (last - first).days + 1)
                   if self.is_working_day(first + timedelta(days=offset)))

    def deadline(self, limit: TimeLimit) -> Deadline:
        """Return the deadline of ``limit``: see ``TimeLimit``."""
        accepted_on = china_date(limit.accepted_at)
        stopped: set[date] = set()
        open_since: date | None = None
        for pause in limit.pauses:
            paused_on = china_date(pause.paused_at)
            if pause.resumed_at is None:
                open_since = paused_on if open_since is None else min(open_since, paused_on)
                continue
            resumed_on = china_date(pause.resumed_at)
            stopped.update(paused_on + timedelta(days=offset)
                           for offset in range(1, (resumed_on - paused_on).days + 1))
        day, counted = accepted_on, 0
        while counted < limit.working_days:
            if open_since is not None and day >= open_since:
                return Deadline(due_at=None, paused=True,
                                years_not_loaded=self.years_not_loaded(accepted_on, day))
            day = self._next_day(day)
            if day not in stopped and self.is_working_day(day):
                counted += 1
        return Deadline(due_at=end_of_day(day), paused=False,
                        years_not_loaded=self.years_not_loaded(accepted_on, day))

    def deadline_state(self, now: datetime, deadline: datetime, *, warn_working_days: int = 2) -> DeadlineState:
        """Return OVERDUE after ``deadline``; APPROACHING when at most ``warn_working_days``
        working days are left after today (so always on the deadline's own day); else ON_TIME.
        """
        china_date(now)  # refuse a naive datetime
        if now > deadline:
            return DeadlineState.OVERDUE
        if self.working_days_between(now, deadline) <= warn_working_days:
            return DeadlineState.APPROACHING
        return DeadlineState.ON_TIME


@dataclass(frozen=True)
class Pause:
    """The clock of a time limit stopped at ``paused_at`` (补正: waiting for the applicant).

    ``resumed_at`` is None while the applicant has not answered yet.
    """

    paused_at: datetime
    resumed_at: datetime | None = None

    def __post_init__(self) -> None:
        china_date(self.paused_at)
        if self.resumed_at is not None:
            china_date(self.resumed_at)
            if self.resumed_at < self.paused_at:
                raise ValueError("A pause cannot end before it starts.")


@dataclass(frozen=True)
class Deadline:
    """When a time limit runs out.

    ``due_at`` is None while the clock is paused (``paused``). ``years_not_loaded``
    names the years counted by the weekend rule alone: the deadline is then an
    estimate (``estimated``) until their holiday notices are loaded.
    """

    due_at: datetime | None
    paused: bool = False
    years_not_loaded: frozenset[int] = frozenset()

    @property
    def estimated(self) -> bool:
        return bool(self.years_not_loaded)


@dataclass(frozen=True)
class TimeLimit:
    """A promised time limit: ``working_days`` from ``accepted_at``, stopped during ``pauses``.

    The deadline is the end (23:59:59.999999 Asia/Shanghai) of the Nth working
    day after the day of acceptance, not counting the working days a pause
    covered (those after the day it started, up to and including the day it
    ended). A pause that starts on or after the deadline's day does not move
    the deadline; an open pause that starts before it leaves no deadline (the
    case is paused) until it ends.
    """

    accepted_at: datetime
    working_days: int
    pauses: tuple[Pause, ...] = ()

    def __post_init__(self) -> None:
        china_date(self.accepted_at)
        if self.working_days < 0:
            raise ValueError("A time limit is not negative.")
        if any(pause.paused_at < self.accepted_at for pause in self.pauses):
            raise ValueError("A pause cannot start before the acceptance.")
        if sum(1 for pause in self.pauses if pause.resumed_at is None) > 1:
            raise ValueError("At most one pause is open at a time.")

    def deadline(self, *, region: RegionLike = None) -> Deadline:
        """Return the deadline in ``region``'s calendar; warn ``CalendarNotLoaded`` for unloaded years."""
        last_event = max([china_date(self.accepted_at), *(
            china_date(moment) for pause in self.pauses
            for moment in (pause.paused_at, pause.resumed_at) if moment is not None
        )])
        span = 2 * self.working_days + _MARGIN_DAYS
        first = china_date(self.accepted_at)
        while True:
            calendar = load_calendar(first, last_event + timedelta(days=span), region=region)
            try:
                result = calendar.deadline(self)
            except _BeyondRange:
                span *= 2
                continue
            _warn_if_not_loaded(result.years_not_loaded)
            return result


def load_calendar(first: date, last: date, *, region: RegionLike = None) -> WorkingCalendar:
    """Return the working-day calendar from ``first`` to ``last`` in ``region`` (two queries)."""
    if last < first:
        raise ValueError("The calendar's range ends before it starts.")
    codes = region_codes(region)
    nearest = {code: rank for rank, code in enumerate(codes)}
    rows = CalendarDay.objects.filter(date__range=(first, last)).filter(
        Q(region__isnull=True) | Q(region__code__in=codes)
    ).values_list("date", "kind", "region__code")
    exceptions: dict[date, tuple[int, str]] = {}
    for day, kind, code in rows:
        # The nearest region wins over the wider ones, and any region over the nation.
        rank = nearest[code] if code is not None else len(codes)
        if day not in exceptions or rank < exceptions[day][0]:
            exceptions[day] = (rank, kind)
    loaded = CalendarYear.objects.filter(year__range=(first.year, last.year)).values_list("year", flat=True)
    return WorkingCalendar(
        first=first, last=last, exceptions={day: kind for day, (_, kind) in exceptions.items()},
        loaded_years=frozenset(loaded),
    )


def _warn_if_not_loaded(years: frozenset[int]) -> None:
    if years:
        logger.warning("calendar.not_loaded", extra={"years": sorted(years)})
        warnings.warn(CalendarNotLoaded(years), stacklevel=3)


def is_working_day(day: DayLike, *, region: RegionLike = None) -> bool:
    """Return True if ``day`` (a date, or an aware datetime's date in China) is a working day in ``region``.

    Warn ``CalendarNotLoaded`` if the day's year has no holiday notice loaded.
    """
    local = china_date(day)
    calendar = load_calendar(local, local, region=region)
    _warn_if_not_loaded(calendar.years_not_loaded(local, local))
    return calendar.is_working_day(local)


def add_working_days(start: datetime, days: int, *, region: RegionLike = None) -> datetime:
    """Return the deadline of ``days`` working days from ``start`` (the acceptance).

    Counting starts on the next working day after the day of ``start`` (in
    China); the deadline is the end of the ``days``-th working day, 23:59:59.999999
    Asia/Shanghai, timezone-aware. Zero days end with the day of ``start``.
    Raise ValueError for a negative count or a naive datetime; warn
    ``CalendarNotLoaded`` when the count crossed a year without a loaded notice.
    """
    if days < 0:
        raise ValueError("A count of working days is not negative.")
    first = china_date(start)
    span = 2 * days + _MARGIN_DAYS
    while True:
        calendar = load_calendar(first, first + timedelta(days=span), region=region)
        try:
            due_at = calendar.add_working_days(start, days)
        except _BeyondRange:
            span *= 2
            continue
        _warn_if_not_loaded(calendar.years_not_loaded(first, due_at.date()))
        return due_at


def working_days_between(start: DayLike, end: DayLike, *, region: RegionLike = None) -> int:
    """Return the working days after the day of ``start`` up to and including the day of ``end``.

    Negative when ``end`` is before ``start``. For n ≥ 0,
    ``working_days_between(s, add_working_days(s, n)) == n``. Warn
    ``CalendarNotLoaded`` when the range touches a year without a loaded notice.
    """
    first, last = sorted((china_date(start), china_date(end)))
    calendar = load_calendar(first, last, region=region)
    _warn_if_not_loaded(calendar.years_not_loaded(first, last))
    return calendar.working_days_between(start, end)


def deadline_state(
    now: datetime, deadline: datetime, *, warn_working_days: int = 2, region: RegionLike = None
) -> DeadlineState:
    """Return OVERDUE after ``deadline``; APPROACHING when at most ``warn_working_days``
    working days are left after today (so always on the deadline's own day); else ON_TIME.
    """
    if now > deadline:
        return DeadlineState.OVERDUE
    first, last = china_date(now), china_date(deadline)
    calendar = load_calendar(first, last, region=region)
    _warn_if_not_loaded(calendar.years_not_loaded(first, last))
    return calendar.deadline_state(now, deadline, warn_working_days=warn_working_days)


def years_loaded() -> frozenset[int]:
    """Return the years whose national holiday notice is loaded."""
    return frozenset(CalendarYear.objects.values_list("year", flat=True))


def missing_calendar_years(today: date | None = None) -> list[int]:
    """Return the years whose holiday notice should be loaded by ``today`` and is not.

    This year's always; next year's from November, when the State Council has
    usually published it.
    """
    today = today or datetime.now(CHINA).date()
    wanted = [today.year, today.year + 1] if today.month >= 11 else [today.year]
    loaded = set(CalendarYear.objects.filter(year__in=wanted).values_list("year", flat=True))
    return [year for year in wanted if year not in loaded]


# --- the holiday arrangements file ---------------------------------------------------

DEFAULT_ARRANGEMENTS_FILE = Path(__file__).parent / "data" / "cn_public_holidays.json"


@dataclass(frozen=True)
class ArrangedDay:
    """One day of a notice: a day off or an adjusted working day."""

    date: date
    kind: str
    name: str
    name_en: str


@dataclass(frozen=True)
class YearArrangement:
    """One year's national holiday arrangement, as its State Council notice sets it."""

    year: int
    notice: str
    document_number: str
    published_on: date
    days: tuple[ArrangedDay, ...]


def read_arrangements(path: Path | str = DEFAULT_ARRANGEMENTS_FILE) -> list[YearArrangement]:
    """Return the yearly arrangements in the JSON file at ``path``.

    Each year names its notice (``notice``, ``document_number``, ``published_on``)
    and lists its holidays: a name, ``from``/``to`` (the days off, weekends
    inside the period included) and the adjusted ``working_days``.
    Raise ValueError when the file is malformed or a date is both a day off
    and a working day.
    """
    try:
        content = json.loads(Path(path).read_text(encoding="utf-8"))
        arrangements = [_year_arrangement(entry) for entry in content["years"]]
    except (OSError, KeyError, TypeError, ValueError) as error:
        raise ValueError(f"{path}: not a holiday arrangements file ({error}).") from error
    years = [arrangement.year for arrangement in arrangements]
    if len(set(years)) != len(years):
        raise ValueError(f"{path}: a year is listed twice.")
    return arrangements


def _year_arrangement(entry: Mapping[str, Any]) -> YearArrangement:
    year = int(entry["year"])
    days: dict[date, ArrangedDay] = {}

    def add(day: ArrangedDay) -> None:
        if abs(day.date.year - year) > 1:
            raise ValueError(f"{day.date} is too far from {year}")
        if day.date in days:
            raise ValueError(f"{day.date} is listed twice in {year}")
        days[day.date] = day

    for holiday in entry["holidays"]:
        name, name_en = str(holiday["name"]), str(holiday.get("name_en", ""))
        first, last = date.fromisoformat(holiday["from"]), date.fromisoformat(holiday["to"])
        if last < first:
            raise ValueError(f"{name} {year} ends before it starts")
        for offset in range((last - first).days + 1):
            add(ArrangedDay(first + timedelta(days=offset), HOLIDAY, name, name_en))
        for working_day in holiday.get("working_days", []):
            add(ArrangedDay(date.fromisoformat(working_day), WORKING_DAY, name, name_en))
    return YearArrangement(
        year=year, notice=str(entry["notice"]), document_number=str(entry["document_number"]),
        published_on=date.fromisoformat(entry["published_on"]), days=tuple(sorted(days.values(), key=_by_date)),
    )


def _by_date(day: ArrangedDay) -> date:
    return day.date


def calendar_from_arrangements(
    arrangements: Iterable[YearArrangement], first: date, last: date
) -> WorkingCalendar:
    """Return the national calendar from ``first`` to ``last`` built from ``arrangements`` (no database)."""
    arrangements = list(arrangements)
    return WorkingCalendar(
        first=first, last=last,
        exceptions={day.date: day.kind for arrangement in arrangements for day in arrangement.days
                    if first <= day.date <= last},
        loaded_years=frozenset(arrangement.year for arrangement in arrangements),
    )
