#!/usr/bin/env bash
# Stop the local webshare host's daemons (our sshd, the managed Apache, selfhost's Apache),
# found through their pid files. Idempotent: exits 0 when nothing runs. Leaves users, keys,
# configs, logs and deployed files in place (up.sh starts them again).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
_log_tag=host/down
# shellcheck source=lib.sh source-path=SCRIPTDIR
source "${HERE}/lib.sh"

require_root
# In parallel: each Apache takes a moment to stop its children and mod_wsgi daemons.
stop_daemon "sshd" "${SSHD_PID}" "${SSHD_BIN}" &
stop_daemon "managed Apache" "${MANAGED_PID}" "${APACHE_BIN}" &
stop_daemon "self-managed Apache" "${SELF_PID}" "${APACHE_BIN}" &
wait
