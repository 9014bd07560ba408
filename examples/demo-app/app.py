"""A tiny WSGI app (no framework) for webshare-cdktf demos and end-to-end tests.

    /        200, "Hello from the webshare demo app: greeting X.Y.Z" (from the venv's package)
    /health  200, "ok"
    /static/hello.txt is served by Apache (Alias), not by this app.

The entry point (~/public/wwwshare.wsgi) does `from app import app as application`.
`greeting` comes from the `webshare-greeting` package in the venv (see requirements.txt); it is
imported at module load, like a real app's dependencies, so a venv without it fails loudly.
"""

import greeting


def _respond(start_response, status, body):
    data = body.encode("utf-8")
    start_response(status, [
        ("Content-Type", "text/plain; charset=utf-8"),
        ("Content-Length", str(len(data))),
        ("Cache-Control", "no-store"),
    ])
    return [data]


def app(environ, start_response):
    path = environ.get("PATH_INFO") or "/"
    if path == "/health":
        return _respond(start_response, "200 OK", "ok\n")
    if path == "/":
        return _respond(start_response, "200 OK",
                        f"Hello from the webshare demo app: {greeting.message()}\n")
    return _respond(start_response, "404 Not Found", f"not found: {path}\n")
