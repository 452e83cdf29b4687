#!/usr/bin/env bash
# Builds InfluxDB OSS 2.7.12's influxd (Flux, /api/v2, and the v1 compatibility endpoints) from the
# Go module proxy into $(go env GOPATH)/bin, when that binary is missing or another version.
# Once per machine: 7–13 minutes on 2 cores, ~3 GB of Go and cargo caches at the peak.
#   - `go install …/influxd@v2.7.12` is refused (replace directives), so the module is built in a
#     scratch copy;
#   - cgo asks pkg-config for flux; influxdata's pkg-config builds libflux with cargo;
#   - libflux pins an old Rust and denies warnings: build with stable and cap lints (the wrapper
#     reaches the build script's host build, which RUSTFLAGS does not);
#   - no `assets` tag: the UI bundle is not in the module and muster needs only the API.
set -euo pipefail

version=v2.7.12
gobin="$(go env GOBIN)"
gobin="${gobin:-$(go env GOPATH)/bin}"
target="$gobin/influxd"

if [ -x "$target" ] && "$target" version 2>/dev/null | grep -q "InfluxDB $version "; then
  echo "influxd: $("$target" version) at $target"
  exit 0
fi

echo "building influxd $version from Go modules (7–13 minutes the first time)"
module_dir="$(go mod download -json "github.com/influxdata/influxdb/v2@$version" |
  sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
[ -d "$module_dir" ] || { echo "go mod download gave no module directory" >&2; exit 1; }

scratch="$(mktemp -d)"
trap 'chmod -R u+w "$scratch" 2>/dev/null; rm -rf "$scratch"' EXIT
cp -r "$module_dir" "$scratch/influxdb"
chmod -R u+w "$scratch/influxdb"
cd "$scratch/influxdb"

pkg_config_version="$(go list -m -f '{{.Version}}' github.com/influxdata/pkg-config)"
GOBIN="$scratch/bin" go install "github.com/influxdata/pkg-config@$pkg_config_version"

cat >"$scratch/bin/rustc-cap-lints" <<'WRAP'
#!/bin/sh
exec "$@" --cap-lints warn
WRAP
chmod +x "$scratch/bin/rustc-cap-lints"

CGO_ENABLED=1 \
  PKG_CONFIG="$scratch/bin/pkg-config" \
  RUSTUP_TOOLCHAIN=stable \
  RUSTC_WORKSPACE_WRAPPER="$scratch/bin/rustc-cap-lints" \
  go build -buildvcs=false -tags sqlite_foreign_keys,sqlite_json \
  -ldflags "-X main.version=$version -X main.commit=go-module" \
  -o "$scratch/influxd" ./cmd/influxd

mkdir -p "$gobin"
install -m 0755 "$scratch/influxd" "$target"
echo "influxd: $("$target" version) at $target"
