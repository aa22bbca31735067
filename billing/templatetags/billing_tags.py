"""Template filters for billing pages."""

from django import template

register = template.Library()


@register.filter
def dollars(cents: int | None) -> str:
    """Integer cents as dollars: 170000 becomes "$1,700", 1050 "$10.50"."""
    if cents is None:
        return ""
    whole, rest = divmod(int(cents), 100)
    return f"${whole:,}" if rest == 0 else f"${whole:,}.{rest:02d}"
