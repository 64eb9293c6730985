package clm

import (
	"encoding/hex"
	"errors"
	"slices"
	"testing"
	"unicode/utf8"
)

func FuzzParsePointer(f *testing.F) {
	for _, v := range loadVectors(f).Decode {
		f.Add(v.Pointer)
	}
	f.Add(`{"e": "7", "n": "\u00e9\ud83c\udf82", "d": "AbCd", "t": ""}`)
	f.Add(`{"e": 1, "n": "a", "d": "00", "x": {"y": [1, 2]}}`)
	f.Fuzz(func(t *testing.T, text string) {
		p, err := ParsePointer(text)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("ParsePointer error %v is not ErrMalformed", err)
			}
			return
		}
		// Printing and parsing again gives the same pointer, and Extract
		// finds exactly it in the printed form.
		s := p.String()
		q, err := ParsePointer(s)
		if err != nil || q != p {
			t.Fatalf("ParsePointer(%q) = %+v, %v; want %+v", s, q, err, p)
		}
		if got := Extract(s); len(got) != 1 || got[0] != p {
			t.Fatalf("Extract(%q) = %+v, want [%+v]", s, got, p)
		}
		// Opening never panics and fails only with a sentinel.
		if _, err := p.Open([]byte("fuzz")); err != nil && errorName(err) == "unexpected: "+err.Error() {
			t.Fatalf("Open: unexpected error %v", err)
		}
	})
}

func FuzzExtract(f *testing.F) {
	for _, v := range loadVectors(f).Extract {
		f.Add(v.Text, "")
	}
	f.Add("```json\n{", "}\n```")
	f.Add(`{"a": "`, `"}`)
	f.Add(`{"a": "{", ":1}": 2, `, `{{{`)
	known := []Pointer{
		{Epoch: 1758411713, Nonce: "57spUSfVkiHuVw_-", Data: "0ca1", Tag: "hnCeptJxsdTM-SD16U4a-Q"},
		{Epoch: 0, Nonce: "n\"q", Data: "00"},
	}
	f.Fuzz(func(t *testing.T, prefix, suffix string) {
		for _, text := range []string{prefix + suffix, prefix + known[0].String() + suffix, prefix + known[1].String() + suffix} {
			var work int
			var got []Pointer
			scan(text, &work, func(p Pointer, err error) {
				if err == nil {
					got = append(got, p)
				} else if !errors.Is(err, ErrMalformed) {
					t.Fatalf("scan reported %v", err)
				}
			})
			if work > 4*len(text)+64 {
				t.Fatalf("scanned %d bytes of a %d-byte text", work, len(text))
			}
			for _, p := range got {
				if q, err := ParsePointer(p.String()); err != nil || q != p {
					t.Fatalf("extracted %+v does not survive printing: %v", p, err)
				}
			}
		}
		// A pointer pasted anywhere in any text is always found.
		for _, p := range known {
			if got := Extract(prefix + p.String() + suffix); !slices.Contains(got, p) {
				t.Fatalf("Extract(%q + pointer + %q) = %+v: lost %+v", prefix, suffix, got, p)
			}
		}
	})
}

func FuzzOpen(f *testing.F) {
	for _, v := range loadVectors(f).Encode {
		f.Add(v.Chat, v.Username, v.Message, []byte(v.Secret), v.Epoch, true, "", "", "")
	}
	f.Add("a|¶", "|b", "c", []byte("s"), int64(-1), false, "n", "zz", "t")
	f.Add("", "", "", []byte{}, int64(0), true, "", "00", "")
	f.Fuzz(func(t *testing.T, chat, user, text string, secret []byte, epoch int64, tagged bool, nonce, data, tag string) {
		openMade(t, chat, user, text, secret, epoch, tagged, uint(len(nonce)+len(data)+len(tag)))
		// Any pointer at all: no panic, and only sentinel errors.
		o, err := Pointer{Epoch: epoch, Nonce: nonce, Data: data, Tag: tag}.Open(secret)
		if err != nil && (errorName(err) == "unexpected: "+err.Error() || o != (Opened{})) {
			t.Fatalf("Open: %v, %+v", err, o)
		}
	})
}

// FuzzChangedPointerNeverOpens: whatever the message and secret, a pointer
// made by NewPointer (extension v1) opens to the same message, is tampered
// without its tag, and with any one bit of d flipped never opens to a
// changed text (it is tampered, or no longer opens at all); and so for a
// plain 2.0.2 pointer from NewLegacyPointer.
func FuzzChangedPointerNeverOpens(f *testing.F) {
	for i, v := range loadVectors(f).Encode {
		f.Add(v.Chat, v.Username, v.Message, []byte(v.Secret), v.Epoch, i%2 == 0, uint(i*13))
	}
	f.Add("c", "u", "1234", []byte("s"), int64(1758411713), true, uint(0))
	f.Fuzz(openMade)
}

// openMade makes a pointer of the message (extension v1 when tagged, else
// plain 2.0.2) and checks how it opens, unchanged and changed; flip picks
// the bit of d to flip.
func openMade(t *testing.T, chat, user, text string, secret []byte, epoch int64, tagged bool, flip uint) {
	m := Message{Chat: chat, Username: user, Text: text}
	valid := utf8.ValidString(chat) && utf8.ValidString(user) && utf8.ValidString(text) &&
		endsCleanly(chat) && endsCleanly(user) && 2*m.signedLen() <= MaxDataLen
	make := NewLegacyPointer
	if tagged {
		make = NewPointer
	}
	p, err := make(secret, m, epoch)
	if !valid {
		if !errors.Is(err, ErrInvalidMessage) {
			t.Fatalf("make(%+v) = %v, want ErrInvalidMessage", m, err)
		}
		return
	}
	if err != nil {
		t.Fatalf("make(%+v): %v", m, err)
	}
	o, err := p.Open(secret)
	if err != nil {
		t.Fatalf("open(make(%+v)): %v", m, err)
	}
	if o.Message != m || o.Authenticated != tagged {
		t.Fatalf("open(make(%+v)) = %+v, authenticated want %v", m, o, tagged)
	}
	if _, err := p.Open(append(secret[:len(secret):len(secret)], 'x')); err == nil {
		t.Fatalf("a wrong secret opened %+v", p)
	}
	if tagged {
		untagged := p
		untagged.Tag = ""
		if o, err := untagged.Open(secret); !errors.Is(err, ErrTampered) || o != (Opened{}) {
			t.Fatalf("without its tag, %+v opened to %+v, %v; want ErrTampered", p, o, err)
		}
	}
	ct, err := hex.DecodeString(p.Data)
	if err != nil {
		t.Fatal(err)
	}
	bit := flip % uint(8*len(ct))
	ct[bit/8] ^= 1 << (bit % 8)
	changed := p
	changed.Data = hex.EncodeToString(ct)
	o, err = changed.Open(secret)
	if err == nil || o != (Opened{}) {
		t.Fatalf("with bit %d of d flipped, %+v opened to %+v, %v", bit, p, o, err)
	}
	if !errors.Is(err, ErrTampered) && !errors.Is(err, ErrWrongSecret) {
		t.Fatalf("with bit %d of d flipped: %v, want ErrTampered or ErrWrongSecret", bit, err)
	}
}
