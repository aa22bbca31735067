from django.urls import path

from directory import views

app_name = "directory"

urlpatterns = [
    path("", views.index, name="index"),
    path("new/", views.create, name="create"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/rotate/", views.rotate, name="rotate"),
    path("<int:pk>/state/", views.state, name="state"),
    path("<int:pk>/scope/", views.scope, name="scope"),
    path("<int:pk>/requests/", views.requests_log, name="requests"),
    path("<int:pk>/users/", views.users, name="users"),
    path("<int:pk>/users/<int:user_pk>/", views.user_detail, name="user"),
    path("people/<int:person_pk>/", views.person_source, name="person-source"),
]
