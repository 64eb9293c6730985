package clm

import (
	"encoding/json"
	"strings"
)

// Extract finds every pointer in arbitrary chat text (code fences, inline
// backticks, quotes, pretty-printed JSON, several in one post), in order.
//
// A pointer is a JSON object with the keys "e", "n" and "d" (and optionally
// "t") whose values are all strings or numbers; other objects are ignored,
// but a pointer nested inside one is still found. The scan is linear in the
// length of text, whatever it holds.
func Extract(text string) []Pointer {
	var out []Pointer
	scan(text, nil, func(p Pointer, err error) {
		if err == nil {
			out = append(out, p)
		}
	})
	return out
}

// Candidate is one pointer-shaped JSON object found by [Scan].
type Candidate struct {
	Pointer Pointer // the pointer, when Err is nil
	Err     error   // ErrMalformed for an object that looks like a damaged pointer
}

// Scan is [Extract] that also reports damaged pointers, for tools that
// should tell a user "this pointer is malformed" rather than nothing: a
// JSON object with at least two of the keys "e", "n" and "d" that is not a
// valid pointer comes back with Err set to [ErrMalformed].
func Scan(text string) []Candidate {
	var out []Candidate
	scan(text, nil, func(p Pointer, err error) {
		out = append(out, Candidate{Pointer: p, Err: err})
	})
	return out
}

// scan calls found for each pointer-shaped object in text, in order. When
// work is not nil it adds the number of bytes examined, so tests can check
// the scan stays linear without timing it.
//
// Each '{' starts a candidate, scanned as a flat JSON object. A candidate
// that is a complete object is skipped whole whether or not it is a pointer:
// no pointer can start inside one (a '{' there is inside a string, and from
// there the object's strings and structure swap roles, so any key seen is
// made of the object's punctuation, never "e"). A candidate that fails stops
// at the first byte that breaks it, which is at or before the next '{' outside
// its strings; so each byte is examined by a small bounded number of
// candidates.
func scan(text string, work *int, found func(Pointer, error)) {
	for i := 0; i < len(text); {
		j := strings.IndexByte(text[i:], '{')
		if j < 0 {
			return
		}
		i += j
		end, ok := scanObject(text, i)
		if work != nil {
			*work += end - i
		}
		if !ok {
			i++
			continue
		}
		if raw, err := objectFields(text[i:end]); err == nil {
			if p, err := fromFields(raw); err == nil {
				found(p, nil)
			} else if pointerShaped(raw) {
				found(Pointer{}, err)
			}
		}
		i = end
	}
}

// pointerShaped reports whether an object has at least two of the keys
// "e", "n" and "d": a damaged pointer rather than some other object.
func pointerShaped(raw map[string]json.RawMessage) bool {
	n := 0
	for _, k := range [...]string{"e", "n", "d"} {
		if _, ok := raw[k]; ok {
			n++
		}
	}
	return n >= 2
}

// scanObject scans the flat JSON object (string or number values, or
// true/false/null) starting at text[i] == '{'. It returns the index just past
// the closing brace and true, or where it stopped and false.
func scanObject(text string, i int) (int, bool) {
	i = skipSpace(text, i+1)
	if i < len(text) && text[i] == '}' {
		return i + 1, true
	}
	for {
		var ok bool
		if i, ok = scanString(text, i); !ok {
			return i, false
		}
		i = skipSpace(text, i)
		if i >= len(text) || text[i] != ':' {
			return i, false
		}
		i = skipSpace(text, i+1)
		if i, ok = scanScalar(text, i); !ok {
			return i, false
		}
		i = skipSpace(text, i)
		if i >= len(text) {
			return i, false
		}
		switch text[i] {
		case ',':
			i = skipSpace(text, i+1)
		case '}':
			return i + 1, true
		default:
			return i, false
		}
	}
}

func skipSpace(text string, i int) int {
	for i < len(text) && (text[i] == ' ' || text[i] == '\n' || text[i] == '\r' || text[i] == '\t') {
		i++
	}
	return i
}

// scanString scans a JSON string starting at text[i] == '"'.
func scanString(text string, i int) (int, bool) {
	if i >= len(text) || text[i] != '"' {
		return i, false
	}
	for i++; i < len(text); i++ {
		switch c := text[i]; {
		case c == '"':
			return i + 1, true
		case c < 0x20:
			return i, false
		case c == '\\':
			i++
			if i >= len(text) {
				return i, false
			}
			switch text[i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				for k := 0; k < 4; k++ {
					i++
					if i >= len(text) || !isHex(text[i]) {
						return i, false
					}
				}
			default:
				return i, false
			}
		}
	}
	return i, false
}

// scanScalar scans a JSON string, number, true, false or null.
func scanScalar(text string, i int) (int, bool) {
	if i >= len(text) {
		return i, false
	}
	switch c := text[i]; {
	case c == '"':
		return scanString(text, i)
	case c == '-' || isDigit(c):
		return scanNumber(text, i)
	}
	for _, lit := range [...]string{"true", "false", "null"} {
		if strings.HasPrefix(text[i:], lit) {
			return i + len(lit), true
		}
	}
	return i, false
}

// scanNumber scans -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func scanNumber(text string, i int) (int, bool) {
	if text[i] == '-' {
		i++
	}
	switch {
	case i < len(text) && text[i] == '0':
		i++
	case i < len(text) && isDigit(text[i]):
		i = skipDigits(text, i)
	default:
		return i, false
	}
	if i < len(text) && text[i] == '.' {
		j := skipDigits(text, i+1)
		if j == i+1 {
			return j, false
		}
		i = j
	}
	if i < len(text) && (text[i] == 'e' || text[i] == 'E') {
		i++
		if i < len(text) && (text[i] == '+' || text[i] == '-') {
			i++
		}
		j := skipDigits(text, i)
		if j == i {
			return j, false
		}
		i = j
	}
	return i, true
}

func skipDigits(text string, i int) int {
	for i < len(text) && isDigit(text[i]) {
		i++
	}
	return i
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func isHex(c byte) bool { return isDigit(c) || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F' }
