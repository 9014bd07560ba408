#!/usr/bin/env bash
# reset.sh USER: wipe what deploys left in USER's home, so a test starts from a clean host.
#
#   USER is wwwshare (managed) or selfhost (self-managed).
#   Kept:    ~/.ssh and the shell skeleton (.bashrc, .profile, .bash_logout);
#            for selfhost also ~/apache/httpd.conf, ~/apache/logs and ~/apache/run (the
#            running Apache's pid file, logs and mod_wsgi sockets).
#   Removed: everything else, including ~/public, ~/private and other dot entries (a stale
#            deploy lock, caches); selfhost's ~/apache/sites is emptied.
# Stops nothing. Afterwards the user's Apache gets a graceful restart, so no mod_wsgi daemon
# keeps running code (or a venv) from before the reset: selfhost's own Apache as selfhost, and
# for wwwshare the managed Apache as root (what a hoster's restart would do).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
_log_tag=host/reset
# shellcheck source=lib.sh source-path=SCRIPTDIR
source "${HERE}/lib.sh"

require_root
(($# == 1)) || die "usage: $0 ${MANAGED_USER}|${SELF_USER}"
user=$1
case ${user} in
  "${MANAGED_USER}" | "${SELF_USER}") ;;
  *) die "unknown user '${user}': expected ${MANAGED_USER} or ${SELF_USER}" ;;
esac
home=/home/${user}
[[ -d ${home} ]] || die "${home} does not exist: run scripts/host/up.sh first"

# Top-level entries of the home that survive the reset.
keep=(.ssh .bashrc .profile .bash_logout)
if [[ ${user} == "${SELF_USER}" ]]; then keep+=(apache); fi

is_kept() { # NAME
  local k
  for k in "${keep[@]}"; do [[ $1 == "${k}" ]] && return 0; done
  return 1
}

# rm -rf, tried again when it fails: the user's mod_wsgi daemons keep running while the home
# is wiped, and one that imports meanwhile writes a __pycache__ into a dir being removed
# ("Directory not empty").
remove() { # PATH
  for _ in 1 2 3 4; do
    rm -rf -- "$1" 2>/dev/null && return 0
    sleep 0.2
  done
  rm -rf -- "$1"
}

# find -mindepth 1 -maxdepth 1 lists the home's entries (dot entries too) without following
# symlinks; rm -rf on a symlink removes the link, never its target.
while IFS= read -r -d '' entry; do
  is_kept "$(basename "${entry}")" || remove "${entry}"
done < <(find "${home}" -mindepth 1 -maxdepth 1 -print0)

if [[ ${user} == "${SELF_USER}" ]]; then
  # Inside ~/apache keep only the main config, the logs and the runtime dir; empty sites/.
  while IFS= read -r -d '' entry; do
    case $(basename "${entry}") in
      httpd.conf | logs | run) ;;
      *) remove "${entry}" ;;
    esac
  done < <(find "${SELF_APACHE}" -mindepth 1 -maxdepth 1 -print0 2>/dev/null || true)
  install -d -m 0755 -o "${SELF_USER}" -g "${SELF_USER}" "${SELF_APACHE}" "${SELF_SITES}"
fi
chown "${user}:${user}" "${home}"
chmod 0711 "${home}"
log "wiped ${home} (kept: ${keep[*]})"

if [[ ${user} == "${SELF_USER}" ]]; then
  if pid_of "${SELF_PID}" "${APACHE_BIN}" >/dev/null; then
    (cd / && runuser -u "${SELF_USER}" -- "${APACHE_BIN}" -f "${SELF_CONF}" -t 2>/dev/null) ||
      die "${SELF_CONF} fails its config test after the reset; run scripts/host/up.sh"
    (cd / && runuser -u "${SELF_USER}" -- "${APACHE_BIN}" -f "${SELF_CONF}" -k graceful)
    log "reloaded ${SELF_USER}'s Apache (graceful)"
  else
    log "${SELF_USER}'s Apache is not running (scripts/host/up.sh starts it)"
  fi
else
  if pid_of "${MANAGED_PID}" "${APACHE_BIN}" >/dev/null; then
    (cd / && "${APACHE_BIN}" -f "${MANAGED_CONF}" -k graceful)
    log "reloaded the managed Apache (graceful)"
  else
    log "the managed Apache is not running (scripts/host/up.sh starts it)"
  fi
fi
