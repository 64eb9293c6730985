package httpapi

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
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
	m := metrics.New(metrics.Platform{Name: "telegram", Remote: true})
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
			cfg: Config{CheckTimeout: time.Minute, Checks: []Check{ok("store"),
				{Name: "discord", Timeout: 20 * time.Millisecond, Check: func(context.Context) error { <-block; return nil }}}},
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

// A check that ignores its context is never run twice at once: while it
// hangs, each /readyz waits for the run in flight and says it is still
// running, instead of leaving one more goroutine behind per request. Once
// it returns, the next /readyz runs it afresh.
func TestReadyzRunsAHangingCheckOnce(t *testing.T) {
	block := make(chan struct{})
	released := false
	t.Cleanup(func() {
		if !released {
			close(block)
		}
	})
	var calls atomic.Int32
	h, rd := newHandler(Config{CheckTimeout: time.Minute, Checks: []Check{
		ok("store"),
		{Name: "discord", Timeout: 20 * time.Millisecond, Check: func(context.Context) error {
			calls.Add(1)
			<-block
			return nil
		}},
	}})

	status, body := get(t, h, "GET", "/readyz")
	if status != 503 || !strings.Contains(body, "discord: not ready: check did not answer within 20ms") {
		t.Fatalf("first readyz with a hanging check: %d\n%s", status, body)
	}
	for i := range 5 {
		status, body := get(t, h, "GET", "/readyz")
		if status != 503 || !strings.Contains(body, "discord: not ready: check still running from an earlier request") ||
			!strings.Contains(body, "store: ok") {
			t.Errorf("readyz %d while the check hangs: %d\n%s", i+2, status, body)
		}
	}
	if n := calls.Load(); n != 1 {
		t.Errorf("hanging check started %d times over 6 requests, want once", n)
	}

	close(block)
	released = true
	<-rd.runners[1].idle()
	// Its timeout is 20ms, so whether this run answers in time depends on
	// the machine; what must hold is that it is a fresh run, not "still
	// running".
	if _, body := get(t, h, "GET", "/readyz"); strings.Contains(body, "still running") {
		t.Errorf("readyz after the hanging check returned still says it is running:\n%s", body)
	}
	<-rd.runners[1].idle()
	if n := calls.Load(); n != 2 {
		t.Errorf("check started %d times, want 2 (once more after the first run returned)", n)
	}
}

// A request that comes while a run is in flight joins it and gets that
// run's answer, and the check is not called again.
func TestCheckRunnerJoinsTheRunInFlight(t *testing.T) {
	proceed := make(chan struct{})
	var calls atomic.Int32
	c := &checkRunner{timeout: time.Minute, check: Check{Name: "store", Check: func(context.Context) error {
		n := calls.Add(1)
		<-proceed
		return fmt.Errorf("run %d: disk full", n)
	}}}
	first, fresh := c.start(context.Background())
	if !fresh {
		t.Fatal("first start did not start a run")
	}
	joined, fresh := c.start(context.Background())
	if fresh || joined != first {
		t.Fatal("second start while the first run is in flight started another run")
	}
	close(proceed)
	finished, err := awaitRun(context.Background(), joined, nil)
	if !finished || err == nil || err.Error() != "run 1: disk full" {
		t.Errorf("joined run: finished %v, err %v; want run 1's answer", finished, err)
	}
	if n := calls.Load(); n != 1 {
		t.Errorf("check called %d times, want 1", n)
	}
}

// When the check's answer and the deadline are both there, the answer
// wins: an ok check is never reported as timed out because select picked
// the timer.
func TestAwaitRunPrefersAResultAlreadyThere(t *testing.T) {
	expired := make(chan time.Time)
	close(expired)
	gone, cancel := context.WithCancel(context.Background())
	cancel()
	for _, tt := range []struct {
		name string
		err  error
	}{{"ok", nil}, {"failed", errors.New("store is closed")}} {
		t.Run(tt.name, func(t *testing.T) {
			run := &checkRun{done: make(chan struct{}), err: tt.err}
			close(run.done)
			for i := range 200 {
				finished, err := awaitRun(gone, run, expired)
				if !finished || err != tt.err {
					t.Fatalf("try %d: awaitRun = %v, %v; want the result that was there", i, finished, err)
				}
			}
		})
	}
	t.Run("no result yet", func(t *testing.T) {
		run := &checkRun{done: make(chan struct{})}
		if finished, _ := awaitRun(gone, run, expired); finished {
			t.Error("awaitRun says a run with no result finished")
		}
	})
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

func TestProbeReadyAsksReadyzAndSaysWhichCheckFails(t *testing.T) {
	tests := []struct {
		name    string
		checks  []Check
		wantErr string // "" for ready
	}{
		{"every check passes", []Check{ok("store"), ok("discord")}, ""},
		{"one adapter down", []Check{ok("store"), failing("discord", "gateway closed")}, "discord: not ready: gateway closed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, err := Listen(Config{Addr: "127.0.0.1:0", Checks: tt.checks})
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { done <- srv.Serve(ctx) }()
			defer func() {
				cancel()
				if err := <-done; err != nil {
					t.Error(err)
				}
			}()
			addr := srv.Addr().String()
			if err := Probe(context.Background(), addr); err != nil {
				t.Errorf("Probe (alive) failed: %v", err)
			}
			err = ProbeReady(context.Background(), addr)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("ProbeReady of a ready bridge: %v", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), "503")):
				t.Errorf("ProbeReady: %v, want an error with 503 and %q", err, tt.wantErr)
			}
		})
	}
}
