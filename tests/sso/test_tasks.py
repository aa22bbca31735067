import datetime as dt

from django.utils import timezone

from progression.celery import app
from sso.models import IdpCertificate
from sso.services.certificates import certificate_add
from sso.services.connections import connection_create
from sso.tasks import certificates_check_expiry_task, metadata_refresh_task
from tests.peers.simplesamlphp.idp import make_keypair
from tests.sso.conftest import connect


def test_certificates_check_expiry_task_run_twice_marks_once(organization):
    connection = connection_create(
        organization=organization, provider="okta-saml", actor="operator"
    )
    certificate_add(
        connection=connection, actor="operator", pem=make_keypair("soon", days=10)[0]
    )
    certificate_add(
        connection=connection, actor="operator", pem=make_keypair("later", days=400)[0]
    )

    first = certificates_check_expiry_task.delay().get()
    second = certificates_check_expiry_task.delay().get()

    assert (first, second) == (1, 0)
    warned = IdpCertificate.objects.filter(expiry_warned_at__isnull=False)
    assert [c.not_after.date() for c in warned] == [
        (timezone.now() + dt.timedelta(days=10)).date()
    ]


def test_metadata_refresh_task_picks_up_rotated_certificate(
    transactional_db, public_base, saml_idp, entitled
):
    connection = connect(saml_idp, entitled, register=False)
    before = set(connection.certificates.values_list("fingerprint_sha256", flat=True))
    idp_cert = saml_idp.state_dir / "cert" / "idp.crt"
    original = idp_cert.read_text()
    idp_cert.write_text(saml_idp.keys["next"][0])
    try:
        refreshed = metadata_refresh_task.delay().get()
        again = metadata_refresh_task.delay().get()
    finally:
        idp_cert.write_text(original)

    after = set(connection.certificates.values_list("fingerprint_sha256", flat=True))
    assert (refreshed, again) == (1, 1)
    assert after != before
    assert len(after) == 1


def test_metadata_refresh_failure_keeps_values_and_says_why(organization, settings):
    settings.OUTBOUND_ALLOWED_HOSTS = []
    connection = connection_create(
        organization=organization, provider="okta-saml", actor="operator"
    )
    connection.metadata_url = "https://10.0.0.1/metadata"
    connection.idp_entity_id = "kept"
    connection.save()

    refreshed = metadata_refresh_task.delay().get()

    connection.refresh_from_db()
    assert refreshed == 0
    assert connection.idp_entity_id == "kept"
    assert "private network" in connection.metadata_error


def test_beat_schedule_runs_the_sso_tasks():
    tasks = {entry["task"] for entry in app.conf.beat_schedule.values()}

    assert {"sso.certificates_check_expiry", "sso.metadata_refresh"} <= tasks
    assert "progression.sessions_clear_expired" in tasks
