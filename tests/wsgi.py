"""A request sent straight to the WSGI application production serves.

The test client builds its own handler from `MIDDLEWARE`; tests that must see
what `progression.wsgi.application` does (its handler per path) call it here.
"""

import io
from wsgiref.util import setup_testing_defaults


def wsgi_call(method, path, *, body=b"", query="", headers=None):
    """Send one request; return the status, the response headers and the body."""
    from progression.wsgi import application

    environ = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "HTTP_HOST": "127.0.0.1",
        "SERVER_NAME": "127.0.0.1",
        "wsgi.input": io.BytesIO(body),
        "CONTENT_LENGTH": str(len(body)),
    }
    environ.update(headers or {})
    setup_testing_defaults(environ)
    answer = {}

    def start_response(status, response_headers, exc_info=None):
        answer["status"] = int(status.split()[0])
        answer["headers"] = response_headers

    chunks = application(environ, start_response)
    try:
        content = b"".join(chunks)
    finally:
        chunks.close()
    return answer["status"], answer["headers"], content
