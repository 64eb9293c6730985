package clm

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

const testEpoch = 1758411713

func mustPointer(t testing.TB, secret string, m Message, tagged bool) Pointer {
	t.Helper()
	var p Pointer
	var err error
	if tagged {
		p, err = NewPointer([]byte(secret), m, testEpoch)
	} else {
		p, err = NewLegacyPointer([]byte(secret), m, testEpoch)
	}
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestRoundTripTaggedAndLegacy(t *testing.T) {
	msgs := []Message{
		{Chat: "Work", Username: "bob", Text: "hello"},
		{Chat: "", Username: "", Text: ""},
		{Chat: "Семья", Username: "мама", Text: strings.Repeat("Не забудь торт 🎂 ", 100)},
		{Chat: "a", Username: "b", Text: "the message may hold the separator |¶| twice |¶| and keep it"},
		{Chat: "x|", Username: "¶|y", Text: "¶|starts like a separator"},
	}
	for i, m := range msgs {
		for _, tagged := range []bool{true, false} {
			t.Run(fmt.Sprintf("%d_tagged=%v", i, tagged), func(t *testing.T) {
				p := mustPointer(t, "s3cret", m, tagged)
				q, err := ParsePointer(p.String())
				if err != nil {
					t.Fatalf("ParsePointer(String()) = %v", err)
				}
				if q != p {
					t.Fatalf("parse(print(p)) = %+v, want %+v", q, p)
				}
				o, err := q.Open([]byte("s3cret"))
				if err != nil {
					t.Fatal(err)
				}
				if o.Message != m || o.Authenticated != tagged {
					t.Errorf("opened %+v, want %+v authenticated=%v", o, m, tagged)
				}
			})
		}
	}
}

func TestErrorsMatchSentinels(t *testing.T) {
	secret := []byte("right secret")
	p := mustPointer(t, string(secret), Message{Chat: "Work", Username: "bob", Text: "hi"}, true)

	flipped := p
	flipped.Data = flipHex(p.Data, len(p.Data)-1) // last message byte: format still valid
	badTag := p
	badTag.Tag = strings.Repeat("A", len(p.Tag))
	shortTag := p
	shortTag.Tag = "x"
	badHex := p
	badHex.Data = "zz" + p.Data[2:]
	oddHex := p
	oddHex.Data = p.Data[1:]
	untagged := p // a downgrade: the tag removed to dodge the check
	untagged.Tag = ""
	legacy := mustPointer(t, string(secret), Message{Chat: "Work", Username: "bob", Text: "hi"}, false)
	legacyFlipped := legacy
	legacyFlipped.Data = flipHex(legacy.Data, len(legacy.Data)-1)

	tests := []struct {
		name   string
		p      Pointer
		secret []byte
		want   error
	}{
		{"wrong secret", p, []byte("wrong secret"), ErrWrongSecret},
		{"empty secret", p, nil, ErrWrongSecret},
		{"flipped data bit with tag", flipped, secret, ErrTampered},
		{"keyed-nonce pointer with its tag removed", untagged, secret, ErrTampered},
		{"flipped data bit in a legacy pointer", legacyFlipped, secret, ErrTampered},
		{"forged tag", badTag, secret, ErrTampered},
		{"truncated tag", shortTag, secret, ErrTampered},
		{"non-hex data", badHex, secret, ErrMalformed},
		{"odd-length data", oddHex, secret, ErrMalformed},
		{"empty data", Pointer{Epoch: 1, Nonce: "n"}, secret, ErrWrongSecret},
		{"data over the limit", Pointer{Epoch: 1, Nonce: "n", Data: strings.Repeat("00", MaxDataLen/2+1)}, secret, ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, err := tt.p.Open(tt.secret)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Open = %v, want %v", err, tt.want)
			}
			if o != (Opened{}) {
				t.Errorf("a failed open leaked content: %+v", o)
			}
		})
	}

	t.Run("an unchanged legacy pointer opens unauthenticated", func(t *testing.T) {
		o, err := legacy.Open(secret)
		if err != nil || o.Authenticated || o.Text != "hi" {
			t.Errorf("Open = %+v, %v; want the text, unauthenticated", o, err)
		}
	})
}

