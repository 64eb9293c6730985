package bridge

import (
	"errors"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/clmbridge/clmbridge/clm"
	"github.com/clmbridge/clmbridge/storage"
)

// Limits on names a member chooses: storage's, checked here too so the
// member gets a friendly answer before any work is done.
const (
	// MaxChatNameRunes is the longest chat name the bridge accepts.
	MaxChatNameRunes = storage.MaxChatNameRunes
	// MaxNicknameRunes is the longest nickname the bridge accepts.
	MaxNicknameRunes = storage.MaxNicknameRunes
)

// errUnterminatedQuote is returned by nextWord for `"Project Athena` with
// no closing quote.
var errUnterminatedQuote = errors.New("a quote is not closed")

// closingQuote returns the closing quote for an opening quote the parser
// accepts, or 0. Phones often turn " into curly quotes, so those count too.
func closingQuote(open rune) rune {
	switch open {
	case '"':
		return '"'
	case '\u201c': // “ ”
		return '\u201d'
	case '\u201e': // „ “
		return '\u201c'
	case '\u00ab': // « »
		return '\u00bb'
	}
	return 0
}

// nextWord splits the first word off s: leading white space is skipped, a
// word is either a run of non-space characters or a quoted string (the
// quotes removed; inside straight quotes, \" and \\ stand for " and \).
// rest is what follows the word with its leading white space removed, and
// otherwise verbatim (newlines kept).
func nextWord(s string) (word, rest string, err error) {
	s = strings.TrimLeftFunc(s, unicode.IsSpace)
	if s == "" {
		return "", "", nil
	}
	first, size := utf8.DecodeRuneInString(s)
	if closing := closingQuote(first); closing != 0 {
		var b strings.Builder
		for i := size; i < len(s); {
			r, n := utf8.DecodeRuneInString(s[i:])
			switch {
			case r == '\\' && first == '"' && i+n < len(s) && (s[i+n] == '"' || s[i+n] == '\\'):
				b.WriteByte(s[i+n])
				i += n + 1
				continue
			case r == closing:
				return b.String(), strings.TrimLeftFunc(s[i+n:], unicode.IsSpace), nil
			}
			b.WriteString(s[i : i+n])
			i += n
		}
		return "", "", errUnterminatedQuote
	}
	end := strings.IndexFunc(s, unicode.IsSpace)
	if end < 0 {
		return s, "", nil
	}
	return s[:end], strings.TrimLeftFunc(s[end:], unicode.IsSpace), nil
}

// quoteName returns name as the member should type it in a command: quoted
// when it holds white space or starts with a quote, so that nextWord reads
// it back unchanged.
func quoteName(name string) string {
	if name == "" {
		return `""`
	}
	needs := strings.IndexFunc(name, unicode.IsSpace) >= 0
	if r, _ := utf8.DecodeRuneInString(name); closingQuote(r) != 0 {
		needs = true
	}
	if !needs {
		return name
	}
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`)
	return `"` + r.Replace(name) + `"`
}

// QuoteName returns name as a member types it in a command, quoted when
// it must be, so the core reads it back unchanged: adapters use it to put
// a chat name from a form or an option into Request.Args.
func QuoteName(name string) string { return quoteName(name) }

// checkName says, in words for the member, what is wrong with a chat name or
// nickname, or returns "" when it is acceptable.
func checkName(what, name string, maxRunes int) string {
	switch {
	case name == "":
		return "The " + what + " is empty."
	case !utf8.ValidString(name):
		return "The " + what + " is not valid text (UTF-8)."
	case utf8.RuneCountInString(name) > maxRunes:
		return "The " + what + " is too long: at most " + itoa(maxRunes) + " characters."
	case strings.Contains(name, clm.Separator):
		return "The " + what + " must not contain " + clm.Separator + "."
	case strings.TrimSpace(name) != name:
		return "The " + what + " must not start or end with a space."
	}
	for _, r := range name {
		if unicode.IsControl(r) || (unicode.Is(unicode.Cf, r) && r != '\u200d') {
			return "The " + what + " must be on one line, without control or invisible characters."
		}
	}
	return ""
}
