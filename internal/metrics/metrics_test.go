package metrics

import (
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/clmbridge/clmbridge/bridge"

	"github.com/clmbridge/clmbridge/platform"
)

// value returns the value of the metric family name whose labels are
// exactly labels, or -1 when there is no such series.
func value(t *testing.T, m *Metrics, name string, labels map[string]string) float64 {
	t.Helper()
	fams, err := m.Registry().Gather()
	if err != nil {
		t.Fatalf("gather: %v", err)
	}
	for _, f := range fams {
		if f.GetName() != name {
			continue
		}
	series:
		for _, s := range f.GetMetric() {
			if len(s.GetLabel()) != len(labels) {
				continue
			}
			for _, l := range s.GetLabel() {
				if labels[l.GetName()] != l.GetValue() {
					continue series
				}
			}
			switch {
			case s.Counter != nil:
				return s.GetCounter().GetValue()
			case s.Gauge != nil:
				return s.GetGauge().GetValue()
			case s.Histogram != nil:
				return float64(s.GetHistogram().GetSampleCount())
			}
		}
	}
	return -1
}

func TestMethodsCountWithBoundedLabels(t *testing.T) {
	tests := []struct {
		name   string
		call   func(m *Metrics)
		metric string
		labels map[string]string
		want   float64
	}{
		{"known command", func(m *Metrics) { m.Command("send", OK, time.Millisecond) },
			"clm_bridge_commands_total", map[string]string{"command": "send", "outcome": "ok"}, 1},
		{"command name is case-insensitive", func(m *Metrics) { m.Command(" Unlock", WrongSecret, 0) },
			"clm_bridge_commands_total", map[string]string{"command": "unlock", "outcome": "wrong_secret"}, 1},
		{"unknown command", func(m *Metrics) { m.Command("frobnicate", Unknown, 0); m.Command("xyzzy", Unknown, 0) },
			"clm_bridge_commands_total", map[string]string{"command": "unknown", "outcome": "unknown"}, 2},
		{"unknown outcome", func(m *Metrics) { m.Command("help", Outcome("weird"), 0) },
			"clm_bridge_commands_total", map[string]string{"command": "help", "outcome": "other"}, 1},
		{"latency observed per command", func(m *Metrics) {
			m.Command("history", OK, 30*time.Millisecond)
			m.Command("history", Failed, time.Second)
		},
			"clm_bridge_command_duration_seconds", map[string]string{"command": "history"}, 2},
		{"pointers seen", func(m *Metrics) { m.PointersSeen("telegram", 3); m.PointersSeen("telegram", 0) },
			"clm_bridge_pointers_seen_total", map[string]string{"platform": "telegram"}, 3},
		{"pointers opened", func(m *Metrics) { m.PointersOpened("discord", 2); m.PointersOpened("discord", -1) },
			"clm_bridge_pointers_opened_total", map[string]string{"platform": "discord"}, 2},
		{"wrong secret", func(m *Metrics) { m.WrongSecret("console"); m.WrongSecret("console") },
			"clm_bridge_wrong_secret_total", map[string]string{"platform": "console"}, 2},
		{"tampered", func(m *Metrics) { m.Tampered("matrix") },
			"clm_bridge_tampered_pointers_total", map[string]string{"platform": "other"}, 1},
		{"unlock failure", func(m *Metrics) { m.UnlockFailed("telegram", UnlockBackoff) },
			"clm_bridge_unlock_failures_total", map[string]string{"platform": "telegram", "reason": "backoff"}, 1},
		{"unlock failure unknown reason", func(m *Metrics) { m.UnlockFailed("telegram", "because") },
			"clm_bridge_unlock_failures_total", map[string]string{"platform": "telegram", "reason": "other"}, 1},
		{"outbox depth", func(m *Metrics) { m.SetOutboxDepth("telegram", 7); m.SetOutboxDepth("telegram", 4) },
			"clm_bridge_outbox_depth", map[string]string{"platform": "telegram"}, 4},
		{"outbox depth func read at scrape", func(m *Metrics) { m.SetOutboxDepthFunc("discord", func() int { return 11 }) },
			"clm_bridge_outbox_depth", map[string]string{"platform": "discord"}, 11},
		{"api error by method class", func(m *Metrics) {
			m.APIError("telegram", platform.ClassSend, 502)
			m.APIError("telegram", platform.ClassSend, 0)
		},
			"clm_bridge_platform_api_errors_total", map[string]string{"platform": "telegram", "call_class": "send"}, 2},
		{"api 429 is not also an error", func(m *Metrics) { m.APIError("discord", platform.ClassSend, 429) },
			"clm_bridge_platform_api_errors_total", map[string]string{"platform": "discord", "call_class": "send"}, 0},
		{"api 429 counts as rate limited", func(m *Metrics) {
			m.APIError("discord", platform.ClassSend, 429)
			m.APIError("discord", platform.ClassSend, 500)
		},
			"clm_bridge_platform_api_rate_limited_total", map[string]string{"platform": "discord", "call_class": "send"}, 1},
		{"api unknown method", func(m *Metrics) { m.APIError("telegram", "/bot1:T/sendPoll", 400) },
			"clm_bridge_platform_api_errors_total", map[string]string{"platform": "telegram", "call_class": "other"}, 1},
		{"active sessions gauge reads the function", func(m *Metrics) { m.SetSessionsFunc(func() int { return 5 }) },
			"clm_bridge_active_sessions", map[string]string{}, 5},
		{"key-derivation queue gauge reads the function", func(m *Metrics) { m.SetKDFWaitingFunc(func() int { return 3 }) },
			"clm_bridge_key_derivations_waiting", map[string]string{}, 3},
		{"build info names the build", func(m *Metrics) { m.SetBuildInfo("v1.2.0", "abc1234", "go1.26.8") },
			"clm_bridge_build_info", map[string]string{"version": "v1.2.0", "revision": "abc1234", "goversion": "go1.26.8"}, 1},
		{"a later build info replaces the first", func(m *Metrics) {
			m.SetBuildInfo("v1.2.0", "abc1234", "go1.26.8")
			m.SetBuildInfo("v1.3.0", "def5678", "go1.26.8")
		},
			"clm_bridge_build_info", map[string]string{"version": "v1.2.0", "revision": "abc1234", "goversion": "go1.26.8"}, -1},
		{"platform up read at scrape", func(m *Metrics) {
			m.SetPlatformFunc("telegram", func() PlatformState { return PlatformState{Up: true, LastContact: time.Unix(1795694400, 0)} })
		},
			"clm_bridge_platform_up", map[string]string{"platform": "telegram"}, 1},
		{"last contact read at scrape", func(m *Metrics) {
			m.SetPlatformFunc("discord", func() PlatformState { return PlatformState{LastContact: time.Unix(1795694400, 0)} })
		},
			"clm_bridge_platform_last_contact_timestamp_seconds", map[string]string{"platform": "discord"}, 1795694400},
		{"a platform down", func(m *Metrics) { m.SetPlatformFunc("discord", func() PlatformState { return PlatformState{} }) },
			"clm_bridge_platform_up", map[string]string{"platform": "discord"}, 0},
		{"delivery latency observed", func(m *Metrics) {
			m.Delivered("telegram", 1500*time.Millisecond)
			m.Delivered("telegram", 20*time.Millisecond)
		},
			"clm_bridge_delivery_seconds", map[string]string{"platform": "telegram"}, 2},
		{"an event not yet seen is already there at 0", func(m *Metrics) {},
			"clm_bridge_tampered_pointers_total", map[string]string{"platform": "telegram"}, 0},
		{"active sessions without a function", func(m *Metrics) {},
			"clm_bridge_active_sessions", map[string]string{}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := newForTest()
			tt.call(m)
			if got := value(t, m, tt.metric, tt.labels); got != tt.want {
				t.Errorf("%s%v = %v, want %v", tt.metric, tt.labels, got, tt.want)
			}
		})
	}
}

