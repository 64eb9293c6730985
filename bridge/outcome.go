package bridge

// Outcome is how the core ended a request, for logs and metrics: one of
// the constants below, never member input.
type Outcome string

// The outcomes of a request.
const (
	OutcomeOK          Outcome = "ok"           // done as asked
	OutcomeUsage       Outcome = "usage"        // bad arguments; the member was shown how to write them
	OutcomeNotFound    Outcome = "not-found"    // no such chat or message
	OutcomeExists      Outcome = "exists"       // the chat already exists
	OutcomeTooLong     Outcome = "too-long"     // the message does not fit the platform's limit
	OutcomeRefused     Outcome = "refused"      // policy said no (a secret or plaintext in public)
	OutcomeLocked      Outcome = "locked"       // the chat is not unlocked
	OutcomeExpired     Outcome = "expired"      // the question the member answered timed out
	OutcomeLimited     Outcome = "limited"      // a budget or a limit is used up
	OutcomeBackoff     Outcome = "backoff"      // too many wrong secrets: the member must wait
	OutcomeWrongSecret Outcome = "wrong-secret" // a secret did not open the chat or pointer
	OutcomeTampered    Outcome = "tampered"     // a pointer's tag did not verify
	OutcomeNotOpened   Outcome = "not-opened"   // no unlocked chat opened the pointers
	OutcomeDamaged     Outcome = "damaged"      // a stored message could not be read back
	OutcomeNoQuestion  Outcome = "no-question"  // an answer came with no question open
	OutcomeAmbiguous   Outcome = "ambiguous"    // a line may be the secret asked for or a command
	OutcomeUnknown     Outcome = "unknown"      // not a command the bridge knows
	OutcomeError       Outcome = "error"        // something broke on our side
)

// Outcomes lists every Outcome, so metrics can declare each value before
// it first happens.
func Outcomes() []Outcome {
	return []Outcome{OutcomeOK, OutcomeUsage, OutcomeNotFound, OutcomeExists, OutcomeTooLong,
		OutcomeRefused, OutcomeLocked, OutcomeExpired, OutcomeLimited, OutcomeBackoff,
		OutcomeWrongSecret, OutcomeTampered, OutcomeNotOpened, OutcomeDamaged,
		OutcomeNoQuestion, OutcomeAmbiguous, OutcomeUnknown, OutcomeError}
}

// String returns the outcome's word.
func (o Outcome) String() string { return string(o) }
