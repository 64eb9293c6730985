package metrics

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestDiscordRESTClass(t *testing.T) {
	tests := []struct {
		method, path, want string
	}{
		{"GET", "/api/v9/gateway", "poll"},
		{"POST", "/api/v9/interactions/123/aW50ZXJhY3Rpb246dG9rZW4/callback", "answer"},
		{"PUT", "/api/v9/applications/200/guilds/300/commands", "register"},
		{"GET", "/api/v9/applications/200/commands", "meta"},
		{"PATCH", "/api/v9/webhooks/200/tok/messages/@original", "edit"},
		{"POST", "/api/v9/webhooks/200/tok", "other"},
		{"POST", "/api/v9/webhooks/200/tok/messages", "send"},
		{"POST", "/api/v9/channels/555/messages", "send"},
		{"PATCH", "/api/v9/channels/555/messages/777", "edit"},
		{"DELETE", "/api/v9/channels/555/messages/777", "delete"},
		{"POST", "/api/v9/users/@me/channels", "send"},
		{"GET", "/api/v9/users/@me", "meta"},
		{"PUT", "/api/v9/guilds/1/bans/2", "other"},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			req := httptest.NewRequest(tt.method, "https://discord.com"+tt.path, nil)
			if got := DiscordRESTClass(req); got != tt.want {
				t.Errorf("class %q, want %q", got, tt.want)
			}
		})
	}
}

func TestTransportCountsFailures(t *testing.T) {
	status := http.StatusOK
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(status)
	}))
	defer srv.Close()
	m := New()
	c := &http.Client{Transport: m.Transport("discord", nil, DiscordRESTClass)}
	post := func() {
		resp, err := c.Post(srv.URL+"/api/v9/channels/99887766/messages", "application/json", strings.NewReader("{}"))
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
	}
	post() // 200: not counted
	status = http.StatusTooManyRequests
	post()
	status = http.StatusBadGateway
	post()
	if got := value(t, m, "clm_bridge_platform_api_errors_total", map[string]string{"platform": "discord", "call_class": "send"}); got != 1 {
		t.Errorf("errors other than 429 = %v, want 1 (the 502)", got)
	}
	if got := value(t, m, "clm_bridge_platform_api_rate_limited_total", map[string]string{"platform": "discord", "call_class": "send"}); got != 1 {
		t.Errorf("429s = %v, want 1", got)
	}

	srv.Close() // now a network error
	if _, err := c.Get(srv.URL + "/api/v9/gateway"); err == nil {
		t.Fatal("GET on a closed server succeeded")
	}
	if got := value(t, m, "clm_bridge_platform_api_errors_total", map[string]string{"platform": "discord", "call_class": "poll"}); got != 1 {
		t.Errorf("network errors = %v, want 1", got)
	}

	var nilM *Metrics
	if nilM.Transport("discord", http.DefaultTransport, nil) != http.DefaultTransport {
		t.Error("nil Metrics wrapped the transport")
	}
}
