package hmacdrbg

import (
	"crypto/subtle"
	"encoding/binary"
)

// Stream is the CLM 2.0.2 keystream (CLM-PROTOCOL.md, Sending step 4): the
// instantiate step of HMAC-DRBG (SP 800-90A, 10.1.2.2 and 10.1.2.3, with the
// seed as the only input) followed by repeated V = HMAC(K, V). Unlike
// SP 800-90A there is no update step after generating; 2.0.2 does not have
// one and pointers would not open if this added it.
type Stream struct {
	k   Key
	v   [8]uint32  // V, as SHA-256 hash words
	out [Size]byte // V as bytes: the current keystream block
	off int        // bytes of out already used
	blk [16]uint32 // scratch block as message words, its padding set once (pad32)
}

// zeroKey returns the Key of the all-zero 32-byte key the DRBG starts with:
// the chaining values after 0x36 * 64 and 0x5c * 64. They are constants, so
// the first MAC of every stream saves the two key-block compressions;
// TestZeroKey recomputes them.
func zeroKey() Key {
	return Key{
		inner: [8]uint32{0xf454dead, 0x9725214f, 0x90daf2a0, 0xdf1228ea, 0x64e5750f, 0xa3924181, 0x824a932b, 0xf8e04e32},
		outer: [8]uint32{0xd385480f, 0x7abb6477, 0x37c9c538, 0x5dd82467, 0x8e043a72, 0x753434b0, 0xdeb82818, 0x361d45a6},
	}
}

// NewStream starts the keystream for seed, which is
// SHA256(secret "_" epoch "_" nonce) (Sending step 3).
func NewStream(seed *[Size]byte) Stream {
	// K = 0x00 * 32, V = 0x01 * 32
	s := Stream{k: zeroKey(), off: Size, blk: pad32()}
	for i := range s.v {
		s.v[i] = 0x01010101
	}
	// The inner message of each reseed is V || b || seed after the key
	// block: 129 bytes, which pads to exactly two blocks (FIPS 180-4,
	// 5.1.1). Everything but V and b is the same both times.
	var x [2*blockSize - Size]byte // the 96 bytes after V
	copy(x[1:], seed[:])
	x[1+Size] = 0x80
	binary.BigEndian.PutUint64(x[len(x)-8:], (blockSize+2*Size+1)*8)
	var tail [8]uint32 // words 8..15 of the first block, with b = 0
	var second [16]uint32
	for i := range tail {
		tail[i] = binary.BigEndian.Uint32(x[4*i:])
	}
	for i := range second {
		second[i] = binary.BigEndian.Uint32(x[Size+4*i:])
	}
	// K = HMAC(K, V || 0x00 || seed); V = HMAC(K, V)
	s.reseed(0x00, &tail, &second)
	// K = HMAC(K, V || 0x01 || seed); V = HMAC(K, V)
	s.reseed(0x01, &tail, &second)
	return s
}

// reseed is one half of the HMAC-DRBG update function (SP 800-90A,
// 10.1.2.2): K = HMAC(K, V || b || seed); V = HMAC(K, V). tail and second
// are the message words that follow V, with b = 0.
func (s *Stream) reseed(b byte, tail *[8]uint32, second *[16]uint32) {
	var w [16]uint32
	*(*[8]uint32)(w[:8]) = s.v
	*(*[8]uint32)(w[8:]) = *tail
	w[8] |= uint32(b) << 24
	h := s.k.inner
	blockWords(&h, &w)
	blockWords(&h, second)
	// Outer hash: the inner digest's words are the next message words.
	w = pad32()
	*(*[8]uint32)(w[:8]) = h
	k := s.k.outer
	blockWords(&k, &w)
	s.k = keyFromWords(&k)
	s.v = s.k.mac32Into(&s.blk, s.v)
}

// XORKeyStream XORs src with the next len(src) bytes of keystream into dst,
// like cipher.Stream: successive calls continue the stream. dst and src may
// be the same slice; dst must be at least as long as src.
func (s *Stream) XORKeyStream(dst, src []byte) {
	dst = dst[:len(src)]
	for len(src) > 0 {
		if s.off == Size && len(src) >= Size {
			// A whole block: generate V = HMAC(K, V) and XOR its words in
			// directly (no update step after generating).
			s.v = s.k.mac32Into(&s.blk, s.v)
			d, c := dst[:Size], src[:Size]
			for i, v := range s.v {
				binary.BigEndian.PutUint32(d[4*i:], binary.BigEndian.Uint32(c[4*i:])^v)
			}
			dst, src = dst[Size:], src[Size:]
			continue
		}
		if s.off == Size {
			s.v = s.k.mac32Into(&s.blk, s.v)
			s.out = words(&s.v)
			s.off = 0
		}
		n := subtle.XORBytes(dst, src, s.out[s.off:])
		s.off += n
		dst, src = dst[n:], src[n:]
	}
}

// String hides the stream's key material from %v and logs.
func (Stream) String() string { return "hmacdrbg.Stream{redacted}" }

// GoString hides the stream's key material from %#v.
func (Stream) GoString() string { return "hmacdrbg.Stream{redacted}" }
