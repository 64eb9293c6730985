package hmacdrbg

import (
	"crypto/subtle"
	"encoding/binary"
)

// Stream is the CLM 2.0.2 keystream (docs/PROTOCOL.md, Sending step 4): the
// instantiate step of HMAC-DRBG (SP 800-90A, 10.1.2.2 and 10.1.2.3, with the
// seed as the only input) followed by repeated V = HMAC(K, V). Unlike
// SP 800-90A there is no update step after generating; 2.0.2 does not have
// one and pointers would not open if this added it.
type Stream struct {
	k key
	// blk is the block hashed after a key block for an HMAC of a 32-byte
	// message: the message (V, or an inner digest) then its padding
	// (FIPS 180-4, 5.1.1: a 1 bit, zeros, the bit length of 96 bytes),
	// which is set once. Between MACs blk[:Size] holds V, the current
	// keystream block.
	blk [blockSize]byte
	tmp state // scratch for the inner digest
	off int   // bytes of V already used
}

// initial returns the SHA-256 initial hash value (FIPS 180-4, 5.3.3).
func initial() state {
	return newState(&[8]uint32{0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19})
}

// zeroKey returns the key states of the all-zero 32-byte key the DRBG
// starts with: the chaining values after 0x36 * 64 and 0x5c * 64. They are
// constants, so every stream saves two compressions; TestZeroKey recomputes
// them.
func zeroKey() key {
	return key{
		inner: newState(&[8]uint32{0xf454dead, 0x9725214f, 0x90daf2a0, 0xdf1228ea, 0x64e5750f, 0xa3924181, 0x824a932b, 0xf8e04e32}),
		outer: newState(&[8]uint32{0xd385480f, 0x7abb6477, 0x37c9c538, 0x5dd82467, 0x8e043a72, 0x753434b0, 0xdeb82818, 0x361d45a6}),
	}
}

// pad32 sets the padding of a block that holds a 32-byte message following
// one key block: both the inner and the outer hash of an HMAC of a 32-byte
// message have this shape, 96 bytes in all.
func pad32(b *[blockSize]byte) {
	b[Size] = 0x80
	binary.BigEndian.PutUint64(b[blockSize-8:], (blockSize+Size)*8)
}

// NewStream starts the keystream for seed, which is
// SHA256(secret "_" epoch "_" nonce) (Sending step 3).
func NewStream(seed *[Size]byte) Stream {
	// K = 0x00 * 32, V = 0x01 * 32
	s := Stream{k: zeroKey(), off: Size}
	pad32(&s.blk)
	for i := range Size {
		s.blk[i] = 0x01
	}
	// The inner message of each reseed is V || b || seed after the key
	// block: 129 bytes, which pads to exactly two blocks. Everything but V
	// and b is the same both times.
	var msg [2 * blockSize]byte
	copy(msg[Size+1:], seed[:])
	msg[2*Size+1] = 0x80
	binary.BigEndian.PutUint64(msg[len(msg)-8:], (blockSize+2*Size+1)*8)
	// K = HMAC(K, V || 0x00 || seed); V = HMAC(K, V)
	s.reseed(0x00, &msg)
	// K = HMAC(K, V || 0x01 || seed); V = HMAC(K, V)
	s.reseed(0x01, &msg)
	clear(msg[Size+1 : 2*Size+1]) // the seed
	s.off = Size                  // V after instantiating is not output
	return s
}

// reseed is one half of the HMAC-DRBG update function (SP 800-90A,
// 10.1.2.2): K = HMAC(K, V || b || seed); V = HMAC(K, V). msg holds the
// padded inner message with the seed in place.
func (s *Stream) reseed(b byte, msg *[2 * blockSize]byte) {
	copy(msg[:Size], s.blk[:Size])
	msg[Size] = b
	s.mac(msg[:])
	// The new K, and its key blocks hashed once for every MAC under it.
	ipad, opad := pads(s.tmp.sum())
	iv := initial()
	compress(&s.k.inner, &iv, ipad[:])
	compress(&s.k.outer, &iv, opad[:])
	clear(ipad[:])
	clear(opad[:])
	s.next()
}

// mac leaves HMAC(K, m) in s.tmp.sum(), m being the padded blocks that
// follow the inner key block.
func (s *Stream) mac(m []byte) {
	compress(&s.tmp, &s.k.inner, m)
	var ob [blockSize]byte
	pad32(&ob)
	copy(ob[:Size], s.tmp.sum()[:])
	compress(&s.tmp, &s.k.outer, ob[:])
}

// next generates the next keystream block: V = HMAC(K, V), two
// compressions, the inner digest written over V in the block between them.
func (s *Stream) next() {
	compress(&s.tmp, &s.k.inner, s.blk[:])
	copy(s.blk[:Size], s.tmp.sum()[:])
	compress(&s.tmp, &s.k.outer, s.blk[:])
	copy(s.blk[:Size], s.tmp.sum()[:])
	s.off = 0
}

// XORKeyStream XORs src with the next len(src) bytes of keystream into dst,
// like cipher.Stream: successive calls continue the stream. dst and src may
// be the same slice; dst must be at least as long as src.
func (s *Stream) XORKeyStream(dst, src []byte) {
	dst = dst[:len(src)]
	for len(src) > 0 {
		if s.off == Size {
			s.next() // no update step after generating
		}
		n := subtle.XORBytes(dst, src, s.blk[s.off:Size])
		s.off += n
		dst, src = dst[n:], src[n:]
	}
}

// String hides the stream's key material from %v and logs.
func (Stream) String() string { return "hmacdrbg.Stream{redacted}" }

// GoString hides the stream's key material from %#v.
func (Stream) GoString() string { return "hmacdrbg.Stream{redacted}" }
