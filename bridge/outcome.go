package bridge

// Outcome is how the core ended a request, for logs and metrics: one of
// the constants below, never member input. It is a number, so a word
// that is not one of them cannot be assigned; String gives its word.
type Outcome int

// The outcomes of a request.
const (
	OutcomeOK          Outcome = iota // done as asked
	OutcomeUsage                      // bad arguments; the member was shown how to write them
	OutcomeNotFound                   // no such chat or message
	OutcomeExists                     // the chat already exists
	OutcomeTooLong                    // the message does not fit the platform's limit
	OutcomeRefused                    // policy said no (a secret or plaintext in public)
	OutcomeLocked                     // the chat is not unlocked
	OutcomeExpired                    // the question the member answered timed out
	OutcomeLimited                    // a budget or a limit is used up
	OutcomeBackoff                    // too many wrong secrets: the member must wait
	OutcomeWrongSecret                // a secret did not open the chat or pointer
	OutcomeTampered                   // a pointer's tag did not verify
	OutcomeNotOpened                  // no unlocked chat opened the pointers
	OutcomeDamaged                    // a stored message could not be read back
	OutcomeNoQuestion                 // an answer came with no question open
	OutcomeAmbiguous                  // a line may be the secret asked for or a command
	OutcomeUnknown                    // not a command the bridge knows
	OutcomeError                      // something broke on our side
)

// Outcomes lists every Outcome, so metrics can declare each value before
// it first happens.
func Outcomes() []Outcome {
	all := make([]Outcome, 0, outcomeCount)
	for o := range outcomeCount {
		all = append(all, o)
	}
	return all
}

// outcomeCount is how many outcomes there are.
const outcomeCount = OutcomeError + 1

// String returns the outcome's word ("ok", "wrong-secret"…), as logs and
// metrics show it.
func (o Outcome) String() string {
	switch o {
	case OutcomeOK:
		return "ok"
	case OutcomeUsage:
		return "usage"
	case OutcomeNotFound:
		return "not-found"
	case OutcomeExists:
		return "exists"
	case OutcomeTooLong:
		return "too-long"
	case OutcomeRefused:
		return "refused"
	case OutcomeLocked:
		return "locked"
	case OutcomeExpired:
		return "expired"
	case OutcomeLimited:
		return "limited"
	case OutcomeBackoff:
		return "backoff"
	case OutcomeWrongSecret:
		return "wrong-secret"
	case OutcomeTampered:
		return "tampered"
	case OutcomeNotOpened:
		return "not-opened"
	case OutcomeDamaged:
		return "damaged"
	case OutcomeNoQuestion:
		return "no-question"
	case OutcomeAmbiguous:
		return "ambiguous"
	case OutcomeUnknown:
		return "unknown"
	case OutcomeError:
		return "error"
	}
	return "unknown-outcome"
}
