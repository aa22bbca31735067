"""The log of sign-in attempts, one entry per attempt."""

from progression.queries import RowInsert
from sso.models import Connection, LoginAttempt

# Every sign-in writes one log entry: its INSERT is built once per process.
_ATTEMPT_INSERT = RowInsert(LoginAttempt)


def attempt_record(
    *,
    connection: Connection,
    outcome: str,
    reason: str = "",
    detail: str = "",
    test: bool = False,
    idp_initiated: bool = False,
    subject: str = "",
    email: str = "",
    issuer: str = "",
    attributes: dict | None = None,
    mapped: dict | None = None,
    groups_overage: bool = False,
    user=None,
) -> LoginAttempt:
    """Log one sign-in attempt; attribute values are kept only for test runs."""
    attributes = attributes or {}
    if not test:
        attributes = {name: ["(redacted)"] for name in attributes}
    return _ATTEMPT_INSERT.save(
        LoginAttempt(
            connection=connection,
            outcome=outcome,
            reason=reason[:60],
            detail=detail[:500],
            test=test,
            idp_initiated=idp_initiated,
            subject=subject[:512],
            email=email[:254],
            issuer=issuer[:1024],
            attributes=_cap_attributes(attributes),
            mapped=mapped or {},
            groups_overage=groups_overage,
            user=user,
        )
    )


def _cap_attributes(attributes: dict) -> dict:
    capped = {}
    for name, values in list(attributes.items())[:100]:
        capped[str(name)[:300]] = [str(value)[:300] for value in list(values)[:50]]
    return capped
