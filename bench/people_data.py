"""The benchmark's organisations: generated people, copied in bulk.

Each organisation gets its admin, teams and positions through the services,
as the portal would make them; its people are then copied in with one COPY,
since a service call per person would take longer than the whole benchmark.
`Sample` keeps what was generated so each page can be checked against it.
"""

from dataclasses import dataclass, field
from datetime import UTC, datetime

FIRST_NAMES = (
    "Amara Bilal Chiara Dmitri Elif Farid Greta Hana Idris Jonas Kenji Leila "
    "Mateo Nadia Oskar Priya Quentin Rosa Samir Tove Umar Vera Wiremu Ximena "
    "Yusuf Zofia Anouk Bram Carys Dario Esme Fionn Gideon Ines Jarrah Kalani"
).split()
# Surnames are built from two parts so that a search term matches a few
# hundredths of a percent of an organisation, as a real surname does.
_SURNAME_STARTS = (
    "Ash Brook Carr Dun Fair Glen Hal Kings Lang Mar North Oak Pem Rad Stan "
    "Thorn Wel Whit Yar Bel Cold Dray Elm Fen Gold Hart Ives Kel Lock Mill"
).split()
_SURNAME_ENDS = (
    "ford ley ton wood field by well more wick stone ham worth den mere croft "
    "bury dale hurst combe shaw"
).split()
SURNAMES = [start + end for start in _SURNAME_STARTS for end in _SURNAME_ENDS]
POSITION_NAMES = ["Lead", "Senior", "Associate", "Apprentice"]
REPORTS_PER_MANAGER = 8
USER_COLUMNS = (
    "id, password, last_login, organization_id, email, first_name, last_name, "
    "manager_id, team_id, position_id, status, archived_at, archived_reason, "
    "role, source, created_at, updated_at"
)


@dataclass
class Person:
    first_name: str
    last_name: str
    email: str
    team_id: int | None
    active: bool


@dataclass
class Sample:
    """One organisation: its admin, its people and what each page should show."""

    label: str
    size: int
    admin_id: int = 0
    domain: str = ""
    team_ids: list[int] = field(default_factory=list)
    people: list[Person] = field(default_factory=list)


def sample_build(*, label, slug, size, teams, rng) -> Sample:
    """Create an organisation with its admin, teams and `size` people.

    Django must be set up first, on the benchmark's own database.
    """
    from django.db import connection

    from progression.models import User
    from progression.services.organizations import organization_create
    from progression.services.people import user_create
    from progression.services.teams import position_create, team_create

    sample = Sample(label=label, size=size, domain=f"{slug}.example")
    organization = organization_create(name=label, slug=slug, domains=[sample.domain])
    admin = user_create(
        organization=organization,
        email=f"admin@{sample.domain}",
        first_name="Bench",
        last_name="Admin",
        role=User.Role.ADMIN,
    )
    sample.admin_id = admin.pk
    sample.people.append(Person("Bench", "Admin", admin.email, None, True))
    positions = {}
    for number in range(teams):
        team = team_create(
            organization=organization, name=f"Team {number:03d}", actor=admin
        )
        sample.team_ids.append(team.pk)
        positions[team.pk] = [
            position_create(team=team, name=name, actor=admin).pk
            for name in POSITION_NAMES
        ]

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence('progression_user', 'id')) "
            "FROM generate_series(1, %s)",
            [size],
        )
        ids = sorted(row[0] for row in cursor.fetchall())
    now = datetime.now(tz=UTC)
    rows = []
    for index, pk in enumerate(ids):
        first, last = rng.choice(FIRST_NAMES), rng.choice(SURNAMES)
        email = f"{first}.{last}.{index}@{sample.domain}".lower()
        manager_id = admin.pk if index == 0 else ids[(index - 1) // REPORTS_PER_MANAGER]
        # One person in fifty has no team yet; managers stay active and one in
        # twenty of the others is archived.
        team_id = position_id = None
        if rng.random() >= 0.02:
            team_id = rng.choice(sample.team_ids)
            position_id = rng.choice(positions[team_id])
        archived = index > size // REPORTS_PER_MANAGER and rng.random() < 0.05
        source = User.Source.DIRECTORY if rng.random() < 0.7 else User.Source.MANUAL
        rows.append(
            (
                pk,
                "!unusable",
                None,
                organization.pk,
                email,
                first,
                last,
                manager_id,
                team_id,
                position_id,
                User.Status.ARCHIVED if archived else User.Status.ACTIVE,
                now if archived else None,
                "Left the company" if archived else "",
                User.Role.MEMBER,
                source,
                now,
                now,
            )
        )
        sample.people.append(Person(first, last, email, team_id, not archived))
    connection.ensure_connection()
    with connection.connection.cursor() as cursor:
        with cursor.copy(f"COPY progression_user ({USER_COLUMNS}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
    return sample


def expected_count(sample: Sample, *, term: str = "", team_id=None) -> int:
    """How many active people the page should say match, computed from the data."""
    term = term.upper()
    return sum(
        1
        for person in sample.people
        if person.active
        and (team_id is None or person.team_id == team_id)
        and (
            not term
            or term in person.first_name.upper()
            or term in person.last_name.upper()
            or term in person.email.upper()
        )
    )
