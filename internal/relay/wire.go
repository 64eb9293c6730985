package relay

import (
	"encoding/json"
	"errors"
	"fmt"
	"unicode/utf8"

	"github.com/clmbridge/clmbridge/bridge"
)

// Kinds of the messages a Router forwards (cluster.Message.Kind).
const (
	kindRequest  = "request"  // a request for ServeRelayed
	kindSeen     = "seen"     // a member was seen in a channel (one way)
	kindLeft     = "left"     // MemberLeft
	kindMake     = "make"     // MakePointer
	kindSent     = "sent"     // RecordSent
	kindUnlocked = "unlocked" // UnlockedChats
)

// Bounds on what a Router decodes: it comes through the database.
const (
	// MaxRequestBytes is the largest encoded request a Router accepts.
	MaxRequestBytes = 256 << 10
	// MaxPublishedBytes is the largest encoded published post.
	MaxPublishedBytes = 1 << 20
	// maxIDBytes bounds a member's platform, id and name, and a place's.
	maxIDBytes = 512
	// maxStateBytes bounds an adapter's relay state.
	maxStateBytes = 8 << 10
	// maxAnswerBytes bounds an answer read back (names, a pointer).
	maxAnswerBytes = 64 << 10
)

// errMalformed says a forwarded message could not be used.
var errMalformed = errors.New("relay: a forwarded message is malformed or too large; it was ignored")

// wireRequest is a bridge.Request as forwarded to the member's owner,
// with the receiving adapter's relay state instead of the Responder.
type wireRequest struct {
	Member       bridge.Member       `json:"m"`
	Place        bridge.Place        `json:"p"`
	Command      string              `json:"c,omitempty"`
	Args         string              `json:"a,omitempty"`
	Post         string              `json:"t,omitempty"`
	ReceiveRef   string              `json:"r,omitempty"`
	Quoted       string              `json:"q,omitempty"`
	MessageID    string              `json:"i,omitempty"`
	Confidential bool                `json:"f,omitempty"`
	Caps         bridge.Capabilities `json:"k"`
	State        []byte              `json:"s,omitempty"`
}

func toWire(req bridge.Request, state []byte) wireRequest {
	return wireRequest{Member: req.Member, Place: req.Place, Command: req.Command, Args: req.Args, Post: req.Post,
		ReceiveRef: req.ReceiveRef, Quoted: req.Quoted, MessageID: req.MessageID, Confidential: req.Confidential,
		Caps: req.Caps, State: state}
}

// request rebuilds the bridge.Request (without its Responder).
func (w wireRequest) request() bridge.Request {
	return bridge.Request{Member: w.Member, Place: w.Place, Command: w.Command, Args: w.Args, Post: w.Post,
		ReceiveRef: w.ReceiveRef, Quoted: w.Quoted, MessageID: w.MessageID, Confidential: w.Confidential, Caps: w.Caps}
}

func (w wireRequest) check() error {
	if err := checkMember(w.Member); err != nil {
		return err
	}
	if err := checkPlace(w.Place); err != nil {
		return err
	}
	if len(w.State) > maxStateBytes || len(w.ReceiveRef) > bridge.MaxReceiveRefBytes || len(w.MessageID) > maxIDBytes {
		return errMalformed
	}
	return nil
}

// wireSeen is a "seen" note, and a MemberLeft.
type wireSeen struct {
	Member  bridge.Member `json:"m"`
	Place   bridge.Place  `json:"p"`
	PlaceID string        `json:"l,omitempty"` // MemberLeft
	All     bool          `json:"a,omitempty"` // MemberLeft
}

// wireMake is a MakePointer or a RecordSent (Text is then the pointer).
type wireMake struct {
	Member   bridge.Member `json:"m"`
	Chat     string        `json:"c,omitempty"`
	Text     string        `json:"t"`
	MaxChars int           `json:"x,omitempty"`
}

// wireMade is MakePointer's answer: the pointer (public), or the
// member-facing error.
type wireMade struct {
	Pointer string `json:"p,omitempty"`
	Err     []byte `json:"e,omitempty"` // a bridge.PointerError, encoded
}

func checkMember(m bridge.Member) error {
	if m.Platform == "" || m.ID == "" {
		return errMalformed
	}
	for _, s := range []string{m.Platform, m.ID, m.DisplayName} {
		if len(s) > maxIDBytes || !utf8.ValidString(s) {
			return errMalformed
		}
	}
	return nil
}

func checkPlace(p bridge.Place) error {
	if p.Kind != bridge.Private && p.Kind != bridge.Public {
		return errMalformed
	}
	for _, s := range []string{p.ID, p.Name} {
		if len(s) > maxIDBytes || !utf8.ValidString(s) {
			return errMalformed
		}
	}
	return nil
}

// decode reads a bounded JSON body into v.
func decode(body []byte, limit int, v any) error {
	if len(body) > limit {
		return errMalformed
	}
	if err := json.Unmarshal(body, v); err != nil {
		return fmt.Errorf("%w (%s)", errMalformed, jsonProblem(err))
	}
	return nil
}

// jsonProblem names what was wrong with a body without quoting it.
func jsonProblem(err error) string {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return "not JSON"
	case errors.As(err, &te):
		return "a field of the wrong type"
	}
	return "unreadable"
}
