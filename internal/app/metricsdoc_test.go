package app

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/clmbridge/clmbridge/adapters/discord"
	"github.com/clmbridge/clmbridge/adapters/discord/discordtest"
	"github.com/clmbridge/clmbridge/adapters/telegram"
	"github.com/clmbridge/clmbridge/adapters/telegram/telegramtest"
	"github.com/clmbridge/clmbridge/bridge"
	"github.com/clmbridge/clmbridge/platform"
)

// readmeMetrics returns the metrics the README's operator guide lists, each
// with the label names it gives.
func readmeMetrics(t *testing.T) map[string][]string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	row := regexp.MustCompile("(?m)^\\| `(clm_bridge_[a-z_]+)(?:\\{([a-z_,]+)\\})?` \\|")
	out := map[string][]string{}
	for _, m := range row.FindAllStringSubmatch(string(b), -1) {
		var labels []string
		if m[2] != "" {
			labels = strings.Split(m[2], ",")
		}
		out[m[1]] = labels
	}
	if len(out) < 10 {
		t.Fatalf("found only %d metrics in the README's table: %v", len(out), out)
	}
	return out
}

// TestAFreshBridgeServesEveryMetricTheREADMEListsFromTheFirstScrape: a
// series that appears only after its first event is invisible to an
// increase() alert, and a README that names a series the bridge does not
// serve sends an operator's alert nowhere.
func TestAFreshBridgeServesEveryMetricTheREADMEListsFromTheFirstScrape(t *testing.T) {
	fake := telegramtest.New(t, telegramtest.Options{})
	cfg := Config{
		DataDir: t.TempDir(), SessionIdle: 30 * time.Minute, SessionMaxAge: 12 * time.Hour,
		RateBurst: 20, RatePerMinute: 30, LogLevel: "info", LogFormat: "text", HTTPAddr: "127.0.0.1:0",
		Platforms: map[string]platform.Config{telegram.Name: telegram.Config{Token: fake.Token, APIURL: fake.URL, PollTimeout: time.Second}},
	}
	stderr, _ := runInBackground(t, cfg)
	_, text := httpGet(t, "http://"+awaitEndpoint(t, stderr)+"/metrics")

	for name, labels := range readmeMetrics(t) {
		series := regexp.MustCompile(`(?m)^`+name+`(?:_bucket|_count|_sum)?(\{[^}]*\})? `).FindAllStringSubmatch(text, -1)
		if len(series) == 0 {
			t.Errorf("%s: listed in the README, not served by a fresh bridge", name)
			continue
		}
		for _, l := range labels {
			if !strings.Contains(series[0][1], l+`="`) {
				t.Errorf("%s: the README gives the label %q; the bridge serves %s", name, l, series[0][0])
			}
		}
	}
	// Events that have not happened yet are there, at zero.
	for _, want := range []string{
		`clm_bridge_tampered_pointers_total{platform="telegram"} 0`,
		`clm_bridge_unlock_failures_total{platform="telegram",reason="wrong_secret"} 0`,
		`clm_bridge_platform_api_errors_total{call_class="send",platform="telegram"} 0`,
		`clm_bridge_platform_api_rate_limited_total{call_class="send",platform="discord"} 0`,
		`clm_bridge_commands_total{command="unlock",outcome="wrong_secret"} 0`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("/metrics of a fresh bridge lacks %q", want)
		}
	}
}

func TestPlatformUpAndLastContactFollowTheDiscordGateway(t *testing.T) {
	fake := discordtest.New(t)
	cfg := storyCfg(t.TempDir())
	cfg.HTTPAddr = "127.0.0.1:0"
	cfg.Platforms = map[string]platform.Config{discord.Name: discord.Config{Token: fake.Token(), APIURL: fake.URL()}}
	stderr, _ := runInBackground(t, cfg)
	base := "http://" + awaitEndpoint(t, stderr)
	fake.WaitReady(t)
	stderr.await(t, time.Minute, "the adapter's connection", func(s string) bool {
		return strings.Contains(s, "connected to the Discord gateway")
	})

	_, text := httpGet(t, base+"/metrics")
	if !strings.Contains(text, `clm_bridge_platform_up{platform="discord"} 1`) {
		t.Errorf("a connected Discord is not up:\n%s", grepLines(text, "platform_"))
	}
	last := regexp.MustCompile(`clm_bridge_platform_last_contact_timestamp_seconds\{platform="discord"\} (\S+)`).FindStringSubmatch(text)
	if last == nil {
		t.Fatalf("no last contact for Discord:\n%s", grepLines(text, "platform_"))
	}
	if v, err := strconv.ParseFloat(last[1], 64); err != nil || v < float64(time.Now().Add(-time.Hour).Unix()) {
		t.Errorf("last contact %s, want about now", last[1])
	}
}

// grepLines returns the lines of text that contain s.
func grepLines(text, s string) string {
	var out []string
	for _, l := range strings.Split(text, "\n") {
		if strings.Contains(l, s) && !strings.HasPrefix(l, "#") {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// TestTheEndpointAnswersFromTheStartAndIsNotReadyUntilTheAdaptersAre: the
// endpoint binds before the store opens (so a busy port stops the bridge
// at once); until the adapters exist, /healthz is alive and /readyz says
// "starting".
func TestTheEndpointAnswersFromTheStartAndIsNotReadyUntilTheAdaptersAre(t *testing.T) {
	cfg := storyCfg(t.TempDir())
	cfg.HTTPAddr = "127.0.0.1:0"
	logs := newWatchWriter()
	var healthz, readyz int
	var readyBody string
	opts := Options{Storage: cheapStore, OnStart: func(*bridge.Bridge) {
		m := listeningRx.FindStringSubmatch(logs.String())
		if m == nil {
			t.Errorf("no endpoint announced before the adapters start:\n%s", logs.String())
			return
		}
		healthz, _ = httpGet(t, "http://"+m[1]+"/healthz")
		readyz, readyBody = httpGet(t, "http://"+m[1]+"/readyz")
	}}
	if err := RunWith(context.Background(), cfg, opts, strings.NewReader("alice@dm: help\n"), io.Discard, logs); err != nil {
		t.Fatal(err)
	}
	if healthz != 200 || readyz != 503 || !strings.Contains(readyBody, "starting") {
		t.Errorf("during start: /healthz %d, /readyz %d %q; want 200, and 503 saying starting", healthz, readyz, readyBody)
	}
}
