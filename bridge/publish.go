package bridge

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"unicode/utf8"

	"github.com/clmbridge/clmbridge/clm"
	"github.com/clmbridge/clmbridge/storage"
)

// Bounds on a Published read back from another instance (it comes
// through the database, so it is checked before it is used).
const (
	// MaxPublishedPointerBytes is the longest pointer text a Published
	// may carry.
	MaxPublishedPointerBytes = 64 << 10
	// maxPublishedFieldBytes bounds Published's ids and names.
	maxPublishedFieldBytes = 512
)

// Published is a channel post that held pointers, as one instance
// publishes it to every instance of a cluster (see Options.Publish), so
// that each runs watch for the members it holds sessions of. It holds no
// secret and no plaintext: pointers are public, and so is where they were
// posted and by whom.
type Published struct {
	// Place is the channel the post was made in; Poster made it (their
	// Platform is the channel's platform).
	Place  Place
	Poster Member
	// Pointers are the post's pointers, as text (at most
	// MaxPointersPerRequest, each at most MaxPublishedPointerBytes).
	Pointers []string
	// ReceiveRef is the Receive button the publishing instance put under
	// the post ("" when the platform has no buttons): every instance
	// remembers it, so a press reaching any of them opens the post.
	ReceiveRef string
	// MessageID is the post's platform id, for the history's source.
	MessageID string
	// ButtonOnly is set for a post the bridge made itself (a pointer sent
	// from confidential input): every instance learns its Receive button,
	// but watch does not run for it, as on one instance.
	ButtonOnly bool
}

// errBadPublished says why a Published is refused.
var errBadPublished = errors.New("bridge: a published post is malformed or too large; it was ignored")

// check validates p and returns its pointers parsed.
func (p Published) check() ([]clm.Pointer, error) {
	if p.Poster.Platform == "" || p.Poster.ID == "" || len(p.Pointers) == 0 || len(p.Pointers) > MaxPointersPerRequest ||
		len(p.ReceiveRef) > MaxReceiveRefBytes {
		return nil, errBadPublished
	}
	for _, s := range []string{p.Poster.Platform, p.Poster.ID, p.Poster.DisplayName, p.Place.ID, p.Place.Name, p.MessageID} {
		if len(s) > maxPublishedFieldBytes || !utf8.ValidString(s) {
			return nil, errBadPublished
		}
	}
	if p.Place.Kind != Public {
		return nil, errBadPublished
	}
	pointers := make([]clm.Pointer, 0, len(p.Pointers))
	for _, s := range p.Pointers {
		if len(s) > MaxPublishedPointerBytes {
			return nil, errBadPublished
		}
		ptr, err := clm.ParsePointer(s)
		if err != nil {
			return nil, fmt.Errorf("%w (a pointer does not parse)", errBadPublished)
		}
		pointers = append(pointers, ptr)
	}
	return pointers, nil
}

// publishOrWatch hands the post's pointers to Options.Publish when set
// (every instance, this one included, then runs watch for the members it
// holds), and otherwise, or when publishing fails, runs watch here. It
// returns how many pointers watch opened here (0 when published).
func (c *call) publishOrWatch(pointers []clm.Pointer, src storage.Source, ref string) int {
	b := c.b
	if b.opts.Publish != nil {
		texts := make([]string, len(pointers))
		for i, p := range pointers {
			texts[i] = p.String()
		}
		err := b.opts.Publish(c.ctx, Published{Place: c.req.Place, Poster: c.req.Member, Pointers: texts, ReceiveRef: ref, MessageID: c.req.MessageID})
		if err == nil {
			return 0
		}
		b.log.LogAttrs(c.ctx, slog.LevelWarn, "publishing a post's pointers failed; watch runs for this instance's members only",
			slog.String("platform", c.req.Member.Platform), slog.String("error", err.Error()))
	}
	return b.watchDeliver(c.req, pointers, src)
}

// DeliverPublished handles a post another instance (or this one)
// published: it remembers the post's Receive button under the same ref
// and place (once: the publisher has it already), then runs watch for the
// members who hold sessions here and were seen in the post's place, as
// for a post made here. A malformed or oversized p is logged and ignored.
func (b *Bridge) DeliverPublished(ctx context.Context, p Published) {
	pointers, err := p.check()
	if err != nil {
		b.log.LogAttrs(ctx, slog.LevelWarn, "published post ignored", slog.String("error", err.Error()))
		return
	}
	if !b.enter() {
		return
	}
	defer b.inflight.Done()
	src := storage.Source{Platform: p.Poster.Platform, Channel: p.Place.ID, MessageID: p.MessageID}
	if p.ReceiveRef != "" {
		b.refs.putAs(p.ReceiveRef, pointers, src, channelKey{platform: p.Poster.Platform, id: p.Place.ID}, keyOf(p.Poster))
	}
	if !p.ButtonOnly {
		b.watchDeliver(Request{Member: p.Poster, Place: p.Place}, pointers, src)
	}
}

// shareButton publishes a Receive button the bridge put under a post of
// its own, so a press reaching another instance finds it (see
// Published.ButtonOnly). Without Options.Publish it does nothing; a
// failure is logged (the button then works where the member's owner made
// it).
func (c *call) shareButton(p clm.Pointer, ref string) {
	if c.b.opts.Publish == nil {
		return
	}
	err := c.b.opts.Publish(c.ctx, Published{Place: c.req.Place, Poster: c.req.Member, Pointers: []string{p.String()},
		ReceiveRef: ref, MessageID: c.req.MessageID, ButtonOnly: true})
	if err != nil {
		c.b.log.LogAttrs(c.ctx, slog.LevelWarn, "sharing a Receive button with the other instances failed",
			slog.String("platform", c.req.Member.Platform), slog.String("error", err.Error()))
	}
}

// NoteSeen remembers that m was seen in the public place p, for watch
// deliveries, as a request of m's there does: another instance that saw
// m's chatter tells m's owner with it.
func (b *Bridge) NoteSeen(m Member, p Place) {
	b.noteSeen(Request{Member: m, Place: p})
}

// KnowsReceiveRef reports whether this instance has the Receive button
// ref shown in place (made here, or learnt from a publish). An owner that
// gets a press forwarded before the post's publish reached it waits for
// it a moment (see relay.Router).
func (b *Bridge) KnowsReceiveRef(ref string, m Member, place Place) bool {
	_, ok := b.refs.get(ref, channelKey{platform: m.Platform, id: place.ID})
	return ok
}
