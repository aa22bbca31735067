import datetime
import json
import uuid

from progression import jsontext


def test_dumps_writes_datetimes_and_uuids():
    moment = datetime.datetime(2026, 12, 3, 17, 0, 1, 250, tzinfo=datetime.UTC)
    key = uuid.UUID("12345678-1234-5678-1234-567812345678")

    written = jsontext.dumps({"at": moment, "id": key, "n": [1, True, None]})

    assert json.loads(written) == {
        "at": "2026-12-03T17:00:01.000250+00:00",
        "id": "12345678-1234-5678-1234-567812345678",
        "n": [1, True, None],
    }


def test_dumps_writes_what_only_the_standard_library_accepts():
    value = {"big": 2**70, "nested": {1: "one"}}

    assert json.loads(jsontext.dumps(value)) == {"big": 2**70, "nested": {"1": "one"}}


def test_dumps_uses_default_for_other_objects():
    class Money:
        cents = 170000

    written = jsontext.dumps({"price": Money()}, default=lambda value: value.cents)

    assert json.loads(written) == {"price": 170000}
