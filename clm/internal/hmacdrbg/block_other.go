//go:build !amd64 || purego

package hmacdrbg

// block runs the SHA-256 compression function over each whole block of p.
func block(h *[8]uint32, p []byte) { blockStdlib(h, p) }

// blockWords runs the SHA-256 compression function over one block given
// as its message words.
func blockWords(h *[8]uint32, w *[16]uint32) { blockWordsGeneric(h, w) }
