package platform

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestReadSecretTakesTheVariableOrItsFileNeverBoth(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	tokenFile := write("token", "  from-the-file-Qwerty\n")
	big := write("big", strings.Repeat("x", MaxSecretFile+1))
	tests := []struct {
		name        string
		value, file string
		want        string
		errSays     string
	}{
		{name: "neither", want: ""},
		{name: "the variable, trimmed", value: " in-the-env-Qwerty \n", want: "in-the-env-Qwerty"},
		{name: "the file, trimmed", file: tokenFile, want: "from-the-file-Qwerty"},
		{name: "both", value: "in-the-env-Qwerty", file: tokenFile, errSays: "set CLM_X_TOKEN or CLM_X_TOKEN_FILE, not both"},
		{name: "a missing file", file: filepath.Join(dir, "nope"), errSays: "cannot read CLM_X_TOKEN_FILE"},
		{name: "a file too large to be a token", file: big, errSays: "larger than 4096 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ReadSecret("CLM_X_TOKEN", tt.value, tt.file)
			if tt.errSays == "" {
				if err != nil || got != tt.want {
					t.Fatalf("ReadSecret = %q, %v; want %q", got, err, tt.want)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.errSays) {
				t.Fatalf("err = %v, want one saying %q", err, tt.errSays)
			}
			for _, secret := range []string{"in-the-env-Qwerty", "from-the-file-Qwerty", "xxxx"} {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("the error holds the secret: %v", err)
				}
			}
		})
	}
}

// recorder is a Metrics that remembers what it was told.
type recorder struct{ calls []string }

func (r *recorder) APIError(p string, c APIClass, status int) {
	r.calls = append(r.calls, p+" "+string(c)+" "+http.StatusText(status))
}
func (r *recorder) SetOutboxDepthFunc(string, func() int) {}
func (r *recorder) Delivered(string, time.Duration)       {}

// failing is a transport whose calls fail with err.
type failing struct{ err error }

func (f failing) RoundTrip(*http.Request) (*http.Response, error) { return nil, f.err }

func TestCountCallsCountsFailedCallsByTheirClass(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/limited":
			w.WriteHeader(http.StatusTooManyRequests)
		case "/broken":
			w.WriteHeader(http.StatusBadGateway)
		}
	}))
	defer srv.Close()
	var rec recorder
	classify := func(r *http.Request) APIClass {
		if r.Method == http.MethodPost {
			return ClassSend
		}
		return ClassMeta
	}
	c := &http.Client{Transport: CountCalls(nil, &rec, "x", classify)}
	for _, call := range []struct{ method, path string }{{"GET", "/fine"}, {"POST", "/limited"}, {"GET", "/broken"}} {
		req, err := http.NewRequest(call.method, srv.URL+call.path, nil)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
	}
	for _, err := range []error{errors.New("connection refused"), context.Canceled} {
		c := &http.Client{Transport: CountCalls(failing{err}, &rec, "x", nil)}
		if _, err := c.Get(srv.URL); err == nil {
			t.Fatal("a failing transport did not fail")
		}
	}
	want := "x send Too Many Requests|x meta Bad Gateway|x other "
	if got := strings.Join(rec.calls, "|"); got != want {
		t.Errorf("counted %q, want %q (a fine call and a cancelled one are not failures)", got, want)
	}
}

func TestHostWithoutMetricsCountsNothing(t *testing.T) {
	m := Host{}.MetricsOf()
	m.APIError("x", ClassSend, 500) // must not panic
	if _, ok := m.(NoMetrics); !ok {
		t.Fatalf("MetricsOf() = %T", m)
	}
}

// secretHolder prints itself redacted.
type secretHolder struct{ token string }

func (secretHolder) String() string   { return "holder{token:[redacted]}" }
func (secretHolder) GoString() string { return "platform.secretHolder{[redacted]}" }
func (h secretHolder) Format(f fmt.State, verb rune) {
	FormatRedacted(f, verb, h.String(), h.GoString())
}

func TestFormatRedactedKeepsTheVerbButNeverTheSecret(t *testing.T) {
	h := secretHolder{token: "tok-Qwerty-123"}
	tests := []struct{ verb, want string }{
		{"%v", "holder{token:[redacted]}"},
		{"%s", "holder{token:[redacted]}"},
		{"%+v", "holder{token:[redacted]}"},
		{"%q", `"holder{token:[redacted]}"`},
		{"%#v", "platform.secretHolder{[redacted]}"},
		{"%-26s|", "holder{token:[redacted]}  |"},
		{"%.6s", "holder"},
		{"%x", fmt.Sprintf("%x", "holder{token:[redacted]}")},
	}
	for _, tt := range tests {
		if got := fmt.Sprintf(tt.verb, h); got != tt.want {
			t.Errorf("%s: %q, want %q", tt.verb, got, tt.want)
		}
	}
	if got := fmt.Sprintf("%d", h); strings.Contains(got, h.token) {
		t.Errorf("%%d printed the secret: %s", got)
	}
}
