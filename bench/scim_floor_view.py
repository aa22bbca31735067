"""The floor of a SCIM create: the same write with as little Python as can be.

`floor_create` answers `POST /scim/floor/<directory>/Users` by writing what
our create writes (a person, their audit event, their directory user and the
request log entry) in the very statement our create sends, after the same
bearer-token check on the kept directory, and answers 201 with the resource.
Everything else our create does is left out: the cleaning and validation of
the document, the provisioning rules, the model instances, the projection,
the error handling. It is not a product path; `bench/scim_floor.py` serves
it to show how much of a create's cost is the write itself.

The statement is not written here: the first request of each process is
answered by our own SCIM view, and the statement it sends is taken as it
goes to the database (`connection.execute_wrapper`). The documents of the
four rows are then rebuilt for each request from those of that first one.
"""

import json
import secrets
import time
import uuid

import orjson
from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX
from django.db import connection
from django.http import HttpResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from directory.links_statements import manager_named_probe
from directory.scim.auth import authenticate_recent
from directory.scim.views import endpoint
from progression.prepared import prepared_cursor

USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"
_scim = endpoint("v2")
# The chain statement and its four row documents, as the first create sent.
_statement: dict = {}


def _capture(execute, sql, params, many, context):
    if sql.startswith('WITH "check"'):
        _statement["sql"] = sql
        _statement["documents"] = [json.loads(value) for value in params[-4:]]
    return execute(sql, params, many, context)


def _documents(body: dict, started: float, path: str) -> tuple[list[str], str, str]:
    """The four row documents for `body`, its SCIM id and its creation time."""
    person, audit, directory_user, entry = (dict(d) for d in _statement["documents"])
    email = body["userName"]
    first, last = body["name"]["givenName"], body["name"]["familyName"]
    now, scim_id = timezone.now(), str(uuid.uuid4())
    person.update(
        password=UNUSABLE_PASSWORD_PREFIX + secrets.token_urlsafe(30),
        email=email,
        first_name=first,
        last_name=last,
        created_at=now,
        updated_at=now,
    )
    audit.update(
        target_label=f"{first} {last}",
        after={
            **audit["after"],
            "email": email,
            "first_name": first,
            "last_name": last,
        },
        created_at=now,
    )
    directory_user.update(
        scim_id=scim_id,
        user_name=email,
        # As our create keeps it: the document without its schemas.
        attributes={key: value for key, value in body.items() if key != "schemas"},
        first_name=first,
        last_name=last,
        email=email,
        created_at=now,
        updated_at=now,
    )
    entry.update(
        path=path,
        duration_ms=int((time.monotonic() - started) * 1000),
        created_at=now,
    )
    documents = [
        orjson.dumps(document).decode()
        for document in (person, audit, directory_user, entry)
    ]
    return documents, scim_id, now.isoformat().replace("+00:00", "Z")


@csrf_exempt
def floor_create(request, public_id):
    started = time.monotonic()
    recent = authenticate_recent(request, public_id)
    if recent is None or "sql" not in _statement:
        # Answered by our own view: it reads and keeps the directory, and the
        # first create on a kept directory shows the statement.
        with connection.execute_wrapper(_capture):
            return _scim(request, public_id=public_id, kind="Users")
    directory, check, _ = recent
    body = orjson.loads(request.body)
    probe = manager_named_probe(
        directory_id=directory.pk, email=body["userName"], external_id=""
    )
    documents, scim_id, moment = _documents(body, started, request.path)
    with prepared_cursor() as cursor:
        cursor.execute(_statement["sql"], [*check.params, *probe.params, *documents])
        check_id, _, person_id, *_ = cursor.fetchone()
    if check_id is None or person_id is None:
        # The directory changed, or the address is taken; nothing was
        # written, and our view answers.
        return _scim(request, public_id=public_id, kind="Users")
    location = f"{request.build_absolute_uri(request.path)}/{scim_id}"
    resource = {
        "schemas": [USER_SCHEMA],
        "id": scim_id,
        **{key: value for key, value in body.items() if key != "schemas"},
        "meta": {
            "resourceType": "User",
            "created": moment,
            "lastModified": moment,
            "location": location,
        },
    }
    response = HttpResponse(
        orjson.dumps(resource), status=201, content_type="application/scim+json"
    )
    response["Location"] = location
    return response
