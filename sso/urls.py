from django.urls import path

from sso.views import oidc, protocol
from sso.views.portal import attempts, connections, index, oidc_setup, saml_setup

app_name = "sso"

urlpatterns = [
    # The endpoints IdPs and browsers hit on every sign-in come first, so
    # resolving them tries no admin page's pattern.
    path("saml/<str:public_id>/acs/", protocol.acs, name="saml-acs"),
    path("saml/<str:public_id>/", protocol.metadata, name="saml-metadata"),
    path("saml/<str:public_id>/login/", protocol.login, name="saml-login"),
    path("saml/<str:public_id>/slo/", protocol.single_logout, name="saml-sls"),
    path("oidc/callback/", oidc.callback, name="oidc-callback"),
    path("oidc/signed-out/", oidc.signed_out, name="oidc-signed-out"),
    path("oidc/<str:public_id>/login/", oidc.login, name="oidc-login"),
    path("oidc/<str:public_id>/jwks/", oidc.jwks, name="oidc-jwks"),
    path("", index.index, name="index"),
    path("new/", index.connection_new, name="connection-new"),
    path("policy/", index.policy, name="policy"),
    path("connections/<int:pk>/", connections.connection, name="connection"),
    path("connections/<int:pk>/idp/", saml_setup.connection_idp, name="connection-idp"),
    path(
        "connections/<int:pk>/refresh/",
        connections.connection_refresh,
        name="connection-refresh",
    ),
    path(
        "connections/<int:pk>/settings/",
        connections.connection_settings,
        name="connection-settings",
    ),
    path(
        "connections/<int:pk>/certificates/",
        saml_setup.certificate_add,
        name="certificate-add",
    ),
    path(
        "connections/<int:pk>/certificates/<int:cert_pk>/remove/",
        saml_setup.certificate_remove,
        name="certificate-remove",
    ),
    path(
        "connections/<int:pk>/keypair/",
        saml_setup.connection_keypair,
        name="connection-keypair",
    ),
    path(
        "connections/<int:pk>/test/", attempts.connection_test, name="connection-test"
    ),
    path(
        "connections/<int:pk>/tests/<int:attempt>/",
        attempts.connection_test_result,
        name="connection-test-result",
    ),
    path(
        "connections/<int:pk>/activate/",
        connections.connection_activate,
        name="connection-activate",
    ),
    path(
        "connections/<int:pk>/deactivate/",
        connections.connection_deactivate,
        name="connection-deactivate",
    ),
    path(
        "connections/<int:pk>/attempts/",
        attempts.connection_attempts,
        name="connection-attempts",
    ),
    path(
        "connections/<int:pk>/oidc/", oidc_setup.connection_oidc, name="connection-oidc"
    ),
    path(
        "connections/<int:pk>/oidc/key/",
        oidc_setup.connection_oidc_key,
        name="connection-oidc-key",
    ),
    path("routing/", index.routing_save, name="routing"),
]
