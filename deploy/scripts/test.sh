#!/usr/bin/env bash
# `make test`: start the test profile's own servers on fresh data, run every test, stop them.
# The exit code is pytest's.
set -uo pipefail
cd "$(dirname "$0")/../.."
bin=.venv/bin
infra() { "$bin/returns-infra" --profile test "$@"; }

cleanup() { infra stop >/dev/null 2>&1 || true; }
trap cleanup EXIT INT TERM

infra clean || exit 1
infra start || exit 1
# A failed `env` would leave the tests to find servers of their own: stop here instead.
servers_env=$(infra env) || exit 1
set -a
eval "$servers_env"
set +a
"$bin/pytest" "$@"
