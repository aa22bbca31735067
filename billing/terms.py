"""Term arithmetic: where a subscription stands at a given moment.

The stored subscription describes its current term. A moment after that term
is answered as if the subscription had renewed, term after term, applying a
scheduled change when its moment comes, so the answer does not depend on
whether the renewal has been written yet.
"""

import calendar
from dataclasses import dataclass
from datetime import datetime

from billing.models import Period, Plan, Subscription

INCLUDED_SEATS = 50
BOLT_ON_PRICE_CENTS = 170_000


@dataclass(frozen=True)
class TermState:
    """A subscription's plan, period, seats and term at one moment."""

    plan: str
    period: str
    seats: int
    term_start: datetime
    term_end: datetime
    included_until: datetime | None
    scheduled_applied: bool

    @property
    def plan_label(self) -> str:
        return Plan(self.plan).label

    @property
    def period_label(self) -> str:
        return Period(self.period).label

    @property
    def is_annual(self) -> bool:
        return self.period == Period.ANNUAL

    @property
    def includes_sso(self) -> bool:
        """Scale Annual with enough seats includes SSO and Directory Sync."""
        return (
            self.plan == Plan.SCALE
            and self.period == Period.ANNUAL
            and self.seats >= INCLUDED_SEATS
        )


def add_months(moment: datetime, months: int) -> datetime:
    """The same day and time `months` later, clamped to the end of the month."""
    month_index = moment.month - 1 + months
    year = moment.year + month_index // 12
    month = month_index % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def human_date(moment: datetime) -> str:
    """A date as people read it: "15 January 2027"."""
    return f"{moment.day} {moment:%B %Y}"


def _months(period: str) -> int:
    return 12 if period == Period.ANNUAL else 1


def term_end_for(start: datetime, period: str) -> datetime:
    return add_months(start, _months(period))


def state_at(subscription: Subscription, at: datetime) -> TermState | None:
    """Where `subscription` stands at `at`; None before its term starts."""
    if at < subscription.term_start:
        return None
    plan, period, seats = subscription.plan, subscription.period, subscription.seats
    start, end = subscription.term_start, subscription.term_end
    scheduled_applied = False
    if subscription.scheduled_at is not None and at >= subscription.scheduled_at:
        plan = subscription.scheduled_plan
        period = subscription.scheduled_period
        seats = subscription.scheduled_seats
        start = subscription.scheduled_at
        end = term_end_for(start, period)
        scheduled_applied = True
    # Each later term is counted from the same anchor, so a term that starts
    # on the 31st keeps returning to the 31st where the month has one.
    step = _months(period)
    anchor, count = start, 1
    while at >= end:
        start = end
        count += 1
        end = add_months(anchor, step * count)
    return TermState(
        plan=plan,
        period=period,
        seats=seats,
        term_start=start,
        term_end=end,
        included_until=subscription.included_until,
        scheduled_applied=scheduled_applied,
    )
