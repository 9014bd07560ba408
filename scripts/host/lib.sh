#!/usr/bin/env bash
# Shared settings and helpers for the local webshare host scripts (up/down/reset).
# Source it; do not run it. Everything here is overridable by environment variables so a
# second host can run beside the first (different state dir and ports).
# shellcheck disable=SC2034 # variables are used by the scripts that source this file

STATE=${WEBSHARE_HOST_DIR:-/var/tmp/webshare-host}
SSH_PORT=${WEBSHARE_SSH_PORT:-2222}
MANAGED_PORT=${WEBSHARE_MANAGED_PORT:-8080}
SELF_PORT=${WEBSHARE_SELF_PORT:-8081}
BIND=127.0.0.1

APACHE_BIN=/usr/sbin/apache2
SSHD_BIN=/usr/sbin/sshd
APACHE_MODULES=/usr/lib/apache2/modules

# The two host users: the hoster-managed webshare and the self-managed host.
MANAGED_USER=${WEBSHARE_MANAGED_USER:-wwwshare}
SELF_USER=${WEBSHARE_SELF_USER:-selfhost}
MANAGED_HOME=/home/${MANAGED_USER}
SELF_HOME=/home/${SELF_USER}

SSHD_DIR=${STATE}/sshd
SSHD_CONFIG=${SSHD_DIR}/sshd_config
SSHD_PID=${SSHD_DIR}/sshd.pid
SSHD_LOG=${SSHD_DIR}/sshd.log
HOST_KEY=${SSHD_DIR}/ssh_host_ed25519_key

MANAGED_DIR=${STATE}/managed
MANAGED_CONF=${MANAGED_DIR}/httpd.conf
MANAGED_PID=${MANAGED_DIR}/httpd.pid
MANAGED_ERROR_LOG=${MANAGED_DIR}/error.log

SELF_APACHE=${SELF_HOME}/apache
SELF_CONF=${SELF_APACHE}/httpd.conf
SELF_SITES=${SELF_APACHE}/sites
SELF_LOGS=${SELF_APACHE}/logs
SELF_RUN=${SELF_APACHE}/run
SELF_PID=${SELF_LOGS}/httpd.pid
SELF_ERROR_LOG=${SELF_LOGS}/error.log
SELF_TEST_CMD="${APACHE_BIN} -f ${SELF_CONF} -t"
SELF_RELOAD_CMD="${APACHE_BIN} -f ${SELF_CONF} -k graceful"

CLIENT_KEY=${STATE}/client_key
CLIENT_KEY_PASS=${STATE}/client_key_pass
CLIENT_PASSPHRASE="correct horse battery"
KNOWN_HOSTS=${STATE}/known_hosts

HOST_PYTHON=/usr/bin/python3          # the Python mod_wsgi is built against (3.11)
MISMATCHED_PYTHON=/usr/bin/python3.11d # same version, debug ABI: a venv from it must be refused

# Daemons start with a clean environment (like a service manager would give them), so the
# caller's environment (CI settings, PIP_*, PYTHON* variables) never leaks into mod_wsgi's
# Python or into the tests' idea of the host.
CLEAN_ENV=(env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8)

_log_tag=${_log_tag:-host}
log() { printf '[%s] %s\n' "${_log_tag}" "$*"; }
die() { printf '[%s] ERROR: %s\n' "${_log_tag}" "$*" >&2; exit 1; }

require_root() {
  [[ ${EUID} -eq 0 ]] || die "must run as root (try: sudo $0)"
}

check_port() { # NAME VALUE
  if [[ ! $2 =~ ^[0-9]+$ ]] || (($2 < 1 || $2 > 65535)); then
    die "$1 must be a TCP port, got '$2'"
  fi
}

elapsed_since() { # EPOCHREALTIME value -> seconds with one decimal
  local start=${1/[.,]/} now=${EPOCHREALTIME/[.,]/}
  local tenths=$(((now - start) / 100000))
  printf '%d.%d' $((tenths / 10)) $((tenths % 10))
}

# pid_of PIDFILE EXE: print the pid in PIDFILE if that process is alive AND runs EXE.
# Checking the executable keeps a stale pid file (reboot, crash) from making us signal an
# unrelated process that happens to reuse the pid.
pid_of() {
  local pidfile=$1 exe=$2 pid actual
  [[ -s ${pidfile} ]] || return 1
  pid=$(<"${pidfile}")
  [[ ${pid} =~ ^[0-9]+$ ]] || return 1
  actual=$(readlink "/proc/${pid}/exe" 2>/dev/null) || return 1
  # A binary replaced by a package upgrade shows as "/usr/sbin/apache2 (deleted)".
  [[ ${actual} == "${exe}" || ${actual} == "${exe} (deleted)" ]] || return 1
  printf '%s\n' "${pid}"
}

# proc_field PID N: field N (3 = state, 5 = process group) of /proc/PID/stat, read
# without procps (minimal images lack `ps`). Fields are counted after the command name,
# which is in parentheses and may itself contain spaces.
proc_field() {
  local stat rest fields
  { stat=$(<"/proc/$1/stat"); } 2>/dev/null || return 1
  rest=${stat##*) }
  read -r -a fields <<<"${rest}"
  printf '%s\n' "${fields[$(($2 - 3))]}"
}

# is_running PID: true while the process exists and is not a zombie. Our daemons are
# re-parented to PID 1, which may reap them late (in a container PID 1 is not always a real
# init), so `kill -0` alone would keep "seeing" a daemon that has already exited.
is_running() {
  local state
  state=$(proc_field "$1" 3) || return 1
  [[ -n ${state} && ${state} != Z ]]
}

# stop_daemon NAME PIDFILE EXE: SIGTERM the daemon and wait for it to exit; after a bounded
# wait, SIGKILL its process group (Apache and sshd both daemonize with setsid, so the group
# is exactly the master and its children: Apache workers and mod_wsgi daemon processes).
stop_daemon() {
  local name=$1 pidfile=$2 exe=$3 pid i t0=${EPOCHREALTIME}
  if ! pid=$(pid_of "${pidfile}" "${exe}"); then
    rm -f "${pidfile}"
    return 0
  fi
  kill -TERM "${pid}" 2>/dev/null || true
  # Apache gives mod_wsgi daemons their shutdown-timeout (5 s) to finish requests.
  for ((i = 0; i < 300; i++)); do
    is_running "${pid}" || break
    sleep 0.05
  done
  if is_running "${pid}"; then
    log "${name} (pid ${pid}) did not stop in 15s; killing its process group"
    if [[ "$(proc_field "${pid}" 5 || true)" == "${pid}" ]]; then
      kill -KILL -- "-${pid}" 2>/dev/null || true
    else
      kill -KILL "${pid}" 2>/dev/null || true
    fi
    sleep 0.2
  fi
  rm -f "${pidfile}"
  log "stopped ${name} (pid ${pid}) in $(elapsed_since "${t0}")s"
}
