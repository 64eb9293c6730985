package httpapi

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/clmbridge/clmbridge/internal/metrics"
)

func get(t *testing.T, h http.Handler, method, path string) (int, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(method, path, nil))
	return rec.Code, rec.Body.String()
}

func ok(name string) Check {
	return Check{Name: name, Check: func(context.Context) error { return nil }}
}

func failing(name, why string) Check {
	return Check{Name: name, Check: func(context.Context) error { return errors.New(why) }}
}

func TestEndpoints(t *testing.T) {
	m := metrics.New()
	m.Command("send", metrics.OK, time.Millisecond)
	block := make(chan struct{})
	t.Cleanup(func() { close(block) })
	tests := []struct {
		name       string
		cfg        Config
		method     string
		path       string
		wantStatus int
		wantBody   []string
	}{
		{name: "healthz is alive", method: "GET", path: "/healthz",
			wantStatus: 200, wantBody: []string{"ok"}},
		{name: "healthz alive even when not ready", cfg: Config{Checks: []Check{failing("store", "closed")}},
			method: "GET", path: "/healthz", wantStatus: 200, wantBody: []string{"ok"}},
		{name: "readyz with every check passing",
			cfg:    Config{Checks: []Check{ok("store"), ok("telegram"), ok("discord")}},
			method: "GET", path: "/readyz", wantStatus: 200,
			wantBody: []string{"ready\n", "store: ok", "telegram: ok", "discord: ok"}},
		{name: "readyz with no checks is ready", method: "GET", path: "/readyz",
			wantStatus: 200, wantBody: []string{"ready"}},
		{name: "readyz names the adapter that is down and why",
			cfg:    Config{Checks: []Check{ok("store"), failing("telegram", "getUpdates failing:\nconnection refused")}},
			method: "GET", path: "/readyz", wantStatus: 503,
			wantBody: []string{"not ready\n", "store: ok", "telegram: not ready: getUpdates failing: connection refused\n"}},
		{name: "readyz store closed",
			cfg:    Config{Checks: []Check{failing("store", "store is closed")}},
			method: "GET", path: "/readyz", wantStatus: 503,
			wantBody: []string{"store: not ready: store is closed"}},
		{name: "readyz check that hangs is not ready",
			cfg: Config{CheckTimeout: 20 * time.Millisecond, Checks: []Check{ok("store"),
				{Name: "discord", Check: func(context.Context) error { <-block; return nil }}}},
			method: "GET", path: "/readyz", wantStatus: 503,
			wantBody: []string{"store: ok", "discord: not ready: check did not answer within 20ms"}},
		{name: "readyz check that panics is not ready",
			cfg:    Config{Checks: []Check{{Name: "telegram", Check: func(context.Context) error { panic("boom") }}}},
			method: "GET", path: "/readyz", wantStatus: 503,
			wantBody: []string{"telegram: not ready: check panicked"}},
		{name: "readyz check without a function is not ready",
			cfg:    Config{Checks: []Check{{Name: "console"}}},
			method: "GET", path: "/readyz", wantStatus: 503,
			wantBody: []string{"console: not ready: no check function"}},
		{name: "metrics in Prometheus format", cfg: Config{Metrics: m.Handler()},
			method: "GET", path: "/metrics", wantStatus: 200,
			wantBody: []string{`clm_bridge_commands_total{command="send",outcome="ok"} 1`, "go_goroutines"}},
		{name: "no metrics configured", method: "GET", path: "/metrics", wantStatus: 404},
		{name: "POST is refused", method: "POST", path: "/healthz", wantStatus: 405},
		{name: "unknown path", method: "GET", path: "/admin", wantStatus: 404},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body := get(t, Handler(tt.cfg), tt.method, tt.path)
			if status != tt.wantStatus {
				t.Errorf("status %d, want %d; body:\n%s", status, tt.wantStatus, body)
			}
			for _, w := range tt.wantBody {
				if !strings.Contains(body, w) {
					t.Errorf("body lacks %q:\n%s", w, body)
				}
			}
		})
	}
}

func TestServeProbeAndShutdown(t *testing.T) {
	srv, err := Listen(Config{Addr: "127.0.0.1:0", Checks: []Check{ok("store")}})
	if err != nil {
		t.Fatal(err)
	}
	addr := srv.Addr().String()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx) }()

	if err := Probe(context.Background(), addr); err != nil {
		t.Fatalf("Probe of a running server: %v", err)
	}
	_, port, _ := net.SplitHostPort(addr)
	for _, a := range []string{":" + port, "0.0.0.0:" + port} {
		if err := Probe(context.Background(), a); err != nil {
			t.Errorf("Probe(%q) of a server on loopback: %v", a, err)
		}
	}
	resp, err := http.Get("http://" + addr + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), "store: ok") {
		t.Errorf("readyz over the network: %d %q", resp.StatusCode, body)
	}

	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Serve after cancel: %v", err)
	}
	if err := Probe(context.Background(), addr); err == nil {
		t.Fatal("Probe succeeded after shutdown")
	} else if !strings.Contains(err.Error(), "no bridge answers") {
		t.Errorf("Probe error does not say what is wrong: %v", err)
	}
}

func TestProbeFailures(t *testing.T) {
	sick := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusInternalServerError)
	}))
	defer sick.Close()
	// A port that was free a moment ago: nothing listens there.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	free := ln.Addr().String()
	_ = ln.Close()

	tests := []struct {
		name, addr, want string
	}{
		{"server answers 500", strings.TrimPrefix(sick.URL, "http://"), "500"},
		{"nothing listening", free, "no bridge answers"},
		{"not host:port", "localhost", "is not host:port"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Probe(context.Background(), tt.addr)
			if err == nil {
				t.Fatal("Probe succeeded")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q lacks %q", err, tt.want)
			}
		})
	}
}

func TestListenReportsAddressInUse(t *testing.T) {
	first, err := Listen(Config{Addr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = first.Close() }()
	_, err = Listen(Config{Addr: first.Addr().String()})
	if err == nil {
		t.Fatal("second Listen on the same address succeeded")
	}
	if !strings.Contains(err.Error(), "CLM_HTTP_ADDR") {
		t.Errorf("error does not say what to change: %v", err)
	}
}

func TestDefaultAddrIsLoopback(t *testing.T) {
	host, _, err := net.SplitHostPort(DefaultAddr)
	if err != nil {
		t.Fatal(err)
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		t.Errorf("DefaultAddr %s is not loopback", DefaultAddr)
	}
}
