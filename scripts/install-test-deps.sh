#!/usr/bin/env bash
# Installs the real servers the test suite runs against, when they are missing:
#   influxd      from Debian's influxdb package (1.x: InfluxQL over the v1 HTTP API)
#   nats-server  >= 2.11 (per-message TTL) with `go install`, into $(go env GOPATH)/bin
# Idempotent; needs root for apt-get (as on CI and the project's machines).
set -euo pipefail

if ! command -v influxd >/dev/null; then
  echo "installing influxd (Debian package influxdb)"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq influxdb >/dev/null
fi
echo "influxd: $(influxd version 2>&1 | head -n 1)"

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