func TestSessionsFuncFollowsTheCore(t *testing.T) {
	m := newForTest()
	n := 2
	m.SetSessionsFunc(func() int { return n })
	if got := value(t, m, "clm_bridge_active_sessions", nil); got != 2 {
		t.Fatalf("sessions = %v, want 2", got)
	}
	n = 0
	if got := value(t, m, "clm_bridge_active_sessions", nil); got != 0 {
		t.Fatalf("after lock: sessions = %v, want 0", got)
	}
}

func TestNilMetricsDoNothing(t *testing.T) {
	var m *Metrics
	m.Command("send", OK, time.Second)
	m.PointersSeen("telegram", 1)
	m.PointersOpened("telegram", 1)
	m.WrongSecret("telegram")
	m.Tampered("telegram")
	m.UnlockFailed("telegram", UnlockWrongSecret)
	m.SetSessionsFunc(func() int { return 1 })
	m.SetOutboxDepth("telegram", 1)
	m.SetOutboxDepthFunc("telegram", func() int { return 1 })
	m.APIError("telegram", platform.ClassSend, 429)
	if m.Registry() != nil {
		t.Error("nil Metrics has a registry")
	}
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	if rec.Code != http.StatusNotFound {
		t.Errorf("nil Metrics handler: status %d, want 404", rec.Code)
	}
}

