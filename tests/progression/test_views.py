import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from progression import signin as signin_registry
from progression.access import ADMINS_ONLY
from progression.models import AuditEvent, Position, Team, User
from progression.services.messages import EMAIL_TAKEN, TEAM_NAME_TAKEN
from progression.services.people import user_archive
from progression.services.teams import team_create
from progression.views.people import MANAGER_NOT_FOUND
from progression.views.signin import SIGNIN_FAILED, SSO_REQUIRED
from tests.factories import (
    PASSWORD,
    AdminFactory,
    PositionFactory,
    TeamFactory,
    UserFactory,
)


def test_home_anonymous_redirects_to_signin(client):
    response = client.get("/")

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("signin"))


def test_home_admin_sees_dashboard(admin_client, organization):
    UserFactory(organization=organization)

    response = admin_client.get("/")

    assert response.status_code == 200
    assert response.context["counts"]["active"] == 2


def test_home_member_sees_own_profile(member_client, member):
    response = member_client.get("/")

    assert response.status_code == 200
    assert response.context["person"] == member
    assert "form" not in response.context


def test_signin_email_without_sso_goes_to_password_form(client, admin):
    response = client.post(reverse("signin"), {"email": admin.email})

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("signin-password"))


def test_signin_email_with_discoverer_goes_there(client, admin, monkeypatch):
    monkeypatch.setattr(
        signin_registry, "_discoverers", [lambda request, email: "/sso/start/"]
    )

    response = client.post(reverse("signin"), {"email": admin.email})

    assert response["Location"] == "/sso/start/"


def test_signin_password_right_password_signs_in(client, admin):
    response = client.post(
        reverse("signin-password"),
        {"email": "ADMIN@acme.example", "password": PASSWORD},
    )

    assert response.status_code == 302
    assert response["Location"] == reverse("home")
    assert client.get("/").context["user"] == admin


def test_signin_password_wrong_password_refused(client, admin):
    response = client.post(
        reverse("signin-password"), {"email": admin.email, "password": "wrong"}
    )

    assert response.status_code == 401
    assert response.context["error"] == SIGNIN_FAILED


def test_signin_password_archived_person_refused(client, organization, admin):
    person = UserFactory(organization=organization)
    user_archive(user=person, reason="Left", actor=admin)

    response = client.post(
        reverse("signin-password"), {"email": person.email, "password": PASSWORD}
    )

    assert response.status_code == 401
    assert response.context["error"] == SIGNIN_FAILED


def test_signin_password_next_to_other_site_ignored(client, admin):
    response = client.post(
        reverse("signin-password"),
        {"email": admin.email, "password": PASSWORD, "next": "https://evil.example/"},
    )

    assert response["Location"] == reverse("home")


def test_session_of_archived_person_stops_working(client, organization, admin):
    person = UserFactory(organization=organization)
    client.force_login(person)
    user_archive(user=person, reason="Left", actor=admin)

    response = client.get("/")

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("signin"))


def test_signout_ends_session(admin_client):
    admin_client.post(reverse("signout"))

    assert admin_client.get("/").status_code == 302


def test_people_search_finds_by_name_and_email(admin_client, organization):
    UserFactory(organization=organization, first_name="Zora", last_name="Neale")
    UserFactory(organization=organization, email="zebra@acme.example")
    UserFactory(organization=organization, first_name="Other", last_name="Person")

    by_name = admin_client.get(reverse("people"), {"q": "zora ne"})
    by_email = admin_client.get(reverse("people"), {"q": "ZEBRA"})

    assert [p.first_name for p in by_name.context["page"]] == ["Zora"]
    assert [p.email for p in by_email.context["page"]] == ["zebra@acme.example"]


def test_people_filters_by_status_and_team(admin_client, organization, admin):
    team = TeamFactory(organization=organization)
    in_team = UserFactory(organization=organization, team=team)
    archived = UserFactory(organization=organization, team=team)
    user_archive(user=archived, reason="", actor=admin)

    active = admin_client.get(reverse("people"), {"team": team.pk})
    gone = admin_client.get(reverse("people"), {"team": team.pk, "status": "archived"})

    assert list(active.context["page"]) == [in_team]
    assert list(gone.context["page"]) == [archived]


def test_people_never_lists_other_organization(admin_client, other_organization):
    UserFactory(organization=other_organization, first_name="Outsider")

    response = admin_client.get(reverse("people"), {"status": "all"})

    assert all(
        p.organization_id != other_organization.pk for p in response.context["page"]
    )
    assert "Outsider" not in response.content.decode()


def test_people_team_filter_of_other_organization_shows_nobody(
    admin_client, other_organization
):
    foreign_team = TeamFactory(organization=other_organization)
    UserFactory(organization=other_organization, team=foreign_team)

    response = admin_client.get(reverse("people"), {"team": foreign_team.pk})

    assert list(response.context["page"]) == []


