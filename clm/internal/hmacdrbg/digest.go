package hmacdrbg

import "encoding/binary"

// Size is the length of a SHA-256 digest and of an HMAC-SHA256 output.
const Size = 32

// Digest is a SHA-256 computation in progress (FIPS 180-4). Unlike
// crypto/sha256 it is a plain value: it lives on the caller's stack, can
// start from any chaining value (which is how [Key] reuses its padded key
// blocks), and Sum finishes it.
type Digest struct {
	h    [8]uint32
	buf  [blockSize]byte
	nbuf int    // bytes pending in buf
	n    uint64 // bytes hashed so far, including any HMAC key block
}

// NewDigest returns a digest at the SHA-256 initial hash value.
func NewDigest() Digest {
	return Digest{h: initial()}
}

// Write adds p to the message.
func (d *Digest) Write(p []byte) {
	d.n += uint64(len(p))
	if d.nbuf > 0 {
		k := copy(d.buf[d.nbuf:], p)
		d.nbuf += k
		p = p[k:]
		if d.nbuf < blockSize {
			return
		}
		block(&d.h, d.buf[:])
		d.nbuf = 0
	}
	if len(p) >= blockSize {
		whole := len(p) &^ (blockSize - 1)
		block(&d.h, p[:whole])
		p = p[whole:]
	}
	d.nbuf = copy(d.buf[:], p)
}

// WriteString adds s to the message without converting it to a []byte.
func (d *Digest) WriteString(s string) {
	d.n += uint64(len(s))
	for len(s) > 0 {
		k := copy(d.buf[d.nbuf:], s)
		d.nbuf += k
		s = s[k:]
		if d.nbuf == blockSize {
			block(&d.h, d.buf[:])
			d.nbuf = 0
		}
	}
}

// Sum pads the message (FIPS 180-4, 5.1.1) and returns its hash. It
// finishes d: write nothing more to it.
func (d *Digest) Sum() [Size]byte {
	bits := d.n * 8
	d.buf[d.nbuf] = 0x80
	clear(d.buf[d.nbuf+1:])
	if d.nbuf >= blockSize-8 {
		block(&d.h, d.buf[:])
		clear(d.buf[:])
	}
	binary.BigEndian.PutUint64(d.buf[blockSize-8:], bits)
	block(&d.h, d.buf[:])
	return words(&d.h)
}

// words returns the hash value h as bytes (FIPS 180-4, 6.2.2 step 4).
func words(h *[8]uint32) (out [Size]byte) {
	for i, w := range h {
		binary.BigEndian.PutUint32(out[4*i:], w)
	}
	return out
}

// Sum returns the SHA-256 hash of the concatenation of parts.
func Sum(parts ...[]byte) [Size]byte {
	d := NewDigest()
	for _, p := range parts {
		d.Write(p)
	}
	return d.Sum()
}