// secretish are inputs a careless caller might pass where a label goes:
// secrets, message text, chat names, member ids, tokens. None may appear in
// the exposition.
var secretish = []string{
	"correct-horse-Battery-staple",   // a chat secret
	"Meet at the Zebra gate at nine", // a plaintext
	"ProjectAthenaChat",              // a chat name
	"u-8a7f3e11",                     // a member id
	"99887766:AAFakeTokenQwertyuiop", // a bot token
	"MTA5OTk.Gx.DiscordTokenish",     // a Discord token
	`{"e": 1, "n": "NonceZ", "d": "Q2lwaGVydGV4dA"}`,
}

func TestExpositionHoldsNoCallerInput(t *testing.T) {
	m := newForTest()
	for _, s := range secretish {
		m.Command(s, Outcome(s), time.Millisecond)
		m.Command("unlock "+s, OK, 0)
		m.PointersSeen(s, 1)
		m.PointersOpened(s, 1)
		m.WrongSecret(s)
		m.Tampered(s)
		m.UnlockFailed(s, s)
		m.SetOutboxDepth(s, 3)
		m.SetOutboxDepthFunc(s, func() int { return 2 })
		m.APIError(s, platform.APIClass(s), 429)
		m.APIError("telegram", platform.APIClass("/bot"+s+"/sendMessage"), 500)
	}
	srv := httptest.NewServer(m.Handler())
	defer srv.Close()
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	out := string(body)
	if !strings.Contains(out, "clm_bridge_commands_total") {
		t.Fatalf("exposition lacks the command counter:\n%s", out)
	}
	for _, s := range secretish {
		for _, frag := range []string{s, s[:10], s[len(s)-10:]} {
			if strings.Contains(out, frag) {
				t.Errorf("exposition contains caller input %q", frag)
			}
		}
	}
}

// allowedLabels lists every value each label of the bridge's own metrics may
// take; a label outside it means a caller's input leaked into a label.
var allowedLabels = map[string][]string{
	"command": {"help", "new", "unlock", "lock", "chats", "send", "receive",
		"history", "search", "trash", "delete", "restore", "purge", "clear",
		"forget", "rekey", "export", "name", "profile", "watch", "doctor", "whoami",
		"status", "start", "confirm", "cancel", "post", "prompt", "secret_answer", "button",
		"inline", "unknown"},
	"outcome": {"ok", "usage", "not_found", "exists", "too_long", "refused", "locked",
		"expired", "limited", "backoff", "wrong_secret", "tampered", "not_opened", "error",
		"damaged", "no_question", "ambiguous", "unknown", "other"},
	"platform":   {"telegram", "discord", "console", "other"},
	"reason":     {"wrong_secret", "backoff", "not_found", "error", "other"},
	"call_class": {"send", "edit", "delete", "answer", "poll", "register", "meta", "other"},
	"result":     {"ok", "timeout", "no_owner", "too_large", "failed"},
	"le":         nil, // histogram buckets: numbers
}

func TestEveryLabelValueIsAllowListed(t *testing.T) {
	m := newForTest()
	for _, s := range append(secretish, "send", "telegram", "sendMessage", "backoff") {
		m.Command(s, Outcome(s), time.Millisecond)
		m.PointersSeen(s, 1)
		m.PointersOpened(s, 1)
		m.WrongSecret(s)
		m.Tampered(s)
		m.UnlockFailed(s, s)
		m.SetOutboxDepth(s, 1)
		m.APIError(s, platform.APIClass(s), 429)
		m.Forwarded(s, time.Millisecond)
	}
	fams, err := m.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	for _, f := range fams {
		// build_info's labels are the build's own, set by the program.
		if !strings.HasPrefix(f.GetName(), Namespace+"_") || f.GetName() == Namespace+"_build_info" {
			continue
		}
		for _, s := range f.GetMetric() {
			checkLabels(t, f, s)
			checked++
		}
	}
	if checked < 10 {
		t.Fatalf("only %d series checked; the metrics were not recorded", checked)
	}
}

