// Package version says which build of CLM Bridge is running: the version
// (from `git describe`, stamped by build/static.sh), the VCS revision and
// the Go version. A build without the stamp (go build, go install, go run)
// falls back to what the Go toolchain records in the binary
// (runtime/debug.ReadBuildInfo), so every binary can answer.
//
// It is not a release process: it only reads what the build put in.
package version

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"
)

// Stamped by the linker (go build -ldflags "-X …"; see build/static.sh).
// They are variables only because -X can set nothing else; nothing in the
// program writes them.
var (
	stampedVersion  string
	stampedRevision string
)

// Unknown is what a field holds when neither the stamp nor the build info
// knows it.
const Unknown = "unknown"

// Info is one build's identity.
type Info struct {
	// Version is a release tag (v1.2.0), git describe's output
	// (v1.2.0-3-gabc1234-dirty), the module version go install recorded,
	// or "devel" for a build from a source tree without VCS data.
	Version string
	// Revision is the VCS commit (with "-dirty" when the tree had
	// uncommitted changes), or "unknown".
	Revision string
	// GoVersion is the toolchain that built the binary (go1.26.8).
	GoVersion string
}

// Get returns the running binary's Info.
func Get() Info {
	bi, _ := debug.ReadBuildInfo()
	return resolve(stampedVersion, stampedRevision, bi)
}

// resolve prefers the linker stamp and falls back to the build info.
func resolve(version, revision string, bi *debug.BuildInfo) Info {
	info := Info{Version: version, Revision: revision, GoVersion: runtime.Version()}
	if bi != nil {
		if bi.GoVersion != "" {
			info.GoVersion = bi.GoVersion
		}
		var rev string
		dirty := false
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.modified":
				dirty = s.Value == "true"
			}
		}
		if info.Revision == "" && rev != "" {
			info.Revision = rev
			if dirty {
				info.Revision += "-dirty"
			}
		}
		if info.Version == "" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			info.Version = bi.Main.Version
		}
	}
	if info.Version == "" {
		info.Version = "devel"
	}
	if info.Revision == "" {
		info.Revision = Unknown
	}
	return info
}

// String is the one line `bridge version` and `clm version` print:
// "clm-bridge v1.2.0 (revision abc1234, go1.26.8)".
func (i Info) String() string {
	return fmt.Sprintf("%s (revision %s, %s)", i.Version, short(i.Revision), i.GoVersion)
}

// short keeps a full commit hash readable; the -dirty mark stays.
func short(rev string) string {
	base, dirty := strings.CutSuffix(rev, "-dirty")
	if len(base) == 40 {
		base = base[:12]
	}
	if dirty {
		base += "-dirty"
	}
	return base
}
