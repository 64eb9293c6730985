package clm

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
)

// String prints p exactly as the 2.0.2 client does (Python's json.dumps
// spacing): {"e": 1, "n": "…", "d": "…"}, with ", "t": "…"" when tagged.
func (p Pointer) String() string {
	var b strings.Builder
	b.WriteString(`{"e": `)
	b.WriteString(strconv.FormatInt(p.Epoch, 10))
	b.WriteString(`, "n": `)
	writePyString(&b, p.Nonce)
	b.WriteString(`, "d": `)
	writePyString(&b, p.Data)
	if p.Tag != "" {
		b.WriteString(`, "t": `)
		writePyString(&b, p.Tag)
	}
	b.WriteByte('}')
	return b.String()
}

// writePyString writes s as Python's json.dumps would (ensure_ascii=True).
func writePyString(b *strings.Builder, s string) {
	const hexdigits = "0123456789abcdef"
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"':
			b.WriteString(`\"`)
		case r == '\\':
			b.WriteString(`\\`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\b':
			b.WriteString(`\b`)
		case r == '\f':
			b.WriteString(`\f`)
		case r < 0x20 || r > 0x7e:
			if r > 0xffff {
				r -= 0x10000
				for _, u := range [2]rune{0xd800 + r>>10, 0xdc00 + r&0x3ff} {
					b.WriteString(`\u`)
					b.WriteByte(hexdigits[u>>12&0xf])
					b.WriteByte(hexdigits[u>>8&0xf])
					b.WriteByte(hexdigits[u>>4&0xf])
					b.WriteByte(hexdigits[u&0xf])
				}
				continue
			}
			b.WriteString(`\u`)
			b.WriteByte(hexdigits[r>>12&0xf])
			b.WriteByte(hexdigits[r>>8&0xf])
			b.WriteByte(hexdigits[r>>4&0xf])
			b.WriteByte(hexdigits[r&0xf])
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
}

// ParsePointer parses one pointer from its JSON text. "e" may be an integer
// or a string of decimal digits; unknown keys are ignored. Any other shape
// is [ErrMalformed].
func ParsePointer(text string) (Pointer, error) {
	raw, err := objectFields(text)
	if err != nil {
		return Pointer{}, err
	}
	return fromFields(raw)
}

// objectFields decodes one JSON object into its raw fields.
func objectFields(text string) (map[string]json.RawMessage, error) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal([]byte(text), &raw); err != nil || raw == nil {
		return nil, ErrMalformed
	}
	return raw, nil
}

func fromFields(raw map[string]json.RawMessage) (Pointer, error) {
	re, okE := raw["e"]
	rn, okN := raw["n"]
	rd, okD := raw["d"]
	if !okE || !okN || !okD {
		return Pointer{}, ErrMalformed
	}
	var p Pointer
	var err error
	if p.Epoch, err = parseEpoch(re); err != nil {
		return Pointer{}, err
	}
	if json.Unmarshal(rn, &p.Nonce) != nil || json.Unmarshal(rd, &p.Data) != nil {
		return Pointer{}, ErrMalformed
	}
	if rt, ok := raw["t"]; ok {
		if json.Unmarshal(rt, &p.Tag) != nil {
			return Pointer{}, ErrMalformed
		}
	}
	if len(p.Data)%2 != 0 || len(p.Data) > MaxDataLen {
		return Pointer{}, ErrMalformed
	}
	for i := 0; i < len(p.Data); i++ {
		c := p.Data[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return Pointer{}, ErrMalformed
		}
	}
	return p, nil
}

func parseEpoch(raw json.RawMessage) (int64, error) {
	s := string(bytes.TrimSpace(raw))
	if strings.HasPrefix(s, `"`) {
		if err := json.Unmarshal(raw, &s); err != nil || s == "" {
			return 0, ErrMalformed
		}
		for i := 0; i < len(s); i++ {
			if s[i] < '0' || s[i] > '9' {
				return 0, ErrMalformed
			}
		}
	}
	e, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, ErrMalformed
	}
	return e, nil
}
