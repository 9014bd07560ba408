#!/usr/bin/env python3
"""Turn Debian's installed python3-flask, python3-django and their dependencies into wheels.

    build.py OUTDIR [DEBIAN_PACKAGE ...]

There is no PyPI on the test machines, so the real-app tests (issue 13) install Flask and
Django from wheels made of the files Debian 12 installed (stdlib only; run it with Debian's
/usr/bin/python3). For each Debian package (default: PACKAGES below) it takes the files
`dpkg -L` lists under /usr/lib/python3/dist-packages and writes one wheel into OUTDIR:

  - name and version from the package's *.egg-info/PKG-INFO or *.dist-info/METADATA;
  - METADATA with the Requires-Dist lines of the upstream release: Debian's installed
    metadata lacks some or all of them (RESTORED_REQUIRES), so without them pip would not
    see that Flask needs Werkzeug or that Django needs asgiref;
  - tag py3-none-any, or cp311-cp311-linux_x86_64 (read from the extension modules' suffix,
    e.g. `.cpython-311-x86_64-linux-gnu.so`) when the package has C extensions;
  - entry_points.txt and top_level.txt kept, so pip writes the `flask`/`django-admin` scripts;
  - no __pycache__, no /usr/share/doc, no Debian bookkeeping (requires.txt, zip-safe, ...);
  - symlinks into other Debian packages (Django admin's and Werkzeug's jquery.js point into
    libjs-jquery) are stored as the file they point to.

The output is deterministic: sorted entries, fixed timestamps and modes, so a rebuild from
the same installed packages (and the same zlib) gives the same bytes and sha256.
Exit status: 0 built, 2 a Debian package is missing (run scripts/host/install.sh as root),
1 anything else (a message says what).
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
import stat
import subprocess
import sys
import zipfile
from typing import NoReturn

DIST_PACKAGES = "/usr/lib/python3/dist-packages/"

# Debian packages turned into wheels by default: Flask 2.2 and Django 3.2 with everything
# they need at run time on Linux (colorama is click's dependency on Windows only).
PACKAGES = [
    "python3-flask",
    "python3-werkzeug",
    "python3-jinja2",
    "python3-markupsafe",  # C extension: markupsafe._speedups
    "python3-itsdangerous",
    "python3-click",
    "python3-django",
    "python3-asgiref",
    "python3-sqlparse",
    "python3-tz",
    "python3-yaml",  # C extension: yaml._yaml (links Debian's libyaml-0.so.2)
]

# Requires-Dist lines of the upstream release that Debian's installed metadata does not
# have (its PKG-INFO has no Requires-Dist; its requires.txt lost the install requirements).
# Keyed by project name; the version prefix guards against silently using the table for
# another release line after a Debian update: then the build fails and asks to check it.
# Lines whose marker is false on Python 3.11 (importlib-metadata, typing-extensions) are
# kept, as upstream has them; pip skips them.
RESTORED_REQUIRES: dict[str, tuple[str, list[str]]] = {
    "flask": ("2.2.", [
        "Werkzeug>=2.2.2",
        "Jinja2>=3.0",
        "itsdangerous>=2.0",
        "click>=8.0",
        'importlib-metadata>=3.6.0; python_version < "3.10"',
    ]),
    "werkzeug": ("2.2.", ["MarkupSafe>=2.1.1"]),
    "jinja2": ("3.1.", ["MarkupSafe>=2.0"]),
    "click": ("8.1.", ['importlib-metadata; python_version < "3.8"']),
    "django": ("3.2.", ["asgiref<4,>=3.3.2", "pytz", "sqlparse>=0.2.2"]),
    "asgiref": ("3.6.", ['typing-extensions; python_version < "3.8"']),
}

# Metadata-dir files that are Debian/setuptools bookkeeping, not wheel content. requires.txt
# is read (its extras become Requires-Dist) but not copied; METADATA/PKG-INFO are rewritten.
SKIP_METADATA_FILES = {
    "dependency_links.txt", "not-zip-safe", "zip-safe", "requires.txt", "SOURCES.txt",
    "installed-files.txt", "PKG-INFO", "METADATA", "RECORD", "WHEEL", "INSTALLER",
    "REQUESTED", "direct_url.json",
}

EXT_SUFFIX = re.compile(r"\.cpython-(\d)(\d+)([a-z]*)-([A-Za-z0-9_]+)-linux-gnu\.so$")

# Fixed zip timestamp (the zip format cannot store anything before 1980).
EPOCH = (2020, 1, 1, 0, 0, 0)


class MissingPackage(Exception):
    pass


def fail(message: str, status: int = 1) -> NoReturn:
    print(f"real-wheels/build.py: {message}", file=sys.stderr)
    sys.exit(status)


def record_hash(data: bytes) -> str:
    digest = hashlib.sha256(data).digest()
    return "sha256=" + base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def dpkg_version(package: str) -> str:
    result = subprocess.run(
        ["dpkg-query", "-W", "-f=${Status}\t${Version}", package],
        capture_output=True, text=True, check=False,
    )
    status, _, version = result.stdout.partition("\t")
    if result.returncode != 0 or status != "install ok installed":
        raise MissingPackage(package)
    return version


def dpkg_files(package: str) -> list[str]:
    """Regular files and symlinks under dist-packages (dpkg -L also lists directories)."""
    out = subprocess.run(["dpkg", "-L", package], capture_output=True, text=True, check=True).stdout
    files = []
    for path in out.splitlines():
        if not path.startswith(DIST_PACKAGES):
            continue  # /usr/bin, /usr/share/doc, man pages, vim syntax, Debian's dist lists
        if "/__pycache__/" in path or path.endswith((".pyc", ".pyo")):
            continue
        if os.path.isdir(path) and not os.path.islink(path):
            continue
        files.append(path)
    return sorted(files)


def parse_headers(text: str) -> tuple[list[str], str]:
    """Split RFC 822 style metadata into header lines (continuations joined to their
    header line with their newline) and the body (the long description, if any)."""
    head, sep, body = text.partition("\n\n")
    headers: list[str] = []
    for line in head.split("\n"):
        if line[:1] in (" ", "\t") and headers:
            headers[-1] += "\n" + line
        elif line:
            headers.append(line)
    return headers, body if sep else ""


def requires_txt_lines(text: str) -> list[str]:
    """setuptools' requires.txt ([extra:marker] sections) as Requires-Dist values."""
    lines: list[str] = []
    extra, marker = "", ""
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("[") and line.endswith("]"):
            extra, _, marker = line[1:-1].partition(":")
            continue
        markers = [m for m in (f"({marker})" if marker and extra else marker,
                               f'extra == "{extra}"' if extra else "") if m]
        lines.append(line + ("; " + " and ".join(markers) if markers else ""))
    return lines


