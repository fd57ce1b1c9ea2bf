#!/usr/bin/env bash
# `make lock`: compile every lock file with uv (exact versions and sha256 hashes of every
# third-party Python dependency). The local packages (contracts, services, deploy, tools) are
# never locked: make installs them editable, the images build them from the checkout.
#   deploy/scripts/lock.sh            keep the versions already locked, add what is new
#   deploy/scripts/lock.sh --upgrade  take the newest versions the lower bounds allow
set -euo pipefail
cd "$(dirname "$0")/../.."
uv=${UV:-.venv/bin/uv}
upgrade=()
[[ "${1:-}" == "--upgrade" ]] && upgrade=(--upgrade)

local_packages=(returns-contracts returns-declaration returns-media returns-notifier
  returns-labels returns-infra returns-admin returns-bench)
no_emit=()
for package in "${local_packages[@]}"; do no_emit+=(--no-emit-package "$package"); done

compile() { # output, inputs...
  local output=$1
  shift
  "$uv" pip compile --quiet --universal --python-version 3.11 --generate-hashes \
    --no-header --annotation-style line "${upgrade[@]}" "${no_emit[@]}" -o "$output" "$@"
}

# The development virtualenv (make venv, CI): every package and every tool.
compile requirements.lock requirements-dev.txt
# Each image: its service's runtime dependencies only, at the versions of the development lock,
# so that the tests run what the images ship.
for service in declaration media notifier labels; do
  printf -- '-e ./contracts[service]\n-e ./services/%s\n' "$service" >".lock-$service.in"
  compile "deploy/docker/$service.lock" ".lock-$service.in" -c requirements.lock
  rm -f ".lock-$service.in"
done
# The images' build stage: the build backend of the local packages.
printf 'hatchling>=1.25\n' >.lock-build.in
compile deploy/docker/build.lock .lock-build.in -c requirements.lock
rm -f .lock-build.in
echo "==> locked: requirements.lock, deploy/docker/{declaration,media,notifier,labels,build}.lock"
