package platform

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"

	"github.com/clmbridge/clmbridge/bridge"
)

// When several bridge instances serve one community, a request may reach
// an instance that does not own its member (see internal/cluster): a
// Discord DM arrives on shard 0, a Telegram webhook update on whichever
// instance the load balancer picked. The host then forwards the request
// to the member's owner, which answers the member through the platform's
// API itself. Two optional interfaces make that possible; an adapter that
// implements neither has its requests handled where they arrive.

// Relayable is implemented by a Responder that another instance can
// rebuild: RelayState encodes what it needs to answer (chat and message
// ids, an interaction's id and token), and Relayed tells it that another
// instance took the request over, so it must answer nothing more itself
// (no closing "Done.", no fallback reply).
//
// RelayState must hold no text the member typed and no secret: it travels
// sealed to the owner, but it is the platform's addressing only.
type Relayable interface {
	bridge.Responder
	RelayState() ([]byte, error)
	Relayed()
}

// Relay is implemented by an adapter whose requests can be answered by
// another instance. ServeRelayed rebuilds a Responder from state (what a
// Relayable of the same platform returned on the instance that received
// the request), sets it as req.Reply, has handle (the owner's own core)
// handle req, and then closes the request the way the adapter closes its
// own (an interaction's final answer, a callback's acknowledgement). It
// returns handle's error, or why state cannot be used.
type Relay interface {
	ServeRelayed(ctx context.Context, handle func(context.Context, bridge.Request) error, req bridge.Request, state []byte) error
}

// PollGate lets an adapter that must receive its updates on exactly one
// instance (Telegram long polling) take turns: Acquire blocks until this
// instance may receive (or ctx ends), and returns a channel that is closed
// when it lost that right (its database connection broke) and a release
// func to give it up. Hosts without several instances pass none.
type PollGate interface {
	Acquire(ctx context.Context) (lost <-chan struct{}, release func(), err error)
}

// ErrBadRelayState is returned by DecodeRelayState for a state that is
// empty, too large, not one JSON object of the expected shape, or
// followed by more data.
var ErrBadRelayState = errors.New("the relay state is malformed or too large (are all instances the same version?)")

// DecodeRelayState decodes a relay state strictly into v (a pointer to
// the adapter's state struct): at most max bytes, one JSON object with
// no field v does not have, and nothing after it. The state comes from
// another instance through the database, so an adapter checks what it
// decoded before answering anyone.
func DecodeRelayState(state []byte, max int, v any) error {
	if len(state) == 0 || len(state) > max {
		return ErrBadRelayState
	}
	dec := json.NewDecoder(bytes.NewReader(state))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil || dec.More() {
		return ErrBadRelayState
	}
	return nil
}
