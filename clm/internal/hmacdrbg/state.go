package hmacdrbg

import (
	"encoding/binary"
)

// Size is the length of a SHA-256 digest and of an HMAC-SHA256 output.
const Size = 32

// blockSize is the SHA-256 message block size in bytes (FIPS 180-4, 1).
const blockSize = 64

// stateSize is the length of crypto/sha256's binary state: the magic
// "sha\x03", the eight hash words big-endian, the 64-byte pending buffer and
// the 8-byte message length. The hash package promises that a state
// marshaled by any released version still unmarshals; newState builds
// states in that format itself, which TestStateFormat checks against what
// crypto/sha256 marshals.
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

// key is an HMAC-SHA256 key (RFC 2104) kept as the states after its two
// padded key blocks, K^ipad and K^opad.
type key struct {
	inner, outer state
}

// pads returns the key blocks K^ipad and K^opad of a 32-byte key (RFC 2104,
// steps 2 and 5: the key zero-padded to a block, XORed with the pads),
// eight bytes at a time.
func pads(k *[Size]byte) (ipad, opad [blockSize]byte) {
	const ip, op = 0x3636363636363636, 0x5c5c5c5c5c5c5c5c
	for i := 0; i < blockSize; i += 8 {
		var w uint64
		if i < Size {
			w = binary.LittleEndian.Uint64(k[i:])
		}
		binary.LittleEndian.PutUint64(ipad[i:], w^ip)
		binary.LittleEndian.PutUint64(opad[i:], w^op)
	}
	return ipad, opad
}
