from django.urls import include, path

from progression import views

urlpatterns = [
    # First: identity providers call SCIM far more often than people load pages.
    path("scim/", include("directory.scim.urls")),
    path("", views.home, name="home"),
    path("signin/", views.signin, name="signin"),
    path("signin/password/", views.signin_password, name="signin-password"),
    path("signout/", views.signout, name="signout"),
    path("people/", views.people, name="people"),
    path("people/new/", views.person_new, name="person-new"),
    path("people/<int:pk>/", views.person, name="person"),
    path("people/<int:pk>/archive/", views.person_archive, name="person-archive"),
    path(
        "people/<int:pk>/reactivate/", views.person_reactivate, name="person-reactivate"
    ),
    path("teams/", views.teams, name="teams"),
    path("teams/<int:pk>/", views.team, name="team"),
    path("teams/<int:pk>/delete/", views.team_delete, name="team-delete"),
    path(
        "teams/<int:team_pk>/positions/<int:pk>/",
        views.position,
        name="position",
    ),
    path(
        "teams/<int:team_pk>/positions/<int:pk>/delete/",
        views.position_delete,
        name="position-delete",
    ),
    path("audit/", views.audit, name="audit"),
    path("sso/", include("sso.urls")),
    path("directory/", include("directory.urls")),
    path("billing/", include("billing.urls")),
]
