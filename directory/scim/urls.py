"""SCIM base URLs, one pair per directory: `/scim/v2/<id>/` and `/scim/v1/<id>/`."""

from django.urls import include, path, re_path

from directory.scim.views import endpoint

# Resource names are matched in any case ("/users" works like "/Users").
_KINDS = (
    r"(?P<kind>(?i:Users|Groups|ServiceProviderConfig|ResourceTypes|Schemas|Bulk|Me))"
)


def _patterns(version: str, *, config_alias: str | None = None):
    view = endpoint(version)
    patterns = [
        path("<uuid:public_id>/", view, {"kind": ""}, name="root"),
        re_path(rf"^(?P<public_id>[0-9a-f-]{{36}})/{_KINDS}/?$", view, name="list"),
        re_path(
            rf"^(?P<public_id>[0-9a-f-]{{36}})/{_KINDS}/(?P<action>\.search)/?$",
            view,
            name="search",
        ),
        re_path(
            rf"^(?P<public_id>[0-9a-f-]{{36}})/{_KINDS}/(?P<scim_id>[^/]+)/?$",
            view,
            name="detail",
        ),
        re_path(
            r"^(?P<public_id>[0-9a-f-]{36})/(?P<kind>\.search)/?$",
            view,
            name="root-search",
        ),
        # Anything else under a directory's base URL answers a SCIM 404.
        re_path(
            r"^(?P<public_id>[0-9a-f-]{36})/(?P<scim_id>.+)$",
            view,
            {"kind": "unknown"},
            name="unknown",
        ),
    ]
    if config_alias:
        patterns.insert(
            1,
            re_path(
                rf"^(?P<public_id>[0-9a-f-]{{36}})/{config_alias}/?$",
                view,
                {"kind": "ServiceProviderConfig"},
                name="config-alias",
            ),
        )
    return patterns


urlpatterns = [
    path("v2/", include((_patterns("v2"), "scim-v2"))),
    path(
        "v1/",
        include((_patterns("v1", config_alias="ServiceProviderConfigs"), "scim-v1")),
    ),
]
