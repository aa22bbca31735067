from django.urls import include, path

from progression.views import audit, home, people, signin, teams

urlpatterns = [
    # First: identity providers call SCIM far more often than people load pages.
    path("scim/", include("directory.scim.urls")),
    path("", home.home, name="home"),
    path("signin/", signin.signin, name="signin"),
    path("signin/password/", signin.signin_password, name="signin-password"),
    path("signout/", signin.signout, name="signout"),
    path("people/", people.people, name="people"),
    path("people/new/", people.person_new, name="person-new"),
    path("people/<int:pk>/", people.person, name="person"),
    path("people/<int:pk>/archive/", people.person_archive, name="person-archive"),
    path(
        "people/<int:pk>/reactivate/",
        people.person_reactivate,
        name="person-reactivate",
    ),
    path("teams/", teams.teams, name="teams"),
    path("teams/<int:pk>/", teams.team, name="team"),
    path("teams/<int:pk>/delete/", teams.team_delete, name="team-delete"),
    path(
        "teams/<int:team_pk>/positions/<int:pk>/",
        teams.position,
        name="position",
    ),
    path(
        "teams/<int:team_pk>/positions/<int:pk>/delete/",
        teams.position_delete,
        name="position-delete",
    ),
    path("audit/", audit.audit, name="audit"),
    path("sso/", include("sso.urls")),
    path("directory/", include("directory.urls")),
    path("billing/", include("billing.urls")),
]
