#!/usr/bin/env bash
# Install the Debian packages the local webshare host needs (Debian 12 / bookworm).
#
# Idempotent: packages that are already installed are left alone, and `apt-get update`
# runs at most once, only when the package lists cannot satisfy the install.
# Debian's own apache2 and ssh services are never started by this script: we run our own
# Apache and sshd instances (see up.sh), on loopback ports, with their own config files.
set -euo pipefail

PACKAGES=(
  apache2
  libapache2-mod-wsgi-py3
  openssh-server
  python3-venv
  python3-pip-whl
  python3-wheel-whl
  python3.11-dbg # /usr/bin/python3.11d: a Python that mod_wsgi was NOT built against
  curl
  # Real Flask/Django test apps (issue 13): scripts/real-wheels/build.py turns these
  # installed packages into wheels (no PyPI here). libjs-jquery: Django admin's and
  # Werkzeug's jquery.js are symlinks into it.
  python3-flask
  python3-werkzeug
  python3-jinja2
  python3-markupsafe
  python3-itsdangerous
  python3-click
  python3-django
  python3-asgiref
  python3-sqlparse
  python3-tz
  python3-yaml
  libjs-jquery
  # Shared state (issue 15): test/e2e/shared-state.test.ts starts its own PostgreSQL cluster
  # (initdb/pg_ctl from /usr/lib/postgresql/*/bin) for OpenTofu's pg backend.
  postgresql
)

log() { printf '[host/install] %s\n' "$*"; }
die() { printf '[host/install] ERROR: %s\n' "$*" >&2; exit 1; }

[[ ${EUID} -eq 0 ]] || die "must run as root (try: sudo $0)"
command -v dpkg-query >/dev/null || die "dpkg-query not found: this script supports Debian/Ubuntu only"

is_installed() {
  [[ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null || true)" == "install ok installed" ]]
}

missing=()
for pkg in "${PACKAGES[@]}"; do
  is_installed "${pkg}" || missing+=("${pkg}")
done

if ((${#missing[@]} == 0)); then
  log "all packages present"
  exit 0
fi

log "installing: ${missing[*]}"
started=${SECONDS}
export DEBIAN_FRONTEND=noninteractive

# A policy-rc.d that exits 101 tells the packages' maintainer scripts (invoke-rc.d and
# deb-systemd-invoke both honour it) not to start the services they install, so Debian's
# apache2 (port 80) and sshd (port 22) never come up behind our back. Containers often
# already have one; only create (and later remove) it when there is none.
POLICY=/usr/sbin/policy-rc.d
created_policy=0
if [[ ! -e ${POLICY} ]]; then
  printf '#!/bin/sh\n# temporary, written by webshare scripts/host/install.sh\nexit 101\n' >"${POLICY}"
  chmod 0755 "${POLICY}"
  created_policy=1
fi
cleanup() { if ((created_policy)); then rm -f "${POLICY}"; fi; }
trap cleanup EXIT

apt_install() {
  # Wait for a dpkg lock held by e.g. unattended-upgrades instead of failing at once.
  apt-get install -y -q --no-install-recommends -o DPkg::Lock::Timeout=300 \
    -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "${missing[@]}"
}

# Try with the current package lists first (fast, no network when they are fresh); on a fresh
# machine (empty lists) or with stale lists (404 on download), update once and retry.
if ! apt_install; then
  log "install failed with the current package lists; running apt-get update once"
  apt-get update -q -o DPkg::Lock::Timeout=300
  apt_install
fi

# On a machine that runs systemd, the packages enabled their units for the next boot even
# though policy-rc.d kept them from starting now. Disable (and stop, should one be running)
# the units of packages WE installed; a pre-existing sshd/apache2 is not ours to touch.
if [[ -d /run/systemd/system ]] && command -v systemctl >/dev/null; then
  for pkg in "${missing[@]}"; do
    case ${pkg} in
      apache2) systemctl disable --now apache2.service >/dev/null 2>&1 || true ;;
      openssh-server) systemctl disable --now ssh.service ssh.socket >/dev/null 2>&1 || true ;;
    esac
  done
fi

log "done in $((SECONDS - started))s"