func checkLabels(t *testing.T, f *dto.MetricFamily, s *dto.Metric) {
	t.Helper()
	for _, l := range s.GetLabel() {
		allowed, known := allowedLabels[l.GetName()]
		if !known {
			t.Errorf("%s: label %q is not in the allow-list table", f.GetName(), l.GetName())
			continue
		}
		if allowed == nil {
			continue
		}
		ok := false
		for _, a := range allowed {
			ok = ok || a == l.GetValue()
		}
		if !ok {
			t.Errorf("%s: label %s=%q is not allow-listed", f.GetName(), l.GetName(), l.GetValue())
		}
	}
}

func FuzzLabelsStayInAllowLists(f *testing.F) {
	for _, s := range append(secretish, "send", "SEND", "telegram", "sendMessage", "") {
		f.Add(s)
	}
	in := func(v string, set []string) bool {
		for _, a := range set {
			if a == v {
				return true
			}
		}
		return false
	}
	f.Fuzz(func(t *testing.T, s string) {
		if c := CommandLabel(s); !in(c, allowedLabels["command"]) {
			t.Errorf("CommandLabel(%q) = %q", s, c)
		}
		if p := newForTest().PlatformLabel(s); !in(p, allowedLabels["platform"]) {
			t.Errorf("PlatformLabel(%q) = %q", s, p)
		}
		if c := callClassLabel(platform.APIClass(s)); !in(c, allowedLabels["call_class"]) {
			t.Errorf("callClassLabel(%q) = %q", s, c)
		}
		if o := outcomeLabel(Outcome(s)); !in(o, allowedLabels["outcome"]) {
			t.Errorf("outcomeLabel(%q) = %q", s, o)
		}
		if r := unlockReasonLabel(s); !in(r, allowedLabels["reason"]) {
			t.Errorf("unlockReasonLabel(%q) = %q", s, r)
		}
	})
}

func TestOnBridgeEvent(t *testing.T) {
	tests := []struct {
		name   string
		ev     bridge.Event
		metric string
		labels map[string]string
		want   float64
	}{
		{"command and outcome", bridge.Event{Platform: "telegram", Command: "send", Outcome: bridge.OutcomeOK, Took: time.Millisecond},
			"clm_bridge_commands_total", map[string]string{"command": "send", "outcome": "ok"}, 1},
		{"latency", bridge.Event{Platform: "telegram", Command: "history", Outcome: bridge.OutcomeOK, Took: time.Second},
			"clm_bridge_command_duration_seconds", map[string]string{"command": "history"}, 1},
		{"pointers seen", bridge.Event{Platform: "discord", Command: "post", Outcome: bridge.OutcomeNotOpened, PointersSeen: 3},
			"clm_bridge_pointers_seen_total", map[string]string{"platform": "discord"}, 3},
		{"pointers opened", bridge.Event{Platform: "discord", Command: "receive", Outcome: bridge.OutcomeOK, PointersSeen: 3, PointersOpened: 2},
			"clm_bridge_pointers_opened_total", map[string]string{"platform": "discord"}, 2},
		{"wrong secret answering a prompt", bridge.Event{Platform: "console", Command: "secret-answer", Outcome: bridge.OutcomeWrongSecret},
			"clm_bridge_wrong_secret_total", map[string]string{"platform": "console"}, 1},
		{"tampered", bridge.Event{Platform: "console", Command: "receive", Outcome: bridge.OutcomeTampered},
			"clm_bridge_tampered_pointers_total", map[string]string{"platform": "console"}, 1},
		{"unlock with a wrong secret", bridge.Event{Platform: "telegram", Command: "unlock", Outcome: bridge.OutcomeWrongSecret},
			"clm_bridge_unlock_failures_total", map[string]string{"platform": "telegram", "reason": "wrong_secret"}, 1},
		{"unlock in backoff", bridge.Event{Platform: "telegram", Command: "unlock", Outcome: bridge.OutcomeBackoff},
			"clm_bridge_unlock_failures_total", map[string]string{"platform": "telegram", "reason": "backoff"}, 1},
		{"a successful unlock is no failure", bridge.Event{Platform: "telegram", Command: "unlock", Outcome: bridge.OutcomeOK},
			"clm_bridge_unlock_failures_total", map[string]string{"platform": "telegram", "reason": "wrong_secret"}, 0},
		{"a wrong unlock is an unlock failure only, not also a wrong secret", bridge.Event{Platform: "telegram", Command: "unlock", Outcome: bridge.OutcomeWrongSecret},
			"clm_bridge_wrong_secret_total", map[string]string{"platform": "telegram"}, 0},
		{"wrong secret on a prompt is no unlock failure", bridge.Event{Platform: "console", Command: "secret-answer", Outcome: bridge.OutcomeWrongSecret},
			"clm_bridge_unlock_failures_total", map[string]string{"platform": "console", "reason": "wrong_secret"}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := newForTest()
			m.OnBridgeEvent(tt.ev)
			if got := value(t, m, tt.metric, tt.labels); got != tt.want {
				t.Errorf("%s%v = %v, want %v", tt.metric, tt.labels, got, tt.want)
			}
		})
	}
	var nilM *Metrics
	nilM.OnBridgeEvent(bridge.Event{Command: "send"}) // must not panic
}

