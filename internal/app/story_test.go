package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/clmbridge/clmbridge/bridge"
	"github.com/clmbridge/clmbridge/clm"
	"github.com/clmbridge/clmbridge/internal/app"
	"github.com/clmbridge/clmbridge/storage"
)

const (
	storySecret = "tulip-harbor-quartz-77"
	storyText   = "The launch moves to Friday."
	carolGuess  = "carols-wrong-guess-42"
)

// storyNow is the clock of the story: pointers made at a known second can
// be computed by the test.
var storyNow = time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)

func storyConfig(dir string) app.Config {
	return app.Config{
		DataDir: dir, SessionIdle: 30 * time.Minute, SessionMaxAge: 12 * time.Hour,
		RateBurst: 20, RatePerMinute: 30, LogLevel: "debug", LogFormat: "json",
	}
}

// runScript runs the bridge in console mode over the script's lines and
// returns stdout and stderr.
func runScript(t *testing.T, dir string, lines ...string) (stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	var core *bridge.Bridge
	opts := app.Options{
		Storage: storage.Options{Argon2: storage.Argon2Params{MemoryKiB: 8, Time: 1, Threads: 1}},
		Now:     func() time.Time { return storyNow },
		OnStart: func(b *bridge.Bridge) { core = b },
	}
	in := strings.NewReader(strings.Join(lines, "\n") + "\n")
	if err := app.RunWith(context.Background(), storyConfig(dir), opts, in, &out, &errb); err != nil {
		t.Fatalf("Run: %v\nstderr:\n%s", err, errb.String())
	}
	// The end of input shut the bridge down: every session is wiped.
	if core == nil {
		t.Fatal("OnStart was not called")
	}
	if st := core.Stats(); st.Sessions != 0 || st.DistinctSecret != 0 {
		t.Fatalf("sessions left after shutdown: %+v", st)
	}
	return out.String(), errb.String()
}

// linesTo returns the output lines addressed to who ("alice" or "#general"),
// without their prefix.
func linesTo(out, who string) []string {
	var got []string
	for _, l := range strings.Split(out, "\n") {
		for _, p := range []string{"-> " + who + " (private): ", "-> " + who + " (public): "} {
			if rest, ok := strings.CutPrefix(l, p); ok {
				got = append(got, rest)
			}
		}
	}
	return got
}

func joined(out, who string) string { return strings.Join(linesTo(out, who), "\n") }

