package bridge

import (
	"context"
	"errors"
)

// Confirmer is an optional interface of a Responder whose platform can put
// buttons under a private answer (Discord). The core uses it to ask for a
// confirmation before something it cannot undo (clear, forget); a
// Responder without it gets the question in words, with the command to
// type.
type Confirmer interface {
	// Confirm shows question to the member only, with a button to go ahead
	// and one to drop it. A press comes back as a new request for
	// yesCommand or noCommand: a command name and its arguments, as the
	// member would type them after /clm (`forget "Project Athena" confirm`,
	// `cancel`). It returns ErrCannotConfirm, having shown nothing, when
	// it cannot make those buttons; the core then asks in words.
	Confirm(ctx context.Context, question, yesCommand, noCommand string) error
}

// ErrCannotConfirm is returned by Confirmer.Confirm when it cannot offer
// buttons for that question (such as a command too long for a button).
var ErrCannotConfirm = errors.New("bridge: cannot ask for a confirmation with buttons here")

// confirmPrivately asks the member question privately: with buttons for
// yesCommand and noCommand where the Responder offers them, otherwise in
// words, with typed appended (how to answer by typing).
func (c *call) confirmPrivately(question, typed, yesCommand, noCommand string) {
	if cf, ok := c.req.Reply.(Confirmer); ok {
		err := cf.Confirm(c.ctx, question, yesCommand, noCommand)
		if err == nil {
			return
		}
		if !errors.Is(err, ErrCannotConfirm) {
			c.noteErr("confirmation", err)
			return
		}
	}
	c.private(question + " " + typed)
}
