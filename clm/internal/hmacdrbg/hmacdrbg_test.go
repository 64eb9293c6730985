package hmacdrbg

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
)

func randBytes(r *rand.Rand, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// refStream is the 2.0.2 keystream written plainly with crypto/hmac.
func refStream(seed []byte, n int) []byte {
	mac := func(key []byte, parts ...[]byte) []byte {
		m := hmac.New(sha256.New, key)
		for _, p := range parts {
			m.Write(p)
		}
		return m.Sum(nil)
	}
	k := make([]byte, 32)
	v := bytes.Repeat([]byte{1}, 32)
	k = mac(k, v, []byte{0}, seed)
	v = mac(k, v)
	k = mac(k, v, []byte{1}, seed)
	v = mac(k, v)
	var out []byte
	for len(out) < n {
		v = mac(k, v)
		out = append(out, v...)
	}
	return out[:n]
}

func TestStreamMatchesReference(t *testing.T) {
	r := rand.New(rand.NewPCG(4, 4))
	for i := range 300 {
		var seed [Size]byte
		copy(seed[:], randBytes(r, Size))
		n := i
		if i >= 130 {
			n = r.IntN(2000)
		}
		want := refStream(seed[:], n)
		t.Run(fmt.Sprintf("len%d", n), func(t *testing.T) {
			// In place, in pieces of random sizes.
			got := make([]byte, n)
			s := NewStream(&seed)
			for rest := got; len(rest) > 0; {
				k := min(len(rest), r.IntN(70))
				s.XORKeyStream(rest[:k], rest[:k])
				rest = rest[k:]
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("keystream in pieces\n got %x\nwant %x", got, want)
			}
			// In one call (whole blocks take a faster path), from a
			// separate source.
			src := make([]byte, n)
			got = make([]byte, n)
			s = NewStream(&seed)
			s.XORKeyStream(got, src)
			if !bytes.Equal(got, want) {
				t.Fatalf("keystream in one call\n got %x\nwant %x", got, want)
			}
		})
	}
}

func BenchmarkNewStream(b *testing.B) {
	var seed [Size]byte
	b.ReportAllocs()
	for b.Loop() {
		NewStream(&seed)
	}
}

func BenchmarkXORKeyStream1KiB(b *testing.B) {
	var seed [Size]byte
	buf := make([]byte, 1024)
	s := NewStream(&seed)
	b.SetBytes(int64(len(buf)))
	b.ReportAllocs()
	for b.Loop() {
		s.XORKeyStream(buf, buf)
	}
}

// marshal returns crypto/sha256's binary state after writing blocks.
func marshal(t *testing.T, blocks []byte) []byte {
	t.Helper()
	d := sha256.New()
	d.Write(blocks)
	m, err := d.(encoding.BinaryMarshaler).MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestStateFormat guards the one thing this package assumes of
// crypto/sha256: its binary state is the magic, the hash words big-endian,
// the pending buffer and the length, so newState builds what it marshals,
// and the hash words after a block padded by hand are the digest.
func TestStateFormat(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 1))
	for i := range 100 {
		var blk [blockSize]byte
		copy(blk[:], randBytes(r, 55))
		blk[55] = 0x80
		binary.BigEndian.PutUint64(blk[56:], 55*8)
		m := marshal(t, blk[:])
		var words [8]uint32
		for j := range words {
			words[j] = binary.BigEndian.Uint32(m[4+4*j:])
		}
		ns := newState(&words)
		if !bytes.Equal(m, ns[:]) {
			t.Fatalf("case %d: crypto/sha256 state\n%x\nnewState\n%x", i, m, ns)
		}
		if want := sha256.Sum256(blk[:55]); *ns.sum() != want {
			t.Fatalf("case %d: the state's hash words %x are not the digest %x", i, ns.sum(), want)
		}
	}
}

// TestZeroKey recomputes the all-zero key's states that zeroKey hard-codes.
func TestZeroKey(t *testing.T) {
	var zero [Size]byte
	ipad, opad := pads(&zero)
	k := zeroKey()
	if m := marshal(t, ipad[:]); !bytes.Equal(m, k.inner[:]) {
		t.Errorf("zeroKey().inner = %x, want %x", k.inner, m)
	}
	if m := marshal(t, opad[:]); !bytes.Equal(m, k.outer[:]) {
		t.Errorf("zeroKey().outer = %x, want %x", k.outer, m)
	}
}

// TestNoAllocations guards the bridge's hot path: a stream and its first
// blocks cost no allocation (the digests stay on the stack).
func TestNoAllocations(t *testing.T) {
	if raceEnabled {
		t.Skip("crypto/sha256 allocates under the race detector")
	}
	seed := sha256.Sum256([]byte("secret_1_nonce"))
	buf := make([]byte, 100)
	allocs := testing.AllocsPerRun(100, func() {
		s := NewStream(&seed)
		s.XORKeyStream(buf, buf)
	})
	if allocs != 0 {
		t.Errorf("%v allocations per stream, want 0", allocs)
	}
}

// TestKeyMaterialIsNotPrinted: a stream holds states that stand for its
// key; printing it must not show them.
func TestKeyMaterialIsNotPrinted(t *testing.T) {
	var seed [Size]byte
	s := NewStream(&seed)
	for _, v := range []any{s, &s, struct{ S Stream }{s}} {
		out := fmt.Sprintf("%v %+v %#v %s %x", v, v, v, v, v)
		if !strings.Contains(out, "redacted") || strings.Contains(out, fmt.Sprintf("%x", s.k.inner[4:36])) {
			t.Errorf("printing %T shows key material: %s", v, out)
		}
	}
}
