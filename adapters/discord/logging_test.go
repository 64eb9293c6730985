package discord

import (
	"errors"
	"strings"
	"testing"

	"github.com/clmbridge/clmbridge/adapters/discord/discordtest"
)

// When the core fails a request, the log names its command only if it is
// one of /clm's: the first word of a DM line is whatever the member typed,
// possibly a secret pasted in the wrong place, and must not reach the logs.
func TestFailedRequestLogsOnlyKnownCommandNames(t *testing.T) {
	t.Parallel()
	core := newFakeCore()
	core.handleErr = errors.New("the store is closed")
	r := start(t, Config{GuildID: "77"}, core)
	dm := discordtest.DM(alice)
	cases := []struct {
		name, text, secret, want string
	}{
		{"secret-looking first word after clm", "clm sk-LIVE-9f8e7d6c5b4a Work", "sk-live-9f8e7d6c5b4a", "post"},
		{"secret-looking first word after /clm", "/clm Hunter2Hunter2 and more", "hunter2hunter2", "unknown"},
		{"known command", "/clm unlock Work", "", "unlock"},
		{"a line for the core to read", "clm unlock Work", "", "post"},
		{"plain post", "correct horse battery staple", "correct horse", "post"},
	}
	for _, tc := range cases {
		r.fake.PostMessage(t, alice, dm, tc.text)
	}
	r.fake.Interact(t, discordtest.Slash(bob, general, "chats"))
	core.waitRequests(t, len(cases)+1)
	if err := r.stop(); err != nil { // waits for the log lines after Handle
		t.Fatal(err)
	}
	logs := r.logs.String()
	var failures []string
	for _, line := range strings.Split(logs, "\n") {
		if strings.Contains(line, "the core could not finish a request") {
			failures = append(failures, line)
		}
	}
	if len(failures) != len(cases)+1 {
		t.Fatalf("%d failure lines, want %d; logs:\n%s", len(failures), len(cases)+1, logs)
	}
	for k, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			// One member's DM lines are handled in order, so the k-th DM
			// failure is this case's (the slash command is bob's).
			var dmFailures []string
			for _, l := range failures {
				if !strings.Contains(l, "command=chats") {
					dmFailures = append(dmFailures, l)
				}
			}
			if len(dmFailures) != len(cases) {
				t.Fatalf("DM failure lines: %q", dmFailures)
			}
			if !strings.Contains(dmFailures[k], "command="+tc.want+" ") {
				t.Errorf("log line %q does not say command=%s", dmFailures[k], tc.want)
			}
			if tc.secret != "" && strings.Contains(strings.ToLower(logs), tc.secret) {
				t.Errorf("what the member typed (%q) is in the logs:\n%s", tc.secret, logs)
			}
		})
	}
	t.Run("slash command", func(t *testing.T) {
		n := 0
		for _, l := range failures {
			if strings.Contains(l, "command=chats ") {
				n++
			}
		}
		if n != 1 {
			t.Errorf("%d failure lines name /clm chats, want 1:\n%s", n, logs)
		}
	})
}
