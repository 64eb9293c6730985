package hmacdrbg

import (
	"crypto/sha256"
	"encoding"
	"encoding/binary"
)

// blockSize is the SHA-256 message block size in bytes (FIPS 180-4, 1).
const blockSize = 64

// initial returns the SHA-256 initial hash value (FIPS 180-4, 5.3.3).
func initial() [8]uint32 {
	return [8]uint32{0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19}
}

// marshaledSize is the length of crypto/sha256's binary state: the magic
// "sha\x03", the eight hash words, the 64-byte pending buffer and the 8-byte
// length. The standard library keeps this format stable across versions.
const marshaledSize = 4 + 8*4 + blockSize + 8

// blockStdlib runs the SHA-256 compression function (FIPS 180-4, 6.2.2)
// over each whole 64-byte block of p, updating h. It loads h into a
// crypto/sha256 digest through that digest's binary state, so it gets the
// standard library's assembly wherever there is one, at the cost of the
// state round trip on every call.
func blockStdlib(h *[8]uint32, p []byte) {
	var st [marshaledSize]byte
	copy(st[:], "sha\x03")
	for i, w := range h {
		binary.BigEndian.PutUint32(st[4+4*i:], w)
	}
	// The buffer and length stay zero: no bytes pending.
	d := sha256.New()
	if err := d.(encoding.BinaryUnmarshaler).UnmarshalBinary(st[:]); err != nil {
		panic("hmacdrbg: crypto/sha256 refused its own state format: " + err.Error())
	}
	d.Write(p[:len(p)&^(blockSize-1)])
	out, err := d.(encoding.BinaryAppender).AppendBinary(st[:0])
	if err != nil || len(out) != marshaledSize {
		panic("hmacdrbg: crypto/sha256 state format changed")
	}
	for i := range h {
		h[i] = binary.BigEndian.Uint32(out[4+4*i:])
	}
}

// blockWordsGeneric is blockWords through the byte interface: the words
// are the block's big-endian 32-bit parts (FIPS 180-4, 5.2.1).
func blockWordsGeneric(h *[8]uint32, w *[16]uint32) {
	var b [blockSize]byte
	for i, x := range w {
		binary.BigEndian.PutUint32(b[4*i:], x)
	}
	block(h, b[:])
}
