package storage

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Input limits. Names are counted in Unicode code points.
const (
	MaxChatNameRunes = 64
	MaxNicknameRunes = 32
	maxRefBytes      = 128      // platform and platform user id
	maxUsernameBytes = 256      // a received message's sender, as sent
	maxNonceBytes    = 64       // the pointer's nonce
	maxPointerBytes  = 64 << 10 // a pointer text
	maxTextBytes     = 64 << 10 // a message
	maxSourceBytes   = 256      // each Source field
	MaxPageSize      = 500      // History and Search
	maxQueryRunes    = 256      // Search
	clmSeparator     = "|¶|"    // the CLM field separator
)

// checkName validates a chat name or nickname. Errors describe the problem
// without echoing the input (it may be a secret typed into the wrong box).
func checkName(what, s string, maxRunes int) error {
	switch {
	case s == "":
		return fmt.Errorf("%w: the %s is empty", ErrInvalid, what)
	case !utf8.ValidString(s):
		return fmt.Errorf("%w: the %s is not valid UTF-8 text", ErrInvalid, what)
	case utf8.RuneCountInString(s) > maxRunes:
		return fmt.Errorf("%w: the %s is longer than %d characters", ErrInvalid, what, maxRunes)
	case strings.Contains(s, clmSeparator):
		return fmt.Errorf("%w: the %s must not contain %q (the CLM separator)", ErrInvalid, what, clmSeparator)
	case strings.TrimSpace(s) != s:
		return fmt.Errorf("%w: the %s must not start or end with a space", ErrInvalid, what)
	}
	for _, r := range s {
		if unicode.IsControl(r) || isInvisibleFormat(r) {
			return fmt.Errorf("%w: the %s must not contain control or invisible formatting characters", ErrInvalid, what)
		}
	}
	return nil
}

// isInvisibleFormat reports format characters (Cf) that can disguise a
// name, such as bidi overrides and zero-width spaces. The zero-width joiner
// is allowed: emoji sequences need it.
func isInvisibleFormat(r rune) bool {
	return unicode.Is(unicode.Cf, r) && r != '\u200d'
}

func checkChatName(name string) error { return checkName("chat name", name, MaxChatNameRunes) }

func checkNickname(nick string) error { return checkName("nickname", nick, MaxNicknameRunes) }

func checkRef(ref MemberRef) error {
	for _, f := range []struct{ what, v string }{{"platform", ref.Platform}, {"platform user id", ref.UserID}} {
		switch {
		case f.v == "":
			return fmt.Errorf("%w: the member's %s is empty", ErrInvalid, f.what)
		case len(f.v) > maxRefBytes:
			return fmt.Errorf("%w: the member's %s is longer than %d bytes", ErrInvalid, f.what, maxRefBytes)
		case !utf8.ValidString(f.v):
			return fmt.Errorf("%w: the member's %s is not valid UTF-8", ErrInvalid, f.what)
		case strings.ContainsFunc(f.v, unicode.IsControl):
			return fmt.Errorf("%w: the member's %s contains control characters", ErrInvalid, f.what)
		}
	}
	return nil
}

func checkText(what, s string, maxBytes int, required bool) error {
	switch {
	case required && s == "":
		return fmt.Errorf("%w: the message's %s is empty", ErrInvalid, what)
	case len(s) > maxBytes:
		return fmt.Errorf("%w: the message's %s is longer than %d bytes", ErrInvalid, what, maxBytes)
	case !utf8.ValidString(s):
		return fmt.Errorf("%w: the message's %s is not valid UTF-8", ErrInvalid, what)
	}
	return nil
}

func checkNewMessage(m NewMessage) error {
	if m.Direction != Sent && m.Direction != Received {
		return fmt.Errorf("%w: the message direction must be %q or %q", ErrInvalid, Sent, Received)
	}
	for _, c := range []struct {
		what     string
		v        string
		max      int
		required bool
	}{
		{"pointer", m.Pointer, maxPointerBytes, true},
		{"nonce", m.Nonce, maxNonceBytes, false},
		{"username", m.Username, maxUsernameBytes, false},
		{"text", m.Text, maxTextBytes, false},
		{"source platform", m.Source.Platform, maxSourceBytes, false},
		{"source channel", m.Source.Channel, maxSourceBytes, false},
		{"source message id", m.Source.MessageID, maxSourceBytes, false},
	} {
		if err := checkText(c.what, c.v, c.max, c.required); err != nil {
			return err
		}
	}
	return nil
}

func checkPage(p Page) error {
	switch {
	case p.Size < 1 || p.Size > MaxPageSize:
		return fmt.Errorf("%w: page size must be 1..%d", ErrInvalid, MaxPageSize)
	case p.Page < 0:
		return fmt.Errorf("%w: page number must not be negative (the first page is 0)", ErrInvalid)
	case p.Page > (1<<31)/p.Size:
		return fmt.Errorf("%w: page number is too large", ErrInvalid)
	}
	return nil
}
