from django.contrib.messages import get_messages
from django.contrib.messages.storage.fallback import FallbackStorage
from django.test import RequestFactory

from progression.errors import ProgressionError
from progression.portal import carried_out


def _request():
    request = RequestFactory().post("/")
    request.session = {}
    request._messages = FallbackStorage(request)
    return request


def _said(request):
    return [(message.level_tag, message.message) for message in get_messages(request)]


def test_carried_out_calls_the_service_and_says_so():
    request, calls = _request(), []

    ran = carried_out(request, "Saved.", lambda **kw: calls.append(kw), name="Ada")

    assert ran is True
    assert calls == [{"name": "Ada"}]
    assert _said(request) == [("success", "Saved.")]


def test_carried_out_words_the_success_from_the_result():
    request = _request()

    carried_out(request, lambda total: f"{total} saved.", lambda: 3)

    assert _said(request) == [("success", "3 saved.")]


def test_carried_out_says_the_refusal_and_nothing_else():
    request = _request()

    def refuse():
        raise ProgressionError("Not on this plan.", code="plan")

    ran = carried_out(request, "Saved.", refuse)

    assert ran is False
    assert _said(request) == [("error", "Not on this plan.")]
