package version

import (
	"runtime/debug"
	"strings"
	"testing"
)

func TestVersionPrefersTheLinkerStampThenTheBuildInfo(t *testing.T) {
	vcs := func(rev string, modified bool) []debug.BuildSetting {
		m := "false"
		if modified {
			m = "true"
		}
		return []debug.BuildSetting{{Key: "vcs.revision", Value: rev}, {Key: "vcs.modified", Value: m}}
	}
	const rev = "0123456789abcdef0123456789abcdef01234567"
	tests := []struct {
		name               string
		stampV, stampR     string
		bi                 *debug.BuildInfo
		wantV, wantR, line string
	}{
		{"stamped by build/static.sh", "v1.2.0-3-gabc1234", "abc1234",
			&debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "(devel)"}, Settings: vcs(rev, false)},
			"v1.2.0-3-gabc1234", "abc1234", "v1.2.0-3-gabc1234 (revision abc1234, go1.26.8)"},
		{"go build in a clean checkout", "", "",
			&debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v0.0.0-20261201012500-0123456789ab"}, Settings: vcs(rev, false)},
			"v0.0.0-20261201012500-0123456789ab", rev, "v0.0.0-20261201012500-0123456789ab (revision 0123456789ab, go1.26.8)"},
		{"go build with uncommitted changes", "", "",
			&debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "(devel)"}, Settings: vcs(rev, true)},
			"devel", rev + "-dirty", "devel (revision 0123456789ab-dirty, go1.26.8)"},
		{"go install of a release", "", "",
			&debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v1.3.0"}},
			"v1.3.0", Unknown, "v1.3.0 (revision unknown, go1.26.8)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := resolve(tt.stampV, tt.stampR, tt.bi)
			if got.Version != tt.wantV || got.Revision != tt.wantR || got.GoVersion != "go1.26.8" {
				t.Fatalf("got %+v, want version %q revision %q", got, tt.wantV, tt.wantR)
			}
			if got.String() != tt.line {
				t.Fatalf("String() = %q, want %q", got.String(), tt.line)
			}
		})
	}
}

func TestTheRunningTestBinaryHasAGoVersion(t *testing.T) {
	if got := Get(); !strings.HasPrefix(got.GoVersion, "go") || got.Version == "" || got.Revision == "" {
		t.Fatalf("Get() = %+v", got)
	}
}
