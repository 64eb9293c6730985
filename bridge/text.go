package bridge

import (
	"strconv"
	"time"
)

func itoa(n int) string { return strconv.Itoa(n) }

// plural returns "1 message" or "3 messages".
func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return itoa(n) + " " + many
}

// human writes a duration the way a person says it: "45 seconds",
// "3 minutes", "2 hours 5 minutes".
func human(d time.Duration) string {
	switch {
	case d < time.Minute:
		return plural(int((d+time.Second-1)/time.Second), "second", "seconds")
	case d < time.Hour:
		return plural(int((d+time.Minute-1)/time.Minute), "minute", "minutes")
	}
	h := int(d / time.Hour)
	m := int((d % time.Hour) / time.Minute)
	if m == 0 {
		return plural(h, "hour", "hours")
	}
	return plural(h, "hour", "hours") + " " + plural(m, "minute", "minutes")
}
