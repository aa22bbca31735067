"""Template filters for billing pages."""

from django import template

from billing import money

register = template.Library()


@register.filter
def dollars(cents: int | None) -> str:
    """Integer cents as dollars, "" for None."""
    return "" if cents is None else money.dollars(cents)
