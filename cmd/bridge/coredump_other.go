//go:build !linux

package main

// disableCoreDumps does nothing outside Linux, where the bridge is meant
// to run (its image is Linux); turn core dumps off with the system's own
// means there (ulimit -c 0).
func disableCoreDumps() error { return nil }