// TestTrialOpenWithAWrongSecretDoesNotAllocate guards the bridge's hot
// path: every pointer seen is tried against every unlocked secret, and a
// wrong secret is turned away after the first byte without allocating.
func TestTrialOpenWithAWrongSecretDoesNotAllocate(t *testing.T) {
	if raceEnabled {
		t.Skip("crypto/sha256 allocates under the race detector")
	}
	p := mustPointer(t, "the right secret", Message{Chat: "Work", Username: "bob", Text: "Meeting moved to 15:00"}, true)
	wrong := []byte("another chat's secret")
	allocs := testing.AllocsPerRun(100, func() {
		if _, err := p.Open(wrong); err != ErrWrongSecret {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("%v allocations per trial open, want 0", allocs)
	}
}

// flipHex flips the lowest bit of the hex digit at i.
func flipHex(s string, i int) string {
	b := []byte(s)
	v, _ := strconv.ParseUint(string(b[i]), 16, 8)
	b[i] = "0123456789abcdef"[v^1]
	return string(b)
}

func TestNewPointerRejectsAmbiguousNames(t *testing.T) {
	tests := []struct {
		name string
		m    Message
	}{
		{"separator in chat", Message{Chat: "a|¶|b", Username: "u"}},
		{"separator in username", Message{Chat: "c", Username: "a|¶|b"}},
		{"chat ends with half a separator", Message{Chat: "a|¶", Username: "|b"}},
		{"username ends with half a separator", Message{Chat: "c", Username: "u|¶", Text: "|x"}},
		{"invalid UTF-8 chat", Message{Chat: "\xff", Username: "u"}},
		{"invalid UTF-8 text", Message{Chat: "c", Username: "u", Text: "a\xc3"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, tagged := range []bool{true, false} {
				var err error
				if tagged {
					_, err = NewPointer([]byte("s"), tt.m, 1)
				} else {
					_, err = NewLegacyPointer([]byte("s"), tt.m, 1)
				}
				if !errors.Is(err, ErrInvalidMessage) {
					t.Errorf("tagged=%v: err = %v, want ErrInvalidMessage", tagged, err)
				}
			}
		})
	}
}

func TestErrorsNeverContainTheSecret(t *testing.T) {
	secret := []byte("zebra-Unicorn-7731-quartz")
	p := mustPointer(t, string(secret), Message{Chat: "Work", Username: "bob", Text: "hi"}, true)
	tampered := p
	tampered.Data = flipHex(p.Data, len(p.Data)-1)

	var errs []error
	_, err := p.Open([]byte(string(secret) + "x"))
	errs = append(errs, err)
	_, err = tampered.Open(secret)
	errs = append(errs, err)
	_, err = Pointer{Data: "zz"}.Open(secret)
	errs = append(errs, err)
	_, err = NewPointer(secret, Message{Chat: "a|¶|b"}, 1)
	errs = append(errs, err)
	_, err = NewLegacyPointer(secret, Message{Chat: "\xff"}, 1)
	errs = append(errs, err)
	_, err = ParsePointer(`{"e": 1, "n": "` + string(secret) + `", "d": "0"}`)
	errs = append(errs, err)
	_, err = ParsePointer(string(secret))
	errs = append(errs, err)

	for i, err := range errs {
		if err == nil {
			t.Fatalf("case %d: expected an error", i)
		}
		for _, s := range []string{err.Error(), fmt.Sprintf("%v %+v %#v %q", err, err, err, err)} {
			if strings.Contains(s, string(secret)) || strings.Contains(s, "Unicorn") {
				t.Errorf("case %d: error text %q contains the secret", i, s)
			}
		}
	}
}

func TestParsePointer(t *testing.T) {
	ok := []struct {
		name, text string
		want       Pointer
	}{
		{"integer epoch", `{"e": 5, "n": "abc", "d": "00ff"}`, Pointer{Epoch: 5, Nonce: "abc", Data: "00ff"}},
		{"digit-string epoch", `{"e": "5", "n": "abc", "d": "00"}`, Pointer{Epoch: 5, Nonce: "abc", Data: "00"}},
		{"compact with tag", `{"e":5,"n":"abc","d":"","t":"tt"}`, Pointer{Epoch: 5, Nonce: "abc", Tag: "tt"}},
		{"keys in any order, unknown keys ignored", `{"x": [1, {"y": 2}], "d": "AB", "n": "q", "e": 7}`, Pointer{Epoch: 7, Nonce: "q", Data: "AB"}},
		{"surrounding whitespace", " \n{\"e\": 1, \"n\": \"\", \"d\": \"\"}\n ", Pointer{Epoch: 1}},
	}
	for _, tt := range ok {
		t.Run(tt.name, func(t *testing.T) {
			p, err := ParsePointer(tt.text)
			if err != nil || p != tt.want {
				t.Errorf("ParsePointer = %+v, %v; want %+v", p, err, tt.want)
			}
		})
	}
	bad := []string{
		``, `null`, `[]`, `"x"`, `{}`, `{"e": 1, "n": "a"}`, `{"e": 1, "d": "00"}`, `{"n": "a", "d": "00"}`,
		`{"e": 1.5, "n": "a", "d": "00"}`, `{"e": "1.5", "n": "a", "d": "00"}`, `{"e": "", "n": "a", "d": "00"}`,
		`{"e": "-1", "n": "a", "d": "00"}`, `{"e": " 1", "n": "a", "d": "00"}`, `{"e": true, "n": "a", "d": "00"}`,
		`{"e": 99999999999999999999, "n": "a", "d": "00"}`, `{"e": 1, "n": 5, "d": "00"}`,
		`{"e": 1, "n": "a", "d": 0}`, `{"e": 1, "n": "a", "d": "0g"}`, `{"e": 1, "n": "a", "d": "000"}`,
		`{"e": 1, "n": "a", "d": "00", "t": 5}`, `{"e": 1, "n": "a", "d": "00"} trailing`,
		`{"e": 1, "n": "a", "d": "00"`,
	}
	for _, text := range bad {
		t.Run("malformed "+text, func(t *testing.T) {
			if p, err := ParsePointer(text); !errors.Is(err, ErrMalformed) {
				t.Errorf("ParsePointer(%q) = %+v, %v; want ErrMalformed", text, p, err)
			}
		})
	}
}

func TestStringMatchesPythonJSONDumps(t *testing.T) {
	tests := []struct {
		p    Pointer
		want string
	}{
		{Pointer{Epoch: 1, Nonce: "n", Data: "00"}, `{"e": 1, "n": "n", "d": "00"}`},
		{Pointer{Epoch: -3, Nonce: "n", Data: "", Tag: "t"}, `{"e": -3, "n": "n", "d": "", "t": "t"}`},
		// Only fields parsed from hostile input hold anything but ASCII;
		// they print as Python's json.dumps (ensure_ascii) would.
		{Pointer{Nonce: "q\"\\\n\r\t\b\f\x01\x7fé🎂"}, `{"e": 0, "n": "q\"\\\n\r\t\b\f\u0001\u007f\u00e9\ud83c\udf82", "d": ""}`},
	}
	for _, tt := range tests {
		if got := tt.p.String(); got != tt.want {
			t.Errorf("String() = %s, want %s", got, tt.want)
		}
	}
}

func TestExtract(t *testing.T) {
	p1 := mustPointer(t, "s", Message{Chat: "c", Username: "u", Text: "one"}, true)
	p2 := mustPointer(t, "s", Message{Chat: "c", Username: "u", Text: "two"}, false)
	pretty := strings.NewReplacer(`{`, "{\n  ", `, `, ",\n  ", `}`, "\n}").Replace(p2.String())
	tests := []struct {
		name string
		text string
		want []Pointer
	}{
		{"empty", "", nil},
		{"nested pointer inside another object", `{"msg": ` + p1.String() + `, "x": 1}`, []Pointer{p1}},
		{"pointer inside an array", `[` + p1.String() + `, ` + p2.String() + `]`, []Pointer{p1, p2}},
		{"pretty, fenced and inline", "```json\n" + pretty + "\n```\nand `" + p1.String() + "`", []Pointer{p2, p1}},
		{"adjacent", p1.String() + p2.String(), []Pointer{p1, p2}},
		{"unclosed brace before a pointer", `{ oops {"note": ` + p2.String(), []Pointer{p2}},
		{"braces inside strings are not objects", `{"a": "{\"e\": 1, \"n\": \"x\", \"d\": \"00\"}"}`, nil},
		{"object with e, n, d of the wrong types", `{"e": "x", "n": "a", "d": "00"} ` + p1.String(), []Pointer{p1}},
		{"truncated pointer", p1.String()[:40], nil},
		{"pointer keys with nested values are not pointers", `{"e": 1, "n": "a", "d": "00", "t": {"x": 1}}`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Extract(tt.text)
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("Extract = %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

// TestExtractIsLinear guards against quadratic scanning: hostile posts (many
// unclosed braces, deep nesting, quote soup) must cost a bounded number of
// scanned bytes per input byte. Counted, not timed.
func TestExtractIsLinear(t *testing.T) {
	const n = 1 << 18
	p := mustPointer(t, "s", Message{Chat: "c", Username: "u", Text: "x"}, true).String()
	inputs := map[string]string{
		"unclosed braces":        strings.Repeat("{", n),
		"unclosed keys":          strings.Repeat(`{"e":`, n/5),
		"deep nesting":           strings.Repeat(`{"a": `, n/6),
		"open strings":           strings.Repeat(`{"a": "`, n/7),
		"brace in string values": strings.Repeat(`{"a": "{", ":1}": 2, `, n/20),
		"quote soup":             strings.Repeat(`"{":`, n/4),
		"long flat object":       `{` + strings.Repeat(`"k": "{\"", `, n/12),
		"many pointers":          strings.Repeat(p+" ", n/(len(p)+1)),
		"pointers never closed":  strings.Repeat(p[:len(p)-1], n/len(p)),
	}
	for name, text := range inputs {
		t.Run(name, func(t *testing.T) {
			var work int
			scan(text, &work, func(Pointer, error) {})
			if work > 4*len(text)+64 {
				t.Errorf("scanned %d bytes for a %d-byte input: not linear", work, len(text))
			}
		})
	}
}

func TestMaxMessageBytesMatchesRealPointers(t *testing.T) {
	names := []struct{ chat, user string }{
		{"Work", "bob"},
		{"Семья", "мама"},
		{"💬 Family", "carol"},
		{strings.Repeat("long chat name ", 30), "u"},
	}
	const fill = "é🎂a你"
	for _, limit := range []int{4096, 2000} { // two common message limits
		for _, nm := range names {
			for _, tagged := range []bool{true, false} {
				t.Run(fmt.Sprintf("%d_%s_tagged=%v", limit, nm.chat[:4], tagged), func(t *testing.T) {
					n := MaxMessageBytes(limit, nm.chat, nm.user, tagged)
					if n == 0 {
						t.Fatalf("MaxMessageBytes = 0 for a %d-character limit", limit)
					}
					// Exactly n bytes of mixed 1- to 4-byte characters.
					text := strings.Repeat(fill, (n-1)/len(fill))
					text += strings.Repeat("a", n-len(text))
					if got := pointerChars(t, nm.chat, nm.user, text, tagged); got > limit {
						t.Errorf("a %d-byte message makes a %d-character pointer, over the %d limit", n, got, limit)
					} else if got < limit-1 {
						t.Errorf("a %d-byte message makes only a %d-character pointer: the %d limit is not used", n, got, limit)
					}
					if got := pointerChars(t, nm.chat, nm.user, text+"a", tagged); got <= limit {
						t.Errorf("a %d-byte message (one more byte) still fits: %d characters", n+1, got)
					}
					if got := pointerChars(t, nm.chat, nm.user, text[:len(text)-1]+"é", tagged); got <= limit {
						t.Errorf("a %d-byte message ending in a 2-byte character still fits: %d characters", n+1, got)
					}
				})
			}
		}
	}
}

func TestMaxMessageBytesSmallLimits(t *testing.T) {
	for limit := 0; limit <= 160; limit++ {
		for _, tagged := range []bool{true, false} {
			n := MaxMessageBytes(limit, "c", "u", tagged)
			if n > 0 && pointerChars(t, "c", "u", strings.Repeat("a", n), tagged) > limit {
				t.Errorf("limit %d tagged=%v: %d bytes said to fit but do not", limit, tagged, n)
			}
			if pointerChars(t, "c", "u", strings.Repeat("a", n+1), tagged) <= limit {
				t.Errorf("limit %d tagged=%v: %d bytes fit but MaxMessageBytes said %d", limit, tagged, n+1, n)
			}
		}
	}
}

// pointerChars is the length of the pointer in characters as platforms count
// them (code points and UTF-16 units are the same for a pointer: it is ASCII).
func pointerChars(t *testing.T, chat, user, text string, tagged bool) int {
	t.Helper()
	s := mustPointer(t, "secret", Message{Chat: chat, Username: user, Text: text}, tagged).String()
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			t.Fatalf("pointer holds non-ASCII: %q", s)
		}
	}
	return len(s)
}

func TestGenerateSecret(t *testing.T) {
	// 6 groups of 5 symbols from a 32-symbol alphabet: 150 bits.
	format := regexp.MustCompile(`^[a-km-np-z2-9]{5}(-[a-km-np-z2-9]{5}){5}$`)
	seen := map[string]bool{}
	counts := map[rune]int{}
	for range 200 {
		s, err := GenerateSecret()
		if err != nil {
			t.Fatal(err)
		}
		if !format.MatchString(s) {
			t.Fatalf("GenerateSecret() = %q: not six dash-separated groups of five unambiguous symbols", s)
		}
		if seen[s] {
			t.Fatalf("GenerateSecret repeated %q", s)
		}
		seen[s] = true
		for _, r := range strings.ReplaceAll(s, "-", "") {
			counts[r]++
		}
	}
	// 6000 symbols over 32: every symbol turns up (expected 187 each).
	if len(counts) != 32 {
		t.Errorf("only %d of 32 symbols used: the generator is biased", len(counts))
	}
}

func TestKeystreamMatchesReference(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 200 {
		secret := make([]byte, r.IntN(150))
		for j := range secret {
			secret[j] = byte(r.Uint32())
		}
		epoch := r.Int64N(1 << 40)
		nonce := strconv.FormatUint(r.Uint64(), 36)
		n := r.IntN(300)
		if i < 70 {
			n = i // every length around the first block boundaries
		}
		got := testKeystream(secret, epoch, nonce, n)
		if want := refKeystream(secret, epoch, nonce, n); string(got) != string(want) {
			t.Fatalf("secret %x epoch %d nonce %q n %d:\n got %x\nwant %x", secret, epoch, nonce, n, got, want)
		}
	}
}

func TestTagMatchesReference(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for range 100 {
		secret := make([]byte, r.IntN(200))
		for j := range secret {
			secret[j] = byte(r.Uint32())
		}
		text := strings.Repeat("x", r.IntN(300))
		p := mustPointer(t, string(secret), Message{Chat: "c", Username: "u", Text: text}, true)
		if want := refTag(secret, p.Epoch, p.Nonce, p.Data); p.Tag != want {
			t.Fatalf("tag %s, want %s", p.Tag, want)
		}
	}
}

func TestScanReportsDamagedPointers(t *testing.T) {
	p := mustPointer(t, "s", Message{Chat: "c", Username: "u", Text: "x"}, true)
	text := `{"e": 1, "n": "abc"} then {"e": "x", "n": "a", "d": "00"} then ` + p.String() +
		` then {"e": 1, "x": 2} and {"d": "zz", "n": 5} and {"a": {"b": 1}}`
	got := Scan(text)
	want := []Candidate{{Err: ErrMalformed}, {Err: ErrMalformed}, {Pointer: p}, {Err: ErrMalformed}}
	if len(got) != len(want) {
		t.Fatalf("Scan found %d candidates, want %d: %+v", len(got), len(want), got)
	}
	for i := range want {
		if got[i].Pointer != want[i].Pointer || !errors.Is(got[i].Err, want[i].Err) && got[i].Err != want[i].Err {
			t.Errorf("candidate %d = %+v, want %+v", i, got[i], want[i])
		}
	}
	if got := Extract(text); len(got) != 1 || got[0] != p {
		t.Errorf("Extract = %+v, want only the valid pointer", got)
	}
}

func TestMessageSizeLimitMatchesMaxDataLen(t *testing.T) {
	m := Message{Chat: "c", Username: "u"}
	m.Text = strings.Repeat("a", MaxDataLen/2-m.signedLen())
	p, err := NewPointer([]byte("s"), m, 1)
	if err != nil {
		t.Fatalf("the largest message was refused: %v", err)
	}
	if len(p.Data) != MaxDataLen {
		t.Fatalf("len(Data) = %d, want exactly MaxDataLen", len(p.Data))
	}
	if o, err := p.Open([]byte("s")); err != nil || o.Text != m.Text {
		t.Fatalf("the largest pointer does not open: %v", err)
	}
	m.Text += "a"
	if _, err := NewPointer([]byte("s"), m, 1); !errors.Is(err, ErrInvalidMessage) {
		t.Fatalf("a pointer that could not be opened was made: %v", err)
	}
}
