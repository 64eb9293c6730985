package hmacdrbg

import "encoding/binary"

// Key is an HMAC-SHA256 key (RFC 2104) kept as the SHA-256 chaining values
// after its two padded key blocks, K^ipad and K^opad. Each MAC under the key
// then starts from these instead of hashing the key blocks again: two
// compressions saved per message, which is most of the cost for the 32-byte
// messages of the DRBG.
type Key struct {
	inner, outer [8]uint32
}

// NewKey prepares key for HMAC-SHA256. Keys longer than a block are hashed
// first (RFC 2104, section 2).
func NewKey(key []byte) Key {
	var pad [blockSize]byte
	if len(key) > blockSize {
		sum := Sum(key)
		copy(pad[:], sum[:])
	} else {
		copy(pad[:], key)
	}
	return keyFromBlock(&pad)
}

// newKey32 prepares a 32-byte key, the size of every DRBG key.
func newKey32(key *[Size]byte) Key {
	k := fromBytes(key)
	return keyFromWords(&k)
}

// keyFromWords prepares a 32-byte key given as hash words (a digest used
// as a key): K^ipad and K^opad as message words (RFC 2104, steps 2 and 5;
// the zero padding XORs to the pad value itself).
func keyFromWords(key *[8]uint32) Key {
	const ipad, opad = 0x36363636, 0x5c5c5c5c
	wi := [16]uint32{
		key[0] ^ ipad, key[1] ^ ipad, key[2] ^ ipad, key[3] ^ ipad,
		key[4] ^ ipad, key[5] ^ ipad, key[6] ^ ipad, key[7] ^ ipad,
		ipad, ipad, ipad, ipad, ipad, ipad, ipad, ipad,
	}
	wo := [16]uint32{
		key[0] ^ opad, key[1] ^ opad, key[2] ^ opad, key[3] ^ opad,
		key[4] ^ opad, key[5] ^ opad, key[6] ^ opad, key[7] ^ opad,
		opad, opad, opad, opad, opad, opad, opad, opad,
	}
	k := Key{inner: initial(), outer: initial()}
	blockWords(&k.inner, &wi)
	blockWords(&k.outer, &wo)
	return k
}

// keyFromBlock hashes K^ipad and K^opad (RFC 2104, steps 2 and 5); pad holds
// the key zero-padded to a block.
func keyFromBlock(pad *[blockSize]byte) Key {
	const ipad, opad = 0x3636363636363636, 0x5c5c5c5c5c5c5c5c
	var bi, bo [blockSize]byte
	for i := 0; i < blockSize; i += 8 {
		w := binary.LittleEndian.Uint64(pad[i:])
		binary.LittleEndian.PutUint64(bi[i:], w^ipad)
		binary.LittleEndian.PutUint64(bo[i:], w^opad)
	}
	k := Key{inner: initial(), outer: initial()}
	block(&k.inner, bi[:])
	block(&k.outer, bo[:])
	return k
}

// Inner returns a digest ready to take the message: H(K^ipad || message)
// with the key block already hashed.
func (k *Key) Inner() Digest {
	return Digest{h: k.inner, n: blockSize}
}

// Finish completes the MAC whose message was written to inner, which must
// come from k.Inner: H(K^opad || H(K^ipad || message)).
func (k *Key) Finish(inner *Digest) [Size]byte {
	sum := inner.Sum()
	return after(k.outer, &sum)
}

// MAC32 returns HMAC(K, msg) for a 32-byte message: two compressions.
func (k *Key) MAC32(msg *[Size]byte) [Size]byte {
	w := k.mac32(fromBytes(msg))
	return words(&w)
}

// mac32 is HMAC(K, msg) with the 32-byte message and result as SHA-256 hash
// words, so the DRBG can chain MACs without converting back and forth.
func (k *Key) mac32(msg [8]uint32) [8]uint32 {
	w := pad32()
	return k.mac32Into(&w, msg)
}

// pad32 returns the message words of a block holding 32 bytes that follow
// one key block: both the inner and the outer hash of an HMAC of a 32-byte
// message have this shape, 96 bytes in all (FIPS 180-4, 5.1.1: a 1 bit,
// zeros, the bit length). Words 0 to 7 are left for the 32 bytes.
func pad32() (w [16]uint32) {
	w[8] = 0x80000000
	w[15] = (blockSize + Size) * 8
	return w
}

// mac32Into is mac32 using w, from pad32, as scratch; the padding in w is
// left intact so a caller can reuse it for a run of MACs. A digest's bytes
// are its hash words big-endian, and a block's message words are its bytes
// read big-endian, so hash words go straight into message words.
func (k *Key) mac32Into(w *[16]uint32, msg [8]uint32) [8]uint32 {
	*(*[8]uint32)(w[:8]) = msg
	h := k.inner
	blockWords(&h, w)
	*(*[8]uint32)(w[:8]) = h
	h = k.outer
	blockWords(&h, w)
	return h
}

// after hashes the 32 bytes msg following one 64-byte key block whose
// chaining value is h, padding included: one compression.
func after(h [8]uint32, msg *[Size]byte) [Size]byte {
	var b [blockSize]byte
	copy(b[:], msg[:])
	b[Size] = 0x80
	binary.BigEndian.PutUint64(b[blockSize-8:], (blockSize+Size)*8)
	block(&h, b[:])
	return words(&h)
}

// fromBytes reads 32 bytes as big-endian hash words.
func fromBytes(b *[Size]byte) (h [8]uint32) {
	for i := range h {
		h[i] = binary.BigEndian.Uint32(b[4*i:])
	}
	return h
}

// String hides the key's chaining values (they stand for the key) from %v.
func (Key) String() string { return "hmacdrbg.Key{redacted}" }

// GoString hides the key's chaining values from %#v.
func (Key) GoString() string { return "hmacdrbg.Key{redacted}" }