// TestConsoleStory is the end-to-end story through the real wiring:
// alice creates Work and sends; she posts the pointer in #general; bob, who
// was told the secret out of band, receives it in his DM and gives the
// secret when asked; carol with a wrong secret gets nothing; a secret typed
// in #general is refused; history survives a restart; nothing private
// reaches #general, the logs or the disk in the clear.
func TestConsoleStory(t *testing.T) {
	dir := t.TempDir()
	p, err := clm.NewPointer([]byte(storySecret), clm.Message{Chat: "Work", Username: "alice", Text: storyText}, storyNow.Unix())
	if err != nil {
		t.Fatal(err)
	}
	ptr := p.String()

	out, diag := runScript(t, dir,
		"# alice starts a chat and sends",
		"alice@dm: new Work "+storySecret,
		"alice@dm: send Work "+storyText,
		"alice@#general: "+ptr,
		"# bob was told the secret out of band",
		"bob@dm: /clm receive "+ptr,
		"bob@dm: "+storySecret,
		"# carol guesses",
		"carol@dm: receive "+ptr,
		"carol@dm: "+carolGuess,
		"carol@#general: /clm unlock Work "+storySecret,
		"carol@#general: /clm receive",
		"carol@dm: chats",
		"# bob opens it from the channel too, and reads his history",
		"bob@#general: /clm receive",
		"bob@dm: history Work",
	)

	t.Run("alice gets the pointer privately", func(t *testing.T) {
		a := joined(out, "alice")
		if !strings.Contains(a, "Created Work") || !strings.Contains(a, "\n"+ptr) {
			t.Fatalf("alice saw:\n%s", a)
		}
	})
	t.Run("the channel sees the pointer and a Receive button only", func(t *testing.T) {
		g := joined(out, "#general")
		if !strings.Contains(g, "🔓 A CLM pointer") || !strings.Contains(g, "[🔓 Receive] /clm receive r") {
			t.Fatalf("#general saw:\n%s", g)
		}
	})
	t.Run("bob is asked for the secret and so gets the chat and the text", func(t *testing.T) {
		b := joined(out, "bob")
		for _, want := range []string{
			"None of your unlocked chats opens this pointer",
			"send it as your next message",
			"📨 Work · alice: " + storyText,
			"The chat is unlocked now",
			"already in your history",
			"Work, page 1",
		} {
			if !strings.Contains(b, want) {
				t.Errorf("bob did not see %q in:\n%s", want, b)
			}
		}
		if strings.Count(b, storyText) != 3 { // the DM answer, the channel receive, history
			t.Errorf("bob saw the text %d times:\n%s", strings.Count(b, storyText), b)
		}
	})
	t.Run("carol with a wrong secret gets neither chat nor text", func(t *testing.T) {
		c := joined(out, "carol")
		for _, want := range []string{"opens none of the pointers", "🔥 You typed a secret in #general", "You have no chats yet"} {
			if !strings.Contains(c, want) {
				t.Errorf("carol did not see %q in:\n%s", want, c)
			}
		}
		if strings.Contains(c, storyText) {
			t.Errorf("carol saw the text:\n%s", c)
		}
		if !strings.Contains(diag, "(carol in #general) deleted") {
			t.Errorf("carol's public secret was not deleted; stderr:\n%s", diag)
		}
	})
	t.Run("no line repeats a secret, no public line holds anything private", func(t *testing.T) {
		for _, l := range strings.Split(out, "\n") {
			if strings.Contains(l, storySecret) || strings.Contains(l, carolGuess) {
				t.Errorf("secret echoed: %s", l)
			}
			if strings.Contains(l, "(public)") && strings.Contains(l, "launch") {
				t.Errorf("plaintext in public: %s", l)
			}
		}
		for _, bad := range []string{storySecret, carolGuess, storyText} {
			if strings.Contains(diag, bad) {
				t.Errorf("stderr (debug logs) holds %q", bad)
			}
		}
	})

	// Restart on the same data directory: sessions are gone, history stays.
	out2, diag2 := runScript(t, dir,
		"bob@dm: history Work",
		"bob@dm: unlock Work "+storySecret,
		"bob@dm: history Work",
		"alice@dm: unlock Work "+storySecret,
		"alice@dm: history Work",
		"carol@dm: chats",
	)
	t.Run("history survives a restart", func(t *testing.T) {
		b := joined(out2, "bob")
		if !strings.Contains(b, "Work is locked") || !strings.Contains(b, "↓ alice: "+storyText) {
			t.Fatalf("bob after restart:\n%s", b)
		}
		if a := joined(out2, "alice"); !strings.Contains(a, "↑ alice: "+storyText) {
			t.Fatalf("alice after restart:\n%s", a)
		}
		if c := joined(out2, "carol"); !strings.Contains(c, "no chats yet") {
			t.Fatalf("carol after restart:\n%s", c)
		}
		if strings.Contains(out2+diag2, storySecret) {
			t.Fatal("a secret was echoed after the restart")
		}
	})
	t.Run("nothing private on disk", func(t *testing.T) {
		files, err := filepath.Glob(filepath.Join(dir, "*"))
		if err != nil || len(files) == 0 {
			t.Fatalf("no files in the data directory (%v)", err)
		}
		found := false
		for _, f := range files {
			data, err := os.ReadFile(f)
			if errors.Is(err, os.ErrNotExist) {
				continue
			}
			if err != nil {
				t.Fatal(err)
			}
			if filepath.Base(f) == app.DBFileName {
				found = true
			}
			for _, bad := range []string{storySecret, carolGuess, storyText, "launch moves", clm.ChatHash("Work", []byte(storySecret))} {
				if bytes.Contains(data, []byte(bad)) {
					t.Errorf("%s holds %q", filepath.Base(f), bad)
				}
			}
		}
		if !found {
			t.Fatalf("no %s among %v", app.DBFileName, files)
		}
	})
}

func TestJSONLogsStayOneObjectPerLineWithTheConsoleRunning(t *testing.T) {
	_, stderr := runScript(t, t.TempDir(), "alice@dm: help", "alice@dm: frobnicate now")
	lines := strings.Split(strings.TrimSpace(stderr), "\n")
	sawConsole := false
	for _, l := range lines {
		var rec map[string]any
		if err := json.Unmarshal([]byte(l), &rec); err != nil {
			t.Fatalf("a stderr line is not JSON: %q", l)
		}
		if _, ok := rec["err"]; ok {
			t.Errorf("a record uses the key \"err\" (the key is \"error\"): %q", l)
		}
		if msg, _ := rec["msg"].(string); strings.HasPrefix(msg, "console: ready") {
			sawConsole = true
		}
	}
	if !sawConsole {
		t.Errorf("the console's ready line is not among the log records:\n%s", stderr)
	}
}