def test_people_query_count_does_not_grow_with_people(
    admin_client, organization, django_assert_max_num_queries
):
    team = TeamFactory(organization=organization)
    UserFactory.create_batch(3, organization=organization, team=team)
    with CaptureQueriesContext(connection) as small:
        admin_client.get(reverse("people"))
    UserFactory.create_batch(60, organization=organization, team=team)

    with django_assert_max_num_queries(len(small.captured_queries)):
        response = admin_client.get(reverse("people"))

    assert response.context["page"].paginator.count == 64


def test_people_member_refused(member_client):
    response = member_client.get(reverse("people"))

    assert response.status_code == 403
    assert response.context["message"] == ADMINS_ONLY


def test_person_new_creates_person(admin_client, organization):
    team = TeamFactory(organization=organization)
    position = PositionFactory(team=team)
    manager = UserFactory(organization=organization)

    response = admin_client.post(
        reverse("person-new"),
        {
            "first_name": "Nia",
            "last_name": "Long",
            "email": "nia@acme.example",
            "role": "member",
            "team": team.pk,
            "position": position.pk,
            "manager_email": manager.email.upper(),
        },
    )

    person = User.objects.get(email="nia@acme.example")
    assert response.status_code == 302
    assert (person.team, person.position, person.manager) == (team, position, manager)


def test_person_new_manager_of_other_organization_refused(
    admin_client, other_organization
):
    outsider = UserFactory(organization=other_organization)

    response = admin_client.post(
        reverse("person-new"),
        {
            "email": "nia@acme.example",
            "role": "member",
            "manager_email": outsider.email,
        },
    )

    assert response.status_code == 200
    assert MANAGER_NOT_FOUND in response.context["form"].errors["manager_email"]
    assert User.objects.filter(email="nia@acme.example").exists() is False


def test_person_new_position_of_other_organization_refused(
    admin_client, organization, other_organization
):
    team = TeamFactory(organization=organization)
    foreign_position = PositionFactory(
        team=TeamFactory(organization=other_organization)
    )

    response = admin_client.post(
        reverse("person-new"),
        {
            "email": "nia@acme.example",
            "role": "member",
            "team": team.pk,
            "position": foreign_position.pk,
        },
    )

    assert response.status_code == 200
    assert response.context["form"].errors
    assert User.objects.filter(email="nia@acme.example").exists() is False


def test_person_update_moves_team(admin_client, organization, member):
    team = TeamFactory(organization=organization)

    response = admin_client.post(
        reverse("person", args=[member.pk]),
        {
            "first_name": member.first_name,
            "last_name": member.last_name,
            "email": member.email,
            "role": "member",
            "team": team.pk,
        },
    )

    member.refresh_from_db()
    assert response.status_code == 302
    assert member.team == team


def test_person_update_duplicate_email_refused(admin_client, member, admin):
    response = admin_client.post(
        reverse("person", args=[member.pk]),
        {"email": admin.email, "role": "member"},
    )

    member.refresh_from_db()
    assert response.status_code == 400
    assert EMAIL_TAKEN in response.context["form"].non_field_errors()
    assert member.email == "member@acme.example"


def test_person_archive_and_reactivate(admin_client, member):
    admin_client.post(reverse("person-archive", args=[member.pk]), {"reason": "Left"})
    member.refresh_from_db()
    assert (member.status, member.archived_reason) == ("archived", "Left")

    admin_client.post(reverse("person-reactivate", args=[member.pk]))
    member.refresh_from_db()
    assert member.status == "active"


def test_person_member_sees_only_own_profile(member_client, member, organization):
    colleague = UserFactory(organization=organization)

    own = member_client.get(reverse("person", args=[member.pk]))
    other = member_client.get(reverse("person", args=[colleague.pk]))

    assert own.status_code == 200
    assert other.status_code == 404


def test_person_member_cannot_edit_own_profile(member_client, member):
    response = member_client.post(
        reverse("person", args=[member.pk]), {"email": member.email, "role": "admin"}
    )

    member.refresh_from_db()
    assert response.status_code == 404
    assert member.role == "member"


def test_teams_create_and_duplicate_refused(admin_client, organization):
    admin_client.post(reverse("teams"), {"name": "Sales"})

    response = admin_client.post(reverse("teams"), {"name": " sales "})

    assert response.status_code == 400
    assert TEAM_NAME_TAKEN in response.context["form"].errors["name"]
    assert Team.objects.filter(organization=organization).count() == 1


def test_team_rename_and_add_position(admin_client, organization):
    team = TeamFactory(organization=organization, name="Sales")

    admin_client.post(
        reverse("team", args=[team.pk]), {"action": "rename", "rename-name": "Revenue"}
    )
    admin_client.post(
        reverse("team", args=[team.pk]),
        {"action": "position", "position-name": "Closer"},
    )

    team.refresh_from_db()
    assert team.name == "Revenue"
    assert list(team.positions.values_list("name", flat=True)) == ["Closer"]


