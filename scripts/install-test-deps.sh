#!/usr/bin/env bash
# Installs what the test suite runs against, when it is missing:
#   influxd      InfluxDB OSS 2.7.12 built from Go modules (scripts/install-influxd.sh): Flux over
#                /api/v2, InfluxQL over its v1 endpoints
#   chromium     from Debian, for the connect-web browser tests (run headless)
#   nats-server  >= 2.11 (per-message TTL) with `go install`, into $(go env GOPATH)/bin
#   grpcurl      with `go install`, a reflection client the protocol tests drive
#   protoc-gen-go, protoc-gen-go-grpc  with `go install`, for the Go stubs (`npm run generate`)
#   protoc-gen-connect-openapi  v0.25.6 with `go install`, for the OpenAPI document (same)
# Idempotent; needs root for apt-get (as on CI and the project's machines).
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v chromium >/dev/null; then
  echo "installing Debian's chromium"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi
echo "chromium: $(chromium --version 2>/dev/null | head -n 1)"

bash scripts/install-influxd.sh

gobin="$(go env GOBIN)"
gobin="${gobin:-$(go env GOPATH)/bin}"
nats="$(command -v nats-server || echo "$gobin/nats-server")"
nats_ok() {
  [ -x "$nats" ] &&
    "$nats" --version | awk '{ split($2, v, "."); sub("v", "", v[1]); exit !(v[1] > 2 || (v[1] == 2 && v[2] >= 11)) }'
}
if ! nats_ok; then
  echo "installing nats-server v2.15.2 with go install"
  GOBIN="$gobin" go install github.com/nats-io/nats-server/v2@v2.15.2
  nats="$gobin/nats-server"
fi
echo "$("$nats" --version) at $nats"

grpcurl="$(command -v grpcurl || echo "$gobin/grpcurl")"
if [ ! -x "$grpcurl" ]; then
  echo "installing grpcurl v1.9.4 with go install"
  GOBIN="$gobin" go install github.com/fullstorydev/grpcurl/cmd/grpcurl@v1.9.4
  grpcurl="$gobin/grpcurl"
fi
echo "grpcurl: $("$grpcurl" -version 2>&1) at $grpcurl"

for plugin in google.golang.org/protobuf/cmd/protoc-gen-go@v1.36.11 \
  google.golang.org/grpc/cmd/protoc-gen-go-grpc@v1.6.0; do
  name="$(basename "${plugin%@*}")"
  if [ ! -x "$gobin/$name" ] && ! command -v "$name" >/dev/null; then
    echo "installing $plugin with go install"
    GOBIN="$gobin" go install "$plugin"
  fi
done
echo "protoc-gen-go: $(command -v protoc-gen-go || echo "$gobin/protoc-gen-go")"

# protoc-gen-connect-openapi, for openapi/muster.openapi.json (buf.gen.openapi.yaml). Built inside
# a throwaway module that requires the pinned version: `go install pkg@version` would first ask the
# module proxy for the module's version list (to check deprecation), which the proxy refuses.
openapi_plugin=github.com/sudorandom/protoc-gen-connect-openapi
openapi_version=v0.25.6
if [ ! -x "$gobin/protoc-gen-connect-openapi" ] ||
  ! go version -m "$gobin/protoc-gen-connect-openapi" | grep -q "mod.*$openapi_plugin.*$openapi_version"; then
  echo "installing $openapi_plugin@$openapi_version"
  build="$(mktemp -d)"
  (cd "$build" && go mod init openapi-plugin-build >/dev/null 2>&1 &&
    echo "require $openapi_plugin $openapi_version" >>go.mod &&
    GOFLAGS=-mod=mod GOBIN="$gobin" go install "$openapi_plugin")
  rm -rf "$build"
fi
echo "protoc-gen-connect-openapi: $(go version -m "$gobin/protoc-gen-connect-openapi" | awk '$1 == "mod" { print $3 }')"

# The Python test client's packages, in a virtual environment of the project's own.
if [ ! -x .venv/bin/python ] || ! diff -q <(.venv/bin/pip freeze | sort) <(grep -v '^#' test/python/requirements.txt | sort) >/dev/null; then
  echo "installing the Python test client's packages into .venv"
  python3 -m venv .venv
  .venv/bin/pip install --quiet --disable-pip-version-check -r test/python/requirements.txt
fi
echo "python: $(.venv/bin/python --version) in .venv"
