// Package doctor checks a bridge's setup the way an operator would, and
// says what to fix: the data directory and store here, and each platform's
// settings and permissions through the platform's own check (see
// platform.Doctor), all reported the same way.
//
// It only reads: it creates nothing, migrates nothing and changes no
// platform setting. It is what `bridge doctor` runs. Findings never hold a
// token, a secret or a member's text.
package doctor

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/clmbridge/clmbridge/platform"
)

// Level is how serious a finding is; the platforms' checks use the same
// type (package platform), so their findings are reported with these.
type Level = platform.Level

// The levels, from fine to broken.
const (
	OK   = platform.OK   // checked and fine
	Info = platform.Info // worth knowing, nothing to fix
	Warn = platform.Warn // works, but something members will notice is off
	Fail = platform.Fail // the bridge cannot work like this
)

// Finding is one result of a check.
type Finding = platform.Finding

// Check is one area to examine; Run returns its findings.
type Check struct {
	Area string
	Run  func(ctx context.Context) []Finding
}

// Run runs every check in order and returns all findings.
func Run(ctx context.Context, checks []Check) []Finding {
	var all []Finding
	for _, c := range checks {
		fs := c.Run(ctx)
		for i := range fs {
			if fs[i].Area == "" {
				fs[i].Area = c.Area
			}
		}
		all = append(all, fs...)
	}
	return all
}

// Report writes findings as lines for a terminal, each problem followed by
// what to do, and a last line with the verdict. It returns true when no
// finding is a Fail.
func Report(w io.Writer, findings []Finding) bool {
	worst := OK
	warns, fails := 0, 0
	for _, f := range findings {
		fmt.Fprintf(w, "[%-4s] %s: %s\n", f.Level, f.Area, oneLine(f.What))
		if f.Fix != "" {
			fmt.Fprintf(w, "       fix: %s\n", oneLine(f.Fix))
		}
		worst = max(worst, f.Level)
		switch f.Level {
		case Warn:
			warns++
		case Fail:
			fails++
		}
	}
	switch worst {
	case Fail:
		fmt.Fprintf(w, "doctor: %d problem(s) to fix before the bridge can work, %d warning(s)\n", fails, warns)
	case Warn:
		fmt.Fprintf(w, "doctor: the bridge can run; %d warning(s) above\n", warns)
	default:
		fmt.Fprintln(w, "doctor: all checks passed")
	}
	return worst < Fail
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
