package metrics

import (
	"github.com/clmbridge/clmbridge/bridge"
)

// OnBridgeEvent records one request the bridge core handled: the command
// and its outcome with its latency, the pointers seen and opened, a wrong
// secret, a tampered pointer and a failed unlock. Pass it as
// bridge.Options.OnEvent. It is quick, takes no lock of the bridge's, and
// does nothing on a nil *Metrics.
func (m *Metrics) OnBridgeEvent(ev bridge.Event) {
	if m == nil {
		return
	}
	outcome := ev.Outcome.String()
	m.Command(ev.Command, outcome, ev.Took)
	m.PointersSeen(ev.Platform, ev.PointersSeen)
	m.PointersOpened(ev.Platform, ev.PointersOpened)
	unlock := CommandLabel(ev.Command) == "unlock"
	switch outcome {
	case WrongSecret:
		if !unlock { // a wrong unlock is one unlock failure, counted below
			m.WrongSecret(ev.Platform)
		}
	case Tampered:
		m.Tampered(ev.Platform)
	}
	if unlock {
		switch outcome {
		case WrongSecret:
			m.UnlockFailed(ev.Platform, UnlockWrongSecret)
		case Backoff:
			m.UnlockFailed(ev.Platform, UnlockBackoff)
		case NotFound:
			m.UnlockFailed(ev.Platform, UnlockNotFound)
		case Failed:
			m.UnlockFailed(ev.Platform, UnlockError)
		}
	}
}
