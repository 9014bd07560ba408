#!/usr/bin/env python3
"""Smoke-run the real fixture apps in a venv built from scripts/real-wheels/build.py wheels.

    VENV/bin/python smoke-apps.py flask  test/fixtures/flask-app      [--mount /flask]
    VENV/bin/python smoke-apps.py django test/fixtures/django-project [--mount /django]

Run it with the venv's python: it imports the app the way mod_wsgi does (app dir on
sys.path, WSGI callable called with SCRIPT_NAME = the mount) and sends a few GETs through
wsgiref, no server and no network. For Django it first runs `manage.py migrate --noinput`
and `collectstatic --noinput` into a temporary DJANGO_DATA_DIR / DJANGO_STATIC_ROOT (unless
they are set), and creates one Note. Prints one line per request; exit 1 on any failure.
"""

from __future__ import annotations

import argparse
import io
import os
import subprocess
import sys
import tempfile
from wsgiref.util import setup_testing_defaults


def get(app, mount: str, path: str) -> tuple[int, str]:
    environ: dict = {}
    setup_testing_defaults(environ)
    # PATH_INFO is decoded (not %-escaped), as mod_wsgi passes it.
    environ.update(SCRIPT_NAME=mount, PATH_INFO=path, QUERY_STRING="", REQUEST_METHOD="GET",
                   HTTP_HOST="127.0.0.1", SERVER_NAME="127.0.0.1")
    environ["wsgi.errors"] = io.StringIO()
    status: list[str] = []

    def start_response(s, headers, exc_info=None):
        status.append(s)

    result = app(environ, start_response)
    try:
        body = b"".join(result).decode("utf-8", "replace")
    finally:
        if hasattr(result, "close"):
            result.close()
    return int(status[0].split()[0]), body


def check(app, mount: str, path: str, *expected: str) -> bool:
    code, body = get(app, mount, path)
    missing = [e for e in expected if e not in body]
    ok = code == 200 and not missing
    print(f"GET {mount}{path} -> {code}" + ("" if ok else f"  FAILED: missing {missing}\n{body[:2000]}"))
    return ok


def smoke_flask(app_dir: str, mount: str) -> bool:
    os.environ.setdefault("FLASK_FIXTURE_GREETING", "Howdy")
    sys.path.insert(0, app_dir)
    from app import app  # noqa: E402

    greeting = os.environ["FLASK_FIXTURE_GREETING"]
    return all([
        check(app, mount, "/", f"{greeting} from the webshare Flask fixture",
              f'href="{mount}/hello/webshare"', f'href="{mount}/static/style.css"'),
        check(app, mount, "/hello/<b>", f"{greeting}, &lt;b&gt;!"),
        check(app, mount, "/about.json", '"libyaml":true', '"markupsafe_escape":"markupsafe._speedups"',
              f'"index_url":"{mount}/"', sys.prefix),
        check(app, mount, "/static/style.css", "font-family"),
    ])


def smoke_django(app_dir: str, mount: str) -> bool:
    with tempfile.TemporaryDirectory(prefix="webshare-django-smoke-") as tmp:
        return smoke_django_in(app_dir, mount, tmp)


def smoke_django_in(app_dir: str, mount: str, tmp: str) -> bool:
    os.environ.setdefault("DJANGO_DATA_DIR", tmp)
    os.environ.setdefault("DJANGO_STATIC_ROOT", os.path.join(tmp, "static"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "notesite.settings")
    manage = [sys.executable, os.path.join(app_dir, "manage.py")]
    for command in (["migrate", "--noinput"], ["collectstatic", "--noinput"]):
        print("manage.py " + " ".join(command), flush=True)
        subprocess.run(manage + command, cwd=app_dir, check=True)
    static_css = os.path.join(os.environ["DJANGO_STATIC_ROOT"], "admin", "css", "base.css")
    if not os.path.isfile(static_css):
        print(f"collectstatic wrote no {static_css}")
        return False

    sys.path.insert(0, app_dir)
    from notesite.wsgi import application  # noqa: E402
    from notes.models import Note  # noqa: E402

    Note.objects.create(title="written by smoke-apps.py")
    return all([
        check(application, mount, "/", "written by smoke-apps.py",
              f'href="{mount}/static/admin/css/base.css"', f'href="{mount}/admin/"'),
        check(application, mount, "/admin/login/", f'action="{mount}/admin/login/"',
              f"{mount}/static/admin/css/base.css"),
    ])


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("kind", choices=["flask", "django"])
    parser.add_argument("app_dir")
    parser.add_argument("--mount", help="SCRIPT_NAME (default: /flask or /django)")
    args = parser.parse_args(argv)
    mount = args.mount or f"/{args.kind}"
    app_dir = os.path.abspath(args.app_dir)
    ok = (smoke_flask if args.kind == "flask" else smoke_django)(app_dir, mount)
    print("OK" if ok else "FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
