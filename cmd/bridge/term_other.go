//go:build !linux

package main

import "os"

// isTerminal reports whether f is a character device other than a pipe or
// file; off Linux this cannot tell /dev/null from a terminal, so an empty
// /dev/null there waits for input like a terminal would.
func isTerminal(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