def test_team_position_rename_and_delete(admin_client, organization):
    position = PositionFactory(team=TeamFactory(organization=organization))
    team_pk = position.team_id

    admin_client.post(
        reverse("position", args=[team_pk, position.pk]), {"name": "Renamed"}
    )
    position.refresh_from_db()
    assert position.name == "Renamed"

    admin_client.post(reverse("position-delete", args=[team_pk, position.pk]))
    assert Position.objects.filter(pk=position.pk).exists() is False


def test_team_delete(admin_client, organization):
    team = TeamFactory(organization=organization)

    response = admin_client.post(reverse("team-delete", args=[team.pk]))

    assert response.status_code == 302
    assert Team.objects.filter(pk=team.pk).exists() is False


def test_audit_lists_own_organization_events(admin_client, organization, admin):
    team_create(organization=organization, name="Sales", actor=admin)

    response = admin_client.get(reverse("audit"))

    events = list(response.context["page"])
    assert [e.action for e in events] == ["team.created"]
    assert events[0].actor_label == admin.email


def test_audit_never_lists_other_organization(admin_client, other_organization):
    team_create(organization=other_organization, name="Secret", actor=None)

    response = admin_client.get(reverse("audit"))

    assert list(response.context["page"]) == []
    assert AuditEvent.objects.filter(organization=other_organization).count() == 1


@pytest.fixture
def foreign(other_organization):
    """One object of each kind, all in another organisation."""
    team = TeamFactory(organization=other_organization)
    return {
        "person": UserFactory(organization=other_organization),
        "team": team,
        "position": PositionFactory(team=team),
    }


@pytest.mark.parametrize(
    ("method", "url_name", "args"),
    [
        ("get", "person", lambda f: [f["person"].pk]),
        ("post", "person", lambda f: [f["person"].pk]),
        ("post", "person-archive", lambda f: [f["person"].pk]),
        ("post", "person-reactivate", lambda f: [f["person"].pk]),
        ("get", "team", lambda f: [f["team"].pk]),
        ("post", "team", lambda f: [f["team"].pk]),
        ("post", "team-delete", lambda f: [f["team"].pk]),
        ("post", "position", lambda f: [f["team"].pk, f["position"].pk]),
        ("post", "position-delete", lambda f: [f["team"].pk, f["position"].pk]),
    ],
)
def test_pages_of_other_organization_answer_404(
    admin_client, foreign, method, url_name, args
):
    url = reverse(url_name, args=args(foreign))
    before = list(AuditEvent.objects.values_list("id", flat=True))

    response = getattr(admin_client, method)(
        url, {"name": "Hijacked", "action": "rename", "rename-name": "Hijacked"}
    )

    assert response.status_code == 404
    assert list(AuditEvent.objects.values_list("id", flat=True)) == before
    foreign["team"].refresh_from_db()
    foreign["person"].refresh_from_db()
    assert foreign["team"].name != "Hijacked"
    assert foreign["person"].status == "active"


def test_position_of_own_team_id_with_foreign_position_answers_404(
    admin_client, organization, foreign
):
    own_team = TeamFactory(organization=organization)

    response = admin_client.post(
        reverse("position-delete", args=[own_team.pk, foreign["position"].pk])
    )

    assert response.status_code == 404
    assert Position.objects.filter(pk=foreign["position"].pk).exists() is True


@pytest.mark.parametrize(
    "url_name",
    ["people", "person-new", "teams", "audit", "sso:index", "directory:index"],
)
def test_admin_pages_refuse_members(member_client, url_name):
    response = member_client.get(reverse(url_name))

    assert response.status_code == 403


@pytest.mark.parametrize(
    "url_name", ["people", "teams", "audit", "sso:index", "directory:index"]
)
def test_admin_pages_show_only_own_organization_name(
    admin_client, other_organization, url_name
):
    AdminFactory(organization=other_organization)

    response = admin_client.get(reverse(url_name))

    assert response.status_code == 200
    assert other_organization.name not in response.content.decode()


def test_person_from_directory_links_to_directory_record(admin_client, organization):
    person = UserFactory(organization=organization, source=User.Source.DIRECTORY)

    response = admin_client.get(reverse("person", args=[person.pk]))

    assert (
        reverse("directory:person-source", args=[person.pk])
        in response.content.decode()
    )


def test_signin_password_refused_by_policy_says_why(client, member, monkeypatch):
    monkeypatch.setattr(
        signin_registry, "_password_policies", [lambda user: user.is_admin]
    )

    response = client.post(
        reverse("signin-password"), {"email": member.email, "password": PASSWORD}
    )

    assert response.status_code == 401
    assert response.context["error"] == SSO_REQUIRED
    assert client.get("/").status_code == 302


def test_signin_password_allowed_by_policy_signs_in(client, admin, monkeypatch):
    monkeypatch.setattr(
        signin_registry, "_password_policies", [lambda user: user.is_admin]
    )

    response = client.post(
        reverse("signin-password"), {"email": admin.email, "password": PASSWORD}
    )

    assert response.status_code == 302
