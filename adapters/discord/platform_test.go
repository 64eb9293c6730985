package discord

import (
	"net/http/httptest"
	"testing"

	"github.com/clmbridge/clmbridge/platform"
)

func TestRESTCallsAreCountedByClassNeverByIDOrToken(t *testing.T) {
	tests := []struct {
		method, path string
		want         platform.APIClass
	}{
		{"GET", "/api/v9/gateway", platform.ClassPoll},
		{"POST", "/api/v9/interactions/123/aW50ZXJhY3Rpb246dG9rZW4/callback", platform.ClassAnswer},
		{"PUT", "/api/v9/applications/200/guilds/300/commands", platform.ClassRegister},
		{"GET", "/api/v9/applications/200/commands", platform.ClassMeta},
		{"PATCH", "/api/v9/webhooks/200/tok/messages/@original", platform.ClassEdit},
		{"POST", "/api/v9/webhooks/200/tok", platform.ClassOther},
		{"POST", "/api/v9/webhooks/200/tok/messages", platform.ClassSend},
		{"POST", "/api/v9/channels/555/messages", platform.ClassSend},
		{"PATCH", "/api/v9/channels/555/messages/777", platform.ClassEdit},
		{"DELETE", "/api/v9/channels/555/messages/777", platform.ClassDelete},
		{"POST", "/api/v9/users/@me/channels", platform.ClassSend},
		{"GET", "/api/v9/users/@me", platform.ClassMeta},
		{"PUT", "/api/v9/guilds/1/bans/2", platform.ClassOther},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			req := httptest.NewRequest(tt.method, "https://discord.com"+tt.path, nil)
			if got := restClass(req); got != tt.want {
				t.Errorf("class %q, want %q", got, tt.want)
			}
		})
	}
}
