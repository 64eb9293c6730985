package platform

// Level is how serious a doctor's finding is.
type Level int

// The levels, from fine to broken.
const (
	// OK: checked and fine.
	OK Level = iota
	// Info: worth knowing, nothing to fix.
	Info
	// Warn: works, but something members will notice is off.
	Warn
	// Fail: the bridge cannot work like this.
	Fail
)

// String returns "ok", "info", "warn" or "FAIL".
func (l Level) String() string {
	switch l {
	case OK:
		return "ok"
	case Info:
		return "info"
	case Warn:
		return "warn"
	default:
		return "FAIL"
	}
}

// Finding is one result of a doctor's check.
type Finding struct {
	Area  string // "config", "store", or a platform's name; empty: the check's area
	Level Level
	What  string // what was found
	Fix   string // what to do about it; empty when nothing is to be done
}
