import csv
import io
import json

import pytest
from django.core.management import CommandError, call_command

from progression.management.commands.seed_demo import DEMO_ADMIN, DEMO_SLUG
from progression.models import Organization, Position, Team, User
from progression.services.people import user_archive
from tests.factories import (
    OrganizationFactory,
    PositionFactory,
    TeamFactory,
    UserFactory,
)


def _run(*args) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_create_organization_creates_admin_and_domains(db):
    output = _run(
        "create_organization",
        "Initech",
        "--admin-email",
        "boss@initech.example",
        "--admin-password",
        "a-long-password",
        "--domain",
        "initech.example",
        "--json",
    )

    data = json.loads(output)
    organization = Organization.objects.get(slug="initech")
    admin = User.objects.get(email="boss@initech.example")
    assert data["slug"] == "initech"
    assert data["domains"] == ["initech.example"]
    assert (admin.organization, admin.role) == (organization, User.Role.ADMIN)
    assert admin.check_password("a-long-password") is True


def test_create_organization_taken_slug_fails_and_creates_nothing(organization):
    with pytest.raises(CommandError, match="slug"):
        _run(
            "create_organization",
            "Acme Two",
            "--admin-email",
            "x@two.example",
            "--slug",
            "acme",
        )

    assert User.objects.filter(email="x@two.example").exists() is False


def test_create_organization_bad_admin_email_rolls_back(db):
    with pytest.raises(CommandError, match="valid email"):
        _run("create_organization", "Initech", "--admin-email", "nope")

    assert Organization.objects.filter(slug="initech").exists() is False


def test_import_teams_creates_teams_and_positions_once(organization, tmp_path):
    TeamFactory(organization=organization, name="Sales")
    path = tmp_path / "teams.csv"
    path.write_text(
        "team,position\nsales,Closer\nSupport,\nSupport,Agent\nSupport,agent\n"
    )

    first = json.loads(_run("import_teams", "acme", "--file", str(path), "--json"))
    second = json.loads(_run("import_teams", "acme", "--file", str(path), "--json"))

    assert first["teams_created"] == ["Support"]
    assert first["positions_created"] == ["Sales / Closer", "Support / Agent"]
    assert second["teams_created"] == second["positions_created"] == []
    assert Team.objects.filter(organization=organization).count() == 2
    assert Position.objects.filter(team__organization=organization).count() == 2


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("name,title\nSales,Closer\n", "must name the columns"),
        ("team,position\nSales,Closer\n,Orphan\n", "line 3: the team is empty"),
    ],
)
def test_import_teams_bad_file_fails_and_writes_nothing(
    organization, tmp_path, content, message
):
    path = tmp_path / "teams.csv"
    path.write_text(content)

    with pytest.raises(CommandError, match=message):
        _run("import_teams", "acme", "--file", str(path))

    assert Team.objects.filter(organization=organization).exists() is False


def test_import_teams_unknown_organization_fails(db, tmp_path):
    path = tmp_path / "teams.csv"
    path.write_text("team,position\nSales,\n")

    with pytest.raises(CommandError, match="No organisation has the slug 'nope'"):
        _run("import_teams", "nope", "--file", str(path))


def test_import_teams_missing_file_fails(organization):
    with pytest.raises(CommandError, match="no such file"):
        _run("import_teams", "acme", "--file", "/nonexistent/teams.csv")


def test_export_people_prints_every_field(organization, other_organization):
    position = PositionFactory(
        team=TeamFactory(organization=organization, name="Sales")
    )
    manager = UserFactory(organization=organization, email="boss@acme.example")
    person = UserFactory(
        organization=organization,
        email="ann@acme.example",
        first_name="Ann",
        last_name="Lee",
        team=position.team,
        position=position,
        manager=manager,
    )
    user_archive(user=person, reason="Left", actor=None)
    UserFactory(organization=other_organization, email="outsider@globex.example")

    rows = list(csv.DictReader(io.StringIO(_run("export_people", "acme"))))
    people = json.loads(_run("export_people", "acme", "--format", "json"))

    assert [row["email"] for row in rows] == ["ann@acme.example", "boss@acme.example"]
    assert rows[0] == {
        "email": "ann@acme.example",
        "first_name": "Ann",
        "last_name": "Lee",
        "status": "archived",
        "team": "Sales",
        "position": position.name,
        "manager_email": "boss@acme.example",
        "source": "manual",
    }
    assert people[1]["manager_email"] is None
    assert people[0] == {**rows[0]}


def test_export_people_demo_organization_lists_everyone(db):
    _run("seed_demo")

    rows = list(csv.DictReader(io.StringIO(_run("export_people", DEMO_SLUG))))

    organization = Organization.objects.get(slug=DEMO_SLUG)
    assert len(rows) == User.objects.filter(organization=organization).count() == 25
    assert {row["email"] for row in rows} >= {DEMO_ADMIN}
    assert sum(1 for row in rows if row["manager_email"]) == 20
    assert all(row["team"] for row in rows if row["email"] != DEMO_ADMIN)


def test_seed_demo_twice_creates_one_organization(db):
    _run("seed_demo")
    _run("seed_demo")

    assert Organization.objects.filter(slug=DEMO_SLUG).count() == 1
    assert OrganizationFactory._meta.model.objects.count() == 1
