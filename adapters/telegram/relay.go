package telegram

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	tele "gopkg.in/telebot.v3"

	"github.com/clmbridge/clmbridge/bridge"
	"github.com/clmbridge/clmbridge/platform"
)

// When several instances serve one bot, a request may arrive at an
// instance that does not own its member; the host forwards it to the
// owner (see platform.Relay). The responders below can be rebuilt there
// from their RelayState, and the owner answers the member through the Bot
// API itself, through its own outbox and pacing.
//
// A Receive button press is answered (answerCallbackQuery) exactly once,
// by the instance that handles it: the owner, when the request was
// relayed. Once the receiving side's responder is marked Relayed, its own
// closing answer is skipped. The owner answers within Telegram's limit on
// callback answers as long as the forward itself is quick (the cluster
// bounds it by its forward timeout, 5 s by default); when the owner is not
// reached the press goes unanswered and the member's client stops
// waiting by itself.

var (
	_ platform.Relayable = (*responder)(nil)
	_ platform.Relayable = (*callbackResponder)(nil)
	_ platform.Relay     = (*Adapter)(nil)
)

// Bounds of a relay state: far above what a real one holds.
const (
	maxRelayState = 2048
	maxRelayName  = 256 // a first, last or user name
	maxRelayID    = 128 // a callback query id or a command name
)

// relayStateVersion is the version of the relay state's encoding; an
// instance refuses a state of another version.
const relayStateVersion = 1

// relayState is a responder's addressing: who the member is (their id and
// the names a notice addresses them by), where the request came from and
// what it was. It holds nothing the member typed.
type relayState struct {
	V        int    `json:"v"`
	User     int64  `json:"u"`
	First    string `json:"f,omitempty"`
	Last     string `json:"l,omitempty"`
	Username string `json:"n,omitempty"`
	Chat     int64  `json:"c"`
	Private  bool   `json:"p,omitempty"`
	Msg      int    `json:"m,omitempty"`
	Cmd      string `json:"k,omitempty"`
	Callback string `json:"q,omitempty"` // the Receive press's callback query id
}

// errBadRelayState is what ServeRelayed returns for a state it cannot use.
var errBadRelayState = errors.New("telegram: the relayed request's state is not a Telegram request's; check that every instance runs the same version")

// errRelayedAway is what a responder returns once another instance took
// its request over.
var errRelayedAway = errors.New("telegram: this request was handed to another instance, which answers it")

func (r *responder) state() relayState {
	return relayState{V: relayStateVersion, User: r.user.ID, First: r.user.FirstName, Last: r.user.LastName,
		Username: r.user.Username, Chat: r.chat, Private: r.private, Msg: r.msgID, Cmd: r.cmd}
}

// RelayState encodes the request's addressing for the instance that owns
// its member (see platform.Relayable).
func (r *responder) RelayState() ([]byte, error) {
	return json.Marshal(r.state())
}

// Relayed marks the request as taken over by another instance: this
// responder answers nothing more (no hint after a send, no closing answer
// to a press), and its methods return an error.
func (r *responder) Relayed() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.relayed = true
}

// taken returns errRelayedAway once the request was relayed.
func (r *responder) taken() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.relayed {
		return errRelayedAway
	}
	return nil
}

// RelayState encodes the press's addressing, its callback query id
// included, for the instance that owns its member.
func (r *callbackResponder) RelayState() ([]byte, error) {
	st := r.state()
	st.Callback = r.cbID
	return json.Marshal(st)
}

// decodeRelayState reads and checks a state made by RelayState.
func decodeRelayState(data []byte) (relayState, error) {
	var st relayState
	if platform.DecodeRelayState(data, maxRelayState, &st) != nil {
		return relayState{}, errBadRelayState
	}
	switch {
	case st.V != relayStateVersion,
		st.User <= 0, st.Chat == 0, st.Msg < 0,
		st.Private && st.Chat != st.User, // a private chat's id is its user's
		!st.Private && st.Chat > 0,       // a group's id is negative
		len(st.First) > maxRelayName, len(st.Last) > maxRelayName, len(st.Username) > maxRelayName,
		len(st.Cmd) > maxRelayID, len(st.Callback) > maxRelayID:
		return relayState{}, errBadRelayState
	}
	return st, nil
}

// matches checks that req is the request st was made for: the same member
// and place.
func (st relayState) matches(req bridge.Request) error {
	kind := bridge.Public
	if st.Private {
		kind = bridge.Private
	}
	if req.Member.Platform != Name || req.Member.ID != strconv.FormatInt(st.User, 10) ||
		req.Place.ID != strconv.FormatInt(st.Chat, 10) || req.Place.Kind != kind {
		return fmt.Errorf("%w (its member or chat is not the request's)", errBadRelayState)
	}
	return nil
}

// ServeRelayed answers a request another instance received and relayed
// to this one, the member's owner (see platform.Relay): it rebuilds the
// responder from state, has handle answer req through it, and closes the
// request as a local one is closed (the hint after a private send with no
// group known, the press's answer when nothing answered it yet). Every
// answer goes through this adapter's outbox. A state that does not decode,
// or that names another member or chat than req, is refused and nothing
// is sent.
func (a *Adapter) ServeRelayed(ctx context.Context, handle func(context.Context, bridge.Request) error, req bridge.Request, state []byte) error {
	st, err := decodeRelayState(state)
	if err != nil {
		return err
	}
	if err := st.matches(req); err != nil {
		return err
	}
	if a.life.Err() != nil {
		return errors.New("telegram: the adapter has stopped; the request cannot be answered here")
	}
	if a.username() == "" {
		return errors.New("telegram: not connected to Telegram yet; retry once the bot is up")
	}
	// Stop answering when the adapter stops, like a local request.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	defer context.AfterFunc(a.life, cancel)()

	user := &tele.User{ID: st.User, FirstName: st.First, LastName: st.Last, Username: st.Username}
	if st.Callback != "" {
		cr := &callbackResponder{cbID: st.Callback,
			responder: responder{a: a, user: user, chat: st.Chat, private: st.Private, msgID: st.Msg, cmd: st.Cmd}}
		req.Reply = cr
		err = handle(ctx, req)
		cr.finish(ctx)
		return err
	}
	r := &responder{a: a, user: user, chat: st.Chat, private: st.Private, msgID: st.Msg, cmd: st.Cmd}
	req.Reply = r
	err = handle(ctx, req)
	a.closeMessage(ctx, r)
	return err
}
