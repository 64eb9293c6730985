// Package buildtest holds no code: its tests build the release binary with
// build/static.sh (the same script the Dockerfile runs), prove the result
// is statically linked, and run it the way a container does, from an empty
// directory with an empty environment, checking `bridge healthcheck`.
//
// The build takes a minute or two on a cold cache (SQLite's C code), so it
// is skipped under `go test -short`.
package buildtest
