//go:build race

package hmacdrbg

// raceEnabled: under the race detector crypto/sha256's AppendBinary
// allocates (an append of zeros that a normal build does in place), so
// allocation counts are not checked there.
const raceEnabled = true
