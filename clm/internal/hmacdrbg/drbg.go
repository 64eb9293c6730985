package hmacdrbg

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding"
	"encoding/binary"
)

// Stream is the CLM 2.0.2 keystream (docs/PROTOCOL.md, Making step 4): the
// instantiate step of HMAC-DRBG (SP 800-90A, 10.1.2.2 and 10.1.2.3, with the
// seed as the only input) followed by repeated V = HMAC(K, V). Unlike
// SP 800-90A there is no update step after generating; 2.0.2 does not have
// one and pointers would not open if this added it.
type Stream struct {
	seed  [Size]byte // until instantiated, then zero
	ready bool       // instantiated: k and V are set
	k     key
	// blk is the block hashed after a key block for an HMAC of a 32-byte
	// message: the message (V, or an inner digest) then its padding
	// (FIPS 180-4, 5.1.1: a 1 bit, zeros, the bit length of 96 bytes),
	// which is set once. Between MACs blk[:Size] holds V, the current
	// keystream block.
	blk [blockSize]byte
	off int // bytes of V already used
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

// NewStream returns the keystream for seed, which is
// SHA256(secret "_" epoch "_" nonce) (Making step 3). The work of
// instantiating is done by the first XORKeyStream, which holds the one
// digest all the hashing goes through.
func NewStream(seed *[Size]byte) Stream {
	return Stream{seed: *seed, off: Size}
}

// XORKeyStream XORs src with the next len(src) bytes of keystream into dst,
// like cipher.Stream: successive calls continue the stream. dst and src may
// be the same slice; dst must be at least as long as src.
func (s *Stream) XORKeyStream(dst, src []byte) {
	dst = dst[:len(src)]
	if len(src) == 0 {
		return
	}
	// One crypto/sha256 digest for every compression of this call. It is
	// declared here, and used only by closures that do not leave this
	// function, so the compiler sees its concrete type, calls its methods
	// directly and keeps it on the stack: nothing is allocated
	// (TestNoAllocations). Passed to another function, it would escape.
	d := sha256.New()
	restore := d.(encoding.BinaryUnmarshaler)
	save := d.(encoding.BinaryAppender)
	// load sets the digest to the chaining value in from.
	load := func(from *state) {
		if err := restore.UnmarshalBinary(from[:]); err != nil {
			panic("hmacdrbg: crypto/sha256 refused a state in its own format: " + err.Error())
		}
	}
	// hash runs the SHA-256 compression function over each whole block of
	// blocks, from the digest's chaining value, and saves the result in to.
	// Every message here is padded by hand, so the digest's own length and
	// padding are never used.
	hash := func(to *state, blocks []byte) {
		d.Write(blocks)
		if out, err := save.AppendBinary(to[:0]); err != nil || len(out) != stateSize {
			panic("hmacdrbg: crypto/sha256 changed its binary state format")
		}
	}
	var t state // the inner digest of a MAC
	// next generates the next keystream block, V = HMAC(K, V): two
	// compressions, the inner digest written over V in the block between.
	next := func() {
		load(&s.k.inner)
		hash(&t, s.blk[:])
		copy(s.blk[:Size], t.sum()[:])
		load(&s.k.outer)
		hash(&t, s.blk[:])
		copy(s.blk[:Size], t.sum()[:])
	}

	if !s.ready {
		// K = 0x00 * 32, V = 0x01 * 32
		s.k = zeroKey()
		pad32(&s.blk)
		for i := range Size {
			s.blk[i] = 0x01
		}
		// The inner message of each half of the update function is
		// V || b || seed after the key block: 129 bytes, which pads to
		// exactly two blocks. Everything but V and b is the same both times.
		var msg [2 * blockSize]byte
		copy(msg[Size+1:], s.seed[:])
		msg[2*Size+1] = 0x80
		binary.BigEndian.PutUint64(msg[len(msg)-8:], (blockSize+2*Size+1)*8)
		// SP 800-90A, 10.1.2.2, for b = 0x00 then 0x01:
		// K = HMAC(K, V || b || seed); V = HMAC(K, V).
		for b := range byte(2) {
			copy(msg[:Size], s.blk[:Size])
			msg[Size] = b
			load(&s.k.inner)
			hash(&t, msg[:])
			var outer [blockSize]byte
			pad32(&outer)
			copy(outer[:Size], t.sum()[:])
			load(&s.k.outer)
			hash(&t, outer[:])
			// The new K: each key block is hashed once and its state kept
			// for every MAC under K, and the first of those MACs,
			// V = HMAC(K, V), goes on from the state just hashed.
			ipad, opad := pads(t.sum())
			d.Reset()
			hash(&s.k.inner, ipad[:])
			hash(&t, s.blk[:])
			copy(s.blk[:Size], t.sum()[:])
			d.Reset()
			hash(&s.k.outer, opad[:])
			hash(&t, s.blk[:])
			copy(s.blk[:Size], t.sum()[:])
			clear(ipad[:])
			clear(opad[:])
		}
		clear(msg[:])
		clear(s.seed[:])
		s.ready = true
	}

	for len(src) > 0 {
		if s.off == Size {
			next() // no update step after generating
			s.off = 0
		}
		n := subtle.XORBytes(dst, src, s.blk[s.off:Size])
		s.off += n
		dst, src = dst[n:], src[n:]
	}
	clear(t[:])
}

// String hides the stream's key material from %v and logs.
func (Stream) String() string { return "hmacdrbg.Stream{redacted}" }

// GoString hides the stream's key material from %#v.
func (Stream) GoString() string { return "hmacdrbg.Stream{redacted}" }