def requirement_key(line: str) -> tuple[str, str]:
    """(canonical project name, marker) of a Requires-Dist value: one line per pair."""
    spec, _, marker = line.partition(";")
    name = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", spec)
    return (canonical(name.group(1)) if name else spec.strip(), re.sub(r"\s+", "", marker))


def wheel_tag(files: list[str]) -> str:
    tags = set()
    for path in files:
        if path.endswith(".so"):
            m = EXT_SUFFIX.search(path)
            if not m:
                fail(f"{path}: extension module suffix not understood (expected e.g. .cpython-311-x86_64-linux-gnu.so)")
            major, minor, flags, arch = m.groups()
            tags.add(f"cp{major}{minor}-cp{major}{minor}{flags}-linux_{arch}")
    if len(tags) > 1:
        fail(f"extension modules for more than one interpreter: {sorted(tags)}")
    return tags.pop() if tags else "py3-none-any"


def build_wheel(package: str, outdir: str) -> str:
    deb_version = dpkg_version(package)
    files = dpkg_files(package)
    meta_dirs = sorted({p[len(DIST_PACKAGES):].split("/")[0] for p in files
                        if re.search(r"\.(egg|dist)-info$", p[len(DIST_PACKAGES):].split("/")[0])})
    if len(meta_dirs) != 1:
        fail(f"{package}: expected one *.egg-info or *.dist-info dir under {DIST_PACKAGES}, found {meta_dirs or 'none'}")
    meta_dir = DIST_PACKAGES + meta_dirs[0]
    meta_file = os.path.join(meta_dir, "PKG-INFO" if meta_dir.endswith(".egg-info") else "METADATA")
    with open(meta_file, encoding="utf-8") as f:
        headers, body = parse_headers(f.read())
    fields = {h.split(":", 1)[0].lower(): h.split(":", 1)[1].strip() for h in headers if ":" in h}
    name, version = fields.get("name"), fields.get("version")
    if not name or not version:
        fail(f"{meta_file}: no Name or Version")

    # Requires-Dist: what the installed metadata has, plus requires.txt (extras), plus the
    # upstream lines Debian dropped; one line per (project, marker).
    requires = [h.split(":", 1)[1].strip() for h in headers if h.lower().startswith("requires-dist:")]
    restored = RESTORED_REQUIRES.get(canonical(name))
    if restored:
        prefix, lines = restored
        if not version.startswith(prefix):
            fail(f"{package} installs {name} {version}, but RESTORED_REQUIRES in {__file__} was written "
                 f"for {name} {prefix}*: check the upstream Requires-Dist of {version} and update the table")
        requires += lines
    requires_txt = os.path.join(meta_dir, "requires.txt")
    if os.path.exists(requires_txt):
        with open(requires_txt, encoding="utf-8") as f:
            requires += requires_txt_lines(f.read())
    seen: set[tuple[str, str]] = set()
    unique = []
    for line in requires:
        if requirement_key(line) not in seen:
            seen.add(requirement_key(line))
            unique.append(line)
    headers = [h for h in headers if not h.lower().startswith("requires-dist:")]
    headers += [f"Requires-Dist: {line}" for line in unique]
    metadata = "\n".join(headers) + "\n" + ("\n" + body if body else "")

    tag = wheel_tag(files)
    dist_name = re.sub(r"[-_.]+", "_", name).lower()
    dist_info = f"{dist_name}-{version}.dist-info"
    wheel = (
        "Wheel-Version: 1.0\n"
        f"Generator: webshare scripts/real-wheels/build.py (Debian {package} {deb_version})\n"
        f"Root-Is-Purelib: {'true' if tag == 'py3-none-any' else 'false'}\n"
        f"Tag: {tag}\n"
    )

    entries: list[tuple[str, bytes, int]] = []  # (arcname, data, mode)
    meta_entries: list[tuple[str, bytes, int]] = []
    for path in files:
        rel = path[len(DIST_PACKAGES):]
        if path.startswith(meta_dir + "/"):
            base = rel.split("/", 1)[1]
            if base in SKIP_METADATA_FILES:
                continue
            target = meta_entries
            rel = f"{dist_info}/{base}"
        else:
            target = entries
        if not os.path.exists(path):
            fail(f"{path} (from {package}) is a dangling symlink to {os.readlink(path)}: "
                 "install the package that provides it (run scripts/host/install.sh)")
        with open(path, "rb") as f:
            data = f.read()
        mode = 0o755 if os.stat(path).st_mode & stat.S_IXUSR else 0o644
        target.append((rel, data, mode))
    meta_entries += [
        (f"{dist_info}/METADATA", metadata.encode("utf-8"), 0o644),
        (f"{dist_info}/WHEEL", wheel.encode("utf-8"), 0o644),
    ]
    content = sorted(entries) + sorted(meta_entries)
    record = "".join(f"{arc},{record_hash(data)},{len(data)}\n" for arc, data, _ in content)
    record += f"{dist_info}/RECORD,,\n"
    content.append((f"{dist_info}/RECORD", record.encode("utf-8"), 0o644))

    filename = f"{dist_name}-{version}-{tag}.whl"
    out = os.path.join(outdir, filename)
    tmp = f"{out}.tmp{os.getpid()}"
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for arcname, data, mode in content:
            info = zipfile.ZipInfo(arcname, date_time=EPOCH)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3  # Unix, whatever the platform default is
            info.external_attr = (stat.S_IFREG | mode) << 16
            zf.writestr(info, data)
    os.replace(tmp, out)  # never leave a half-written wheel for pip to find
    return out


def main(argv: list[str]) -> int:
    if not argv or argv[0] in ("-h", "--help"):
        print(__doc__)
        return 0 if argv else 1
    outdir, packages = argv[0], argv[1:] or PACKAGES
    missing = []
    for package in packages:
        try:
            dpkg_version(package)
        except MissingPackage:
            missing.append(package)
    if missing:
        fail(f"Debian package(s) not installed: {' '.join(missing)}. "
             "Run scripts/host/install.sh as root (it installs them), then build again.", 2)
    os.makedirs(outdir, exist_ok=True)
    for package in packages:
        path = build_wheel(package, outdir)
        print(f"{path} ({os.path.getsize(path)} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