func TestEveryLabelValueIsSnakeCase(t *testing.T) {
	m := newForTest()
	m.OnBridgeEvent(bridge.Event{Platform: "console", Command: "secret-answer", Outcome: bridge.OutcomeNotOpened})
	fams, err := m.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	snakeRx := regexp.MustCompile(`^[a-z0-9_]+$`)
	for _, f := range fams {
		if !strings.HasPrefix(f.GetName(), Namespace+"_") || f.GetName() == Namespace+"_build_info" {
			continue
		}
		for _, s := range f.GetMetric() {
			for _, l := range s.GetLabel() {
				if l.GetName() != "le" && !snakeRx.MatchString(l.GetValue()) {
					t.Errorf("%s: %s=%q is not snake_case", f.GetName(), l.GetName(), l.GetValue())
				}
			}
		}
	}
}

// newForTest returns metrics for the platforms the bridge serves today.
func newForTest() *Metrics {
	return New(Platform{Name: "telegram", Remote: true}, Platform{Name: "discord", Remote: true}, Platform{Name: "console"})
}

func TestEveryOutcomeOfTheCoreIsRecordedUnderItsOwnLabel(t *testing.T) {
	for _, o := range bridge.Outcomes() {
		if got := outcomeLabel(o.String()); got == "other" || got != strings.ReplaceAll(o.String(), "-", "_") {
			t.Errorf("outcome %q is recorded as %q", o, got)
		}
	}
}

func TestEveryCommandOfTheSchemaIsRecordedUnderItsName(t *testing.T) {
	for _, c := range bridge.Schema() {
		if got := CommandLabel(c.Name); got != c.Name {
			t.Errorf("command %q is recorded as %q", c.Name, got)
		}
	}
}

// TestClusterMetricsCountForwardsAndTakeOvers: an operator of several
// instances reads how forwarding goes and how many members moved; a
// result the package does not know is counted as failed, never as a new
// series.
func TestClusterMetricsCountForwardsAndTakeOvers(t *testing.T) {
	m := newForTest()
	m.Forwarded(ForwardOK, 2*time.Millisecond)
	m.Forwarded(ForwardOK, 3*time.Millisecond)
	m.Forwarded(ForwardTimeout, 5*time.Second)
	m.Forwarded("owner said no", time.Millisecond)
	m.TakenOver()
	m.SetClusterInstancesFunc(func() int { return 3 })
	for _, c := range []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"clm_bridge_forwarded_requests_total", map[string]string{"result": "ok"}, 2},
		{"clm_bridge_forwarded_requests_total", map[string]string{"result": "timeout"}, 1},
		{"clm_bridge_forwarded_requests_total", map[string]string{"result": "failed"}, 1},
		{"clm_bridge_forwarded_requests_total", map[string]string{"result": "no_owner"}, 0},
		{"clm_bridge_members_taken_over_total", nil, 1},
		{"clm_bridge_cluster_instances", nil, 3},
	} {
		if got := value(t, m, c.name, c.labels); got != c.want {
			t.Errorf("%s%v = %v, want %v", c.name, c.labels, got, c.want)
		}
	}
}
