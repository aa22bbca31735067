from django.urls import path

from directory import views, views_links, views_sync

app_name = "directory"

urlpatterns = [
    path("", views.index, name="index"),
    path("sync-issues/", views_links.sync_issues, name="sync-issues"),
    path("new/", views.create, name="create"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/rotate/", views.rotate, name="rotate"),
    path("<int:pk>/state/", views.state, name="state"),
    path("<int:pk>/scope/", views.scope, name="scope"),
    path("<int:pk>/requests/", views.requests_log, name="requests"),
    path("<int:pk>/users/", views.users, name="users"),
    path("<int:pk>/users/<int:user_pk>/", views.user_detail, name="user"),
    path("people/<int:person_pk>/", views.person_source, name="person-source"),
    path("hr/new/", views_sync.create, name="hr-new"),
    path("<int:pk>/credentials/", views_sync.credentials, name="hr-credentials"),
    path("<int:pk>/test/", views_sync.test, name="hr-test"),
    path("<int:pk>/groups/", views_sync.groups, name="hr-groups"),
    path("<int:pk>/activate/", views_sync.activate, name="hr-activate"),
    path("<int:pk>/schedule/", views_sync.schedule, name="hr-schedule"),
    path("<int:pk>/sync/", views_sync.sync_now, name="sync-now"),
    path("<int:pk>/syncs/<int:run_pk>/", views_sync.run_detail, name="sync-run"),
    path(
        "<int:pk>/syncs/<int:run_pk>/progress/",
        views_sync.run_progress,
        name="sync-progress",
    ),
    path(
        "<int:pk>/syncs/<int:run_pk>/approve/", views_sync.approve, name="sync-approve"
    ),
]
