"""Amounts are integer cents everywhere; this turns them into text."""


def dollars(cents: int) -> str:
    """Integer cents as dollars: 170000 becomes "$1,700", 1050 "$10.50"."""
    whole, rest = divmod(int(cents), 100)
    return f"${whole:,}" if rest == 0 else f"${whole:,}.{rest:02d}"
