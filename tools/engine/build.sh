#!/usr/bin/env bash
# make engine: build the pinned Pulumi CLI (go.mod here), YAML language host (yaml/go.mod) and our SDK generator
# (cmd/bird-gen-sdk, Pulumi's code generators of the same pin) into a cache outside the clone, beside our own small
# plugins (bin/), and print the directory that holds them.
#
#   tools/engine/build.sh            build what is not current; the last line of output is the bin directory
#   tools/engine/build.sh --print    print the bin directory only (build nothing)
#
# The cache is keyed by the pinned versions and a hash of the go.mod and go.sum files and cmd/'s sources, so a fresh
# clone on the same machine reuses it: ${PULUMI_BIRD_ENGINE_CACHE:-$HOME/.cache/pulumi-bird/engine}/<key>/bin.
# GOMODCACHE and GOCACHE stay Go's own (outside the clone too), so a changed pin recompiles only what changed.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cache="${PULUMI_BIRD_ENGINE_CACHE:-$HOME/.cache/pulumi-bird/engine}"
pin() { sed -n "s|^[[:space:]]*$2 \(v[^ ]*\).*|\1|p" "$1" | head -n 1; }
cli_version="$(pin "$here/go.mod" github.com/pulumi/pulumi/pkg/v3)"
yaml_version="$(pin "$here/yaml/go.mod" github.com/pulumi/pulumi-yaml)"
digest="$(cat "$here/go.mod" "$here/go.sum" "$here/yaml/go.mod" "$here/yaml/go.sum" "$here"/cmd/*/*.go \
  | sha256sum | cut -c1-12)"
bin="$cache/pulumi-$cli_version-yaml-$yaml_version-$digest/bin"
if [ "${1:-}" = "--print" ]; then
  echo "$bin"
  exit 0
fi

# build MODULE_DIR PACKAGE LDFLAGS: `go build -v` names each package as it compiles; print a count every 100, and
# any line that is not a package name (an error names a file and line).
build() {
  local started=$SECONDS n=0 line
  (cd "$1" && GOFLAGS=-mod=readonly go build -v -ldflags "$3" -o "$bin.partial/" "$2") 2>&1 | while IFS= read -r line; do
    case "$line" in
      *[:\ ]*) echo "$line" ;;
      *) n=$((n + 1)); [ $((n % 100)) -ne 0 ] || echo "engine: $(basename "$2"): $n packages compiled ($((SECONDS - started)) s)" ;;
    esac
  done >&2
}

if [ -x "$bin/pulumi" ] && [ -x "$bin/pulumi-language-yaml" ] && [ -x "$bin/bird-gen-sdk" ]; then
  echo "engine: pulumi $cli_version and pulumi-language-yaml $yaml_version are current in $bin" >&2
else
  command -v go >/dev/null || { echo "engine: Go is needed to build the Pulumi CLI (https://go.dev/doc/install)" >&2; exit 1; }
  echo "engine: building pulumi $cli_version and pulumi-language-yaml $yaml_version with $(go version | cut -d' ' -f3)" >&2
  echo "engine: a first build downloads ~1.5 GB of modules and compiles for 10 minutes or more on 2 cores" >&2
  started=$SECONDS
  rm -rf "$bin.partial" && mkdir -p "$bin.partial"
  # The versions the binaries report (`pulumi version`) are stamped by the linker, as Pulumi's release builds do.
  build "$here" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi \
    "-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$cli_version"
  build "$here/yaml" github.com/pulumi/pulumi-yaml/cmd/pulumi-language-yaml \
    "-X github.com/pulumi/pulumi-yaml/pkg/version.Version=$yaml_version"
  build "$here" ./cmd/bird-gen-sdk ""
  [ -x "$bin.partial/pulumi" ] && [ -x "$bin.partial/pulumi-language-yaml" ] && [ -x "$bin.partial/bird-gen-sdk" ] \
    || { echo "engine: the build failed (see above)" >&2; exit 1; }
  rm -rf "$bin" && mv "$bin.partial" "$bin"
  echo "engine: built in $((SECONDS - started)) s into $bin" >&2
fi
# Our own plugins, copied on every run (they are small and change with the repository, not with the pin).
cp "$here"/bin/* "$bin/"
echo "$bin"
