#!/bin/sh
# build/static.sh OUT [PACKAGE]
#
# The one place that says how CLM Bridge's release binary is built: a
# static, position-dependent ELF with cgo (for github.com/mattn/go-sqlite3)
# linked against the C library's static archive, so it runs in a scratch or
# distroless image with nothing else in it. The Dockerfile runs this script,
# and internal/buildtest runs it too, then proves the result is static and
# runs it from an empty directory with an empty environment.
#
# Needs: go, a C compiler (gcc) and the static C library (Debian: libc6-dev,
# which the golang images carry).
#
# Tags: netgo and osusergo replace the C resolver and user lookups with Go's
# own (glibc's versions need shared libraries at run time, even when linked
# statically); sqlite_omit_load_extension drops SQLite's dlopen.
set -eu

if [ $# -lt 1 ] || [ $# -gt 2 ]; then
	echo "usage: $0 OUT [PACKAGE]   (PACKAGE defaults to ./cmd/bridge)" >&2
	exit 2
fi
out=$1
pkg=${2:-./cmd/bridge}
case $out in
/*) ;;
*) out=$(pwd)/$out ;;
esac

# Run from the module root, wherever we were called from.
cd "$(dirname "$0")/.."

# The version `bridge version`, the start-up log and /metrics report
# (internal/version): VERSION and REVISION from the environment (the
# Dockerfile's build arguments, where the build context has no .git), else
# from git. Empty is fine: the binary then reports Go's own build info.
version=${VERSION:-$(git describe --tags --always --dirty 2>/dev/null || true)}
revision=${REVISION:-$(git rev-parse HEAD 2>/dev/null || true)}
case "$version$revision" in
*[!A-Za-z0-9._+-]*)
	echo "$0: VERSION and REVISION may hold only letters, digits and . _ + -" >&2
	exit 2
	;;
esac
vpkg=github.com/clmbridge/clmbridge/internal/version

CGO_ENABLED=1 exec go build \
	-trimpath \
	-tags 'netgo osusergo sqlite_omit_load_extension' \
	-ldflags "-s -w -X $vpkg.stampedVersion=$version -X $vpkg.stampedRevision=$revision -linkmode external -extldflags -static" \
	-o "$out" \
	"$pkg"
