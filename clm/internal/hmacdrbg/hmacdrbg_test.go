package hmacdrbg

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
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

func TestDigestMatchesCryptoSHA256(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 1))
	for n := 0; n < 400; n++ {
		msg := randBytes(r, n)
		want := sha256.Sum256(msg)
		// Whole, and split into three writes of both kinds at random points.
		d := NewDigest()
		d.Write(msg)
		if got := d.Sum(); got != want {
			t.Fatalf("len %d: Sum = %x, want %x", n, got, want)
		}
		a, b := r.IntN(n+1), r.IntN(n+1)
		a, b = min(a, b), max(a, b)
		d = NewDigest()
		d.WriteString(string(msg[:a]))
		d.Write(msg[a:b])
		d.WriteString(string(msg[b:]))
		if got := d.Sum(); got != want {
			t.Fatalf("len %d split at %d,%d: Sum = %x, want %x", n, a, b, got, want)
		}
		if got := Sum(msg[:a], msg[a:]); got != want {
			t.Fatalf("len %d: Sum(parts) = %x, want %x", n, got, want)
		}
	}
}

// TestBlockStdlibMatchesBlock checks the portable compression function
// against the one in use (SHA-NI on most amd64 machines) from random
// chaining values over 1 to 4 blocks.
func TestBlockStdlibMatchesBlock(t *testing.T) {
	r := rand.New(rand.NewPCG(2, 2))
	for i := range 500 {
		var h [8]uint32
		for j := range h {
			h[j] = r.Uint32()
		}
		p := randBytes(r, blockSize*(1+i%4)+i%blockSize) // a partial tail is ignored
		h1, h2 := h, h
		block(&h1, p)
		blockStdlib(&h2, p)
		if h1 != h2 {
			t.Fatalf("case %d: block = %08x, blockStdlib = %08x", i, h1, h2)
		}
	}
}

func TestZeroKey(t *testing.T) {
	var zero [Size]byte
	if got := newKey32(&zero); got != zeroKey() {
		t.Fatalf("zeroKey() = %08x, want %08x", zeroKey(), got)
	}
}

func TestKeyMatchesCryptoHMAC(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 3))
	for i := range 400 {
		key := randBytes(r, r.IntN(3*blockSize))
		msg := randBytes(r, r.IntN(300))
		m := hmac.New(sha256.New, key)
		m.Write(msg)
		want := m.Sum(nil)

		k := NewKey(key)
		in := k.Inner()
		in.Write(msg)
		if got := k.Finish(&in); !bytes.Equal(got[:], want) {
			t.Fatalf("case %d (key %d bytes, msg %d): HMAC = %x, want %x", i, len(key), len(msg), got, want)
		}

		var m32 [Size]byte
		copy(m32[:], msg)
		m = hmac.New(sha256.New, key)
		m.Write(m32[:])
		if got := k.MAC32(&m32); !bytes.Equal(got[:], m.Sum(nil)) {
			t.Fatalf("case %d: MAC32 disagrees with crypto/hmac", i)
		}
	}
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

func TestNoAllocations(t *testing.T) {
	seed := Sum([]byte("secret_1_nonce"))
	buf := make([]byte, 100)
	key := []byte("clm-tag-v1")
	allocs := testing.AllocsPerRun(100, func() {
		s := NewStream(&seed)
		s.XORKeyStream(buf, buf)
		k := NewKey(key)
		in := k.Inner()
		in.WriteString("message")
		k.Finish(&in)
	})
	if allocs != 0 {
		t.Errorf("%v allocations per stream and MAC, want 0", allocs)
	}
}

func FuzzHMAC(f *testing.F) {
	f.Add([]byte("key"), []byte("message"), 3)
	f.Add(bytes.Repeat([]byte{7}, 65), bytes.Repeat([]byte{9}, 130), 64)
	f.Fuzz(func(t *testing.T, key, msg []byte, split int) {
		m := hmac.New(sha256.New, key)
		m.Write(msg)
		want := m.Sum(nil)
		split = min(max(split, 0), len(msg))
		k := NewKey(key)
		in := k.Inner()
		in.Write(msg[:split])
		in.WriteString(string(msg[split:]))
		if got := k.Finish(&in); !bytes.Equal(got[:], want) {
			t.Fatalf("HMAC = %x, want %x", got, want)
		}
	})
}

func BenchmarkBlock(b *testing.B) {
	var h [8]uint32
	p := make([]byte, blockSize)
	b.SetBytes(blockSize)
	for b.Loop() {
		block(&h, p)
	}
}

func BenchmarkBlockStdlib(b *testing.B) {
	var h [8]uint32
	p := make([]byte, blockSize)
	b.SetBytes(blockSize)
	for b.Loop() {
		blockStdlib(&h, p)
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

func BenchmarkMAC32(b *testing.B) {
	k := NewKey([]byte("key"))
	var v [8]uint32
	for b.Loop() {
		v = k.mac32(v)
	}
}

// TestBlockWordsMatchesBlock checks the word-oriented compression (SHA-NI
// without the byte swap, where available) against the byte one.
func TestBlockWordsMatchesBlock(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 5))
	for i := range 500 {
		var h [8]uint32
		var w [16]uint32
		for j := range h {
			h[j] = r.Uint32()
		}
		for j := range w {
			w[j] = r.Uint32()
		}
		h1, h2 := h, h
		blockWords(&h1, &w)
		blockWordsGeneric(&h2, &w)
		if h1 != h2 {
			t.Fatalf("case %d: blockWords = %08x, blockWordsGeneric = %08x", i, h1, h2)
		}
	}
}

func TestKeyMaterialIsNotPrinted(t *testing.T) {
	var seed [Size]byte
	s := NewStream(&seed)
	k := NewKey([]byte("key"))
	for _, v := range []any{s, &s, k, &k, struct{ S Stream }{s}} {
		out := fmt.Sprintf("%v %+v %#v %s", v, v, v, v)
		if !strings.Contains(out, "redacted") || strings.Contains(out, fmt.Sprint(k.inner[0])) {
			t.Errorf("printing %T shows key material: %s", v, out)
		}
	}
}
