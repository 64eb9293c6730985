package bridge

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// PointerErrorKind says why MakePointer made no pointer, so an adapter can
// branch on it (offer a way to unlock, stay quiet while the member types
// too fast) without reading the words.
type PointerErrorKind int

const (
	// PointerRateLimited: the member asks for offers faster than the
	// offer budget allows; PointerError.Wait says for how long.
	PointerRateLimited PointerErrorKind = iota + 1
	// PointerBadChatName: the chat name is empty, too long or not valid.
	PointerBadChatName
	// PointerInvalidText: the message is empty or not valid UTF-8.
	PointerInvalidText
	// PointerNotUnlocked: the member has no unlocked session of the chat.
	PointerNotUnlocked
	// PointerNoRoom: the chat name and nickname leave no room for any
	// text in a pointer of PointerError.Limit characters.
	PointerNoRoom
	// PointerTooLong: the message is longer than the PointerError.Max
	// bytes that fit in one pointer.
	PointerTooLong
	// PointerFailed: something broke on the bridge's side.
	PointerFailed
)

// PointerError is the error MakePointer returns when the member's input is
// the reason no pointer was made (or the bridge failed, PointerFailed).
// Error gives the words to show the member; it holds the chat name but
// never the message text or a secret.
type PointerError struct {
	Kind PointerErrorKind
	// Chat is the chat name asked for.
	Chat string
	// Max is, for PointerTooLong, how many bytes of text fit.
	Max int
	// Limit is, for PointerTooLong and PointerNoRoom, the platform's
	// characters per message.
	Limit int
	// Wait is, for PointerRateLimited, how long until the next offer.
	Wait time.Duration
	// reason is the member-facing words of a PointerBadChatName.
	reason string
}

// Error says what went wrong and what to do next, in words for the member.
func (e *PointerError) Error() string {
	switch e.Kind {
	case PointerRateLimited:
		return "you are typing faster than I make pointers; try again in " + human(e.Wait)
	case PointerBadChatName:
		return e.reason
	case PointerInvalidText:
		return "the message is empty or not valid text"
	case PointerNotUnlocked:
		return fmt.Sprintf("%s is locked: unlock it in a private chat with me first: /clm unlock %s <secret>", e.Chat, quoteName(e.Chat))
	case PointerNoRoom:
		return fmt.Sprintf("the chat name and your nickname are too long for a pointer here (%d characters per message): use a shorter nickname (/clm name)", e.Limit)
	case PointerTooLong:
		return fmt.Sprintf("too long: at most %d bytes fit in one pointer to %s here (%d characters per message); shorten it", e.Max, e.Chat, e.Limit)
	}
	return "something went wrong on my side; try again later"
}

// Is reports whether target is a *PointerError of the same Kind, so
// errors.Is(err, &bridge.PointerError{Kind: bridge.PointerNotUnlocked})
// works as well as errors.As.
func (e *PointerError) Is(target error) bool {
	t, ok := target.(*PointerError)
	return ok && t.Kind == e.Kind
}

// maxPointerErrorBytes bounds an encoded PointerError read back.
const maxPointerErrorBytes = 4 << 10

// pointerErrorWire is PointerError as MarshalBinary encodes it.
type pointerErrorWire struct {
	Kind   PointerErrorKind `json:"k"`
	Chat   string           `json:"c,omitempty"`
	Max    int              `json:"m,omitempty"`
	Limit  int              `json:"l,omitempty"`
	Wait   time.Duration    `json:"w,omitempty"`
	Reason string           `json:"r,omitempty"`
}

// MarshalBinary encodes e so that another instance of a cluster can give
// the adapter the same error (UnmarshalBinary). It holds what Error shows
// and nothing more: the chat name, never text or a secret.
func (e *PointerError) MarshalBinary() ([]byte, error) {
	return json.Marshal(pointerErrorWire{Kind: e.Kind, Chat: e.Chat, Max: e.Max, Limit: e.Limit, Wait: e.Wait, Reason: e.reason})
}

// UnmarshalBinary decodes what MarshalBinary made; it refuses more than a
// few kilobytes and unknown kinds.
func (e *PointerError) UnmarshalBinary(data []byte) error {
	if len(data) > maxPointerErrorBytes {
		return errors.New("bridge: an encoded pointer error is too large")
	}
	var w pointerErrorWire
	if err := json.Unmarshal(data, &w); err != nil {
		return fmt.Errorf("bridge: decoding a pointer error: %w", err)
	}
	if w.Kind < PointerRateLimited || w.Kind > PointerFailed {
		return errors.New("bridge: an encoded pointer error has an unknown kind")
	}
	*e = PointerError{Kind: w.Kind, Chat: w.Chat, Max: w.Max, Limit: w.Limit, Wait: w.Wait, reason: w.Reason}
	return nil
}
