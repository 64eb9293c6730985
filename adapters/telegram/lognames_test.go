package telegram

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/clmbridge/clmbridge/bridge"
)

// TestFailedRequestLogsOnlyKnownCommandNames: when handling fails, the log
// names the command only if it is one of the core's; the word a member
// typed after /clm (which may be a mistyped secret) is never logged.
func TestFailedRequestLogsOnlyKnownCommandNames(t *testing.T) {
	logs := &syncBuffer{}
	core := newFakeCore()
	core.setOn(func(context.Context, bridge.Request) error { return errors.New("the responder failed") })
	a, err := New(Config{Token: testToken}, core, slog.New(slog.NewTextHandler(logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		req  bridge.Request
		want string // the logged command
	}{
		{"known command", bridge.Request{Command: "unlock", Args: "Work x"}, "command=unlock"},
		{"a secret typed as the command", bridge.Request{Command: "hunter2-tulip-secret"}, "command=unknown"},
		{"a post", bridge.Request{Post: "hunter2-tulip-secret"}, "command=post"},
		{"a button press", bridge.Request{ReceiveRef: "r1"}, "command=receive"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(logs.String())
			a.handle(context.Background(), tt.req)
			line := logs.String()[before:]
			if !strings.Contains(line, "handling a request failed") || !strings.Contains(line, tt.want) {
				t.Errorf("log %q lacks %q", line, tt.want)
			}
			if strings.Contains(line, "hunter2") {
				t.Errorf("the log holds what the member typed: %q", line)
			}
		})
	}
}
