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

CGO_ENABLED=1 exec go build \
	-trimpath \
	-tags 'netgo osusergo sqlite_omit_load_extension' \
	-ldflags '-s -w -linkmode external -extldflags -static' \
	-o "$out" \
	"$pkg"
