package hmacdrbg

import (
	"crypto/sha256"
	"encoding"
	"encoding/binary"
)

// Size is the length of a SHA-256 digest and of an HMAC-SHA256 output.
const Size = 32

// blockSize is the SHA-256 message block size in bytes (FIPS 180-4, 1).
const blockSize = 64

// stateSize is the length of crypto/sha256's binary state: the magic
// "sha\x03", the eight hash words big-endian, the 64-byte pending buffer and
// the 8-byte message length. crypto/sha256 documents that it can restore a
// state it marshaled, and keeps this format stable across versions;
// TestStateFormat checks it.
const stateSize = 4 + Size + blockSize + 8

// state is a SHA-256 chaining value in crypto/sha256's binary state format,
// with nothing pending and a length of one block: the state after an HMAC
// key block (K^ipad or K^opad). Bytes 4 to 36 are the hash words
// big-endian, which are also the bytes of a digest whose padding was
// hashed: a restored state, one padded block written, then the appended
// state holds that digest at sum().
type state [stateSize]byte

// sum returns the hash words of s as bytes (FIPS 180-4, 6.2.2 step 4).
func (s *state) sum() *[Size]byte { return (*[Size]byte)(s[4 : 4+Size]) }

// newState returns a state holding the chaining value h after one block.
func newState(h *[8]uint32) state {
	var s state
	copy(s[:], "sha\x03")
	for i, w := range h {
		binary.BigEndian.PutUint32(s[4+4*i:], w)
	}
	binary.BigEndian.PutUint64(s[stateSize-8:], blockSize)
	return s
}

// compress runs the SHA-256 compression function over each whole block of
// blocks, starting from the chaining value in from, and leaves the result in
// to (which may be from). Every message here is padded by hand, so the
// digest's own length and padding are never used.
//
// The digest is made here, on each call, rather than kept: the compiler
// sees sha256.New's concrete type, calls its methods directly and keeps the
// digest on the stack, so nothing is allocated (TestNoAllocations). A
// digest passed between functions would escape to the heap.
func compress(to, from *state, blocks []byte) {
	d := sha256.New()
	if err := d.(encoding.BinaryUnmarshaler).UnmarshalBinary(from[:]); err != nil {
		panic("hmacdrbg: crypto/sha256 refused a state in its own format: " + err.Error())
	}
	d.Write(blocks)
	if out, err := d.(encoding.BinaryAppender).AppendBinary(to[:0]); err != nil || len(out) != stateSize {
		panic("hmacdrbg: crypto/sha256 changed its binary state format")
	}
}

// key is an HMAC-SHA256 key (RFC 2104) kept as the states after its two
// padded key blocks, K^ipad and K^opad.
type key struct {
	inner, outer state
}

// pads returns the key blocks K^ipad and K^opad of a 32-byte key (RFC 2104,
// steps 2 and 5: the key zero-padded to a block, XORed with the pads).
func pads(k *[Size]byte) (ipad, opad [blockSize]byte) {
	for i := range ipad {
		ipad[i], opad[i] = 0x36, 0x5c
	}
	for i, b := range k {
		ipad[i] ^= b
		opad[i] ^= b
	}
	return ipad, opad
}
