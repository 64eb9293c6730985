package clm

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// vectors mirrors testdata/clm-v2.json, computed with the Python 2.0.2
// reference client (plus the bridge's tag extension).
type vectors struct {
	Encode []struct {
		Username, Chat, Secret, Message string
		Epoch                           int64
		Signed, Nonce, Pointer          string
		TaggedPointer                   string `json:"tagged_pointer"`
		TaggedPointerPlainNonce         string `json:"tagged_pointer_plain_nonce"`
		KeyedNonce                      string `json:"keyed_nonce"`
	}
	Decode []struct {
		Pointer, Secret         string
		OK                      bool
		Chat, Username, Message string
		Authenticated           bool
		Error, Note             string
	}
	PublicKey []struct {
		Username, Secret string
		PublicKey        string `json:"public_key"`
	} `json:"public_key"`
	ChatSecretHash []struct{ Chat, Secret, Hash string } `json:"chat_secret_hash"`
	Keystream      []struct {
		Secret    string
		Epoch     int64
		Nonce     string
		Length    int
		Keystream string
	}
	Extract []struct {
		Text     string
		Pointers []struct {
			E    int64
			N, D string
			T    string
		}
	}
}

func loadVectors(t testing.TB) vectors {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "testdata", "clm-v2.json"))
	if err != nil {
		t.Fatal(err)
	}
	var v vectors
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("testdata/clm-v2.json: %v", err)
	}
	if len(v.Encode) == 0 || len(v.Decode) == 0 || len(v.PublicKey) == 0 ||
		len(v.ChatSecretHash) == 0 || len(v.Keystream) == 0 || len(v.Extract) == 0 {
		t.Fatal("testdata/clm-v2.json: a vector section is empty or was renamed")
	}
	return v
}

// errorName maps a sentinel to the vectors' (and the CLI's) error names.
func errorName(err error) string {
	switch {
	case err == nil:
		return ""
	case errors.Is(err, ErrMalformed):
		return "malformed"
	case errors.Is(err, ErrWrongSecret):
		return "wrong_secret"
	case errors.Is(err, ErrTampered):
		return "tampered"
	}
	return "unexpected: " + err.Error()
}

func TestVectorsEncode(t *testing.T) {
	for i, v := range loadVectors(t).Encode {
		t.Run(fmt.Sprintf("%02d_%s", i, v.Username), func(t *testing.T) {
			m := Message{Chat: v.Chat, Username: v.Username, Text: v.Message}
			if got := signedText(m); got != v.Signed {
				t.Errorf("signed text = %q, want %q", got, v.Signed)
			}
			p, err := NewLegacyPointer([]byte(v.Secret), m, v.Epoch)
			if err != nil {
				t.Fatal(err)
			}
			if p.Nonce != v.Nonce {
				t.Errorf("nonce = %q, want %q", p.Nonce, v.Nonce)
			}
			if got := p.String(); got != v.Pointer {
				t.Errorf("legacy pointer\n got %s\nwant %s", got, v.Pointer)
			}
			tp, err := NewPointer([]byte(v.Secret), m, v.Epoch)
			if err != nil {
				t.Fatal(err)
			}
			if tp.Nonce != v.KeyedNonce {
				t.Errorf("keyed nonce = %q, want %q", tp.Nonce, v.KeyedNonce)
			}
			if got := tp.String(); got != v.TaggedPointer {
				t.Errorf("tagged pointer\n got %s\nwant %s", got, v.TaggedPointer)
			}
			// Every form opens to the message: the plain 2.0.2 pointer
			// unauthenticated, extension v1 and the first extension's form
			// (2.0.2 nonce and a tag) authenticated.
			for _, c := range []struct {
				name, pointer string
				auth          bool
			}{{"pointer", v.Pointer, false}, {"tagged_pointer", v.TaggedPointer, true}, {"tagged_pointer_plain_nonce", v.TaggedPointerPlainNonce, true}} {
				p, err := ParsePointer(c.pointer)
				if err != nil {
					t.Fatalf("%s: %v", c.name, err)
				}
				o, err := p.Open([]byte(v.Secret))
				if want := (Opened{Message: m, Authenticated: c.auth}); err != nil || o != want {
					t.Errorf("%s opened to %+v, %v; want %+v", c.name, o, err, want)
				}
			}
		})
	}
}

func TestVectorsDecode(t *testing.T) {
	for i, v := range loadVectors(t).Decode {
		name := v.Error
		if v.OK {
			name = "ok_" + v.Username
		}
		t.Run(fmt.Sprintf("%02d_%s", i, name), func(t *testing.T) {
			p, err := ParsePointer(v.Pointer)
			var o Opened
			if err == nil {
				o, err = p.Open([]byte(v.Secret))
			}
			if !v.OK {
				if got := errorName(err); got != v.Error {
					t.Fatalf("error = %v (%s), want %s", err, got, v.Error)
				}
				if o != (Opened{}) {
					t.Errorf("a failed open returned content: %+v", o)
				}
				return
			}
			if err != nil {
				t.Fatalf("open: %v (%s)", err, v.Note)
			}
			want := Opened{Message: Message{Chat: v.Chat, Username: v.Username, Text: v.Message}, Authenticated: v.Authenticated}
			if o != want {
				t.Errorf("opened %+v\nwant   %+v (%s)", o, want, v.Note)
			}
		})
	}
}

func TestVectorsPublicKey(t *testing.T) {
	for i, v := range loadVectors(t).PublicKey {
		t.Run(fmt.Sprintf("%02d_%s", i, v.Username), func(t *testing.T) {
			if got := PublicKey(v.Username, []byte(v.Secret)); got != v.PublicKey {
				t.Errorf("PublicKey = %s, want %s", got, v.PublicKey)
			}
		})
	}
}

func TestVectorsChatSecretHash(t *testing.T) {
	for i, v := range loadVectors(t).ChatSecretHash {
		t.Run(fmt.Sprintf("%02d_%s", i, v.Chat), func(t *testing.T) {
			if got := ChatHash(v.Chat, []byte(v.Secret)); got != v.Hash {
				t.Errorf("ChatHash = %s, want %s", got, v.Hash)
			}
		})
	}
}

func TestVectorsKeystream(t *testing.T) {
	for i, v := range loadVectors(t).Keystream {
		t.Run(fmt.Sprintf("%02d_len%d", i, v.Length), func(t *testing.T) {
			got := hex.EncodeToString(testKeystream([]byte(v.Secret), v.Epoch, v.Nonce, v.Length))
			if got != v.Keystream {
				t.Errorf("keystream\n got %s\nwant %s", got, v.Keystream)
			}
			if ref := hex.EncodeToString(refKeystream([]byte(v.Secret), v.Epoch, v.Nonce, v.Length)); ref != v.Keystream {
				t.Errorf("the test's reference keystream disagrees with the vector: %s", ref)
			}
		})
	}
}

func TestVectorsExtract(t *testing.T) {
	for i, v := range loadVectors(t).Extract {
		t.Run(fmt.Sprintf("%02d_%dpointers", i, len(v.Pointers)), func(t *testing.T) {
			got := Extract(v.Text)
			if len(got) != len(v.Pointers) {
				t.Fatalf("Extract found %d pointers, want %d: %+v", len(got), len(v.Pointers), got)
			}
			for j, w := range v.Pointers {
				want := Pointer{Epoch: w.E, Nonce: w.N, Data: w.D, Tag: w.T}
				if got[j] != want {
					t.Errorf("pointer %d = %+v, want %+v", j, got[j], want)
				}
			}
		})
	}
}
