package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
)

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"clm": main,
	})
}

// TestScripts runs the CLI end to end from testdata/script/*.txtar.
// Besides the standard commands, scripts have "status N prog args...":
// exec that must exit with status N.
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir:                 filepath.Join("testdata", "script"),
		RequireExplicitExec: true,
		Cmds:                map[string]func(*testscript.TestScript, bool, []string){"status": cmdStatus},
	})
}

func cmdStatus(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: status CODE program [args...]")
	}
	want, err := strconv.Atoi(args[0])
	ts.Check(err)
	got := 0
	if err := ts.Exec(args[1], args[2:]...); err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			ts.Fatalf("%s: %v", args[1], err)
		}
		got = ee.ExitCode()
	}
	if got != want {
		ts.Fatalf("exit status %d, want %d", got, want)
	}
}

// TestSecretNeverPrinted runs every command, succeeding and failing, with
// a recognisable secret and scans all output for it.
func TestSecretNeverPrinted(t *testing.T) {
	const secret = "Quokka-Saffron-4471-secret"
	dir := t.TempDir()
	file := filepath.Join(dir, "secret")
	if err := os.WriteFile(file, []byte(secret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	pointer := runOK(t, secret, "hello", "encode", "--chat", "Work", "--user", "bob", "--epoch", "1")
	cases := []struct {
		stdin string
		args  []string
	}{
		{"hello", []string{"encode", "--chat", "Work", "--user", "bob"}},
		{"hello", []string{"encode", "--chat", "Work", "--user", "bob", "--no-tag", "--secret-file", file}},
		{"bad \xff utf-8", []string{"encode", "--chat", "Work", "--user", "bob"}},
		{"hello", []string{"encode", "--chat", "a|¶|b", "--user", "bob"}},
		{pointer, []string{"decode"}},
		{pointer + strings.Replace(pointer, `"d": "`, `"d": "00`, 1), []string{"decode", "--secret-file", file}},
		{"no pointer here", []string{"decode"}},
		{`{"e": 1, "n": "x", "d": "0"}`, []string{"decode"}},
		{"", []string{"pubkey", "--user", "alice"}},
		{"", []string{"hash", "--chat", "Work"}},
		{"", []string{"hash", "--chat", "Work", "--secret", secret}},
		{"", []string{"hash", "--chat", "Work", "--secret=" + secret}},
		{"", []string{"hash", "--chat", "Work", secret}},
		{"", []string{"hash", "--chat", "Work", "--secret-file", secret}},
		{"", []string{"encode", "--help"}},
	}
	for _, c := range cases {
		var stdout, stderr bytes.Buffer
		run(c.args, strings.NewReader(c.stdin), &stdout, &stderr, env(secret))
		for name, out := range map[string]string{"stdout": stdout.String(), "stderr": stderr.String()} {
			if strings.Contains(out, secret) || strings.Contains(out, "Quokka") {
				t.Errorf("clm %q: the secret is in %s:\n%s", c.args, name, out)
			}
		}
	}
}

func TestExitStatus(t *testing.T) {
	const secret = "s3cret"
	good := runOK(t, secret, "hi", "encode", "--chat", "c", "--user", "u")
	tests := []struct {
		name   string
		stdin  string
		getenv func(string) string
		args   []string
		want   int
	}{
		{"no command", "", env(secret), nil, exitUsage},
		{"help", "", env(secret), []string{"--help"}, exitOK},
		{"unknown command", "", env(secret), []string{"frobnicate"}, exitUsage},
		{"unknown flag", "", env(secret), []string{"keygen", "--bits", "128"}, exitUsage},
		{"secret as a flag", "", env(secret), []string{"decode", "--secret", secret}, exitUsage},
		{"stray argument", "", env(secret), []string{"keygen", "extra"}, exitUsage},
		{"no secret", "hi", env(""), []string{"encode", "--chat", "c", "--user", "u"}, exitUsage},
		{"missing --user", "hi", env(secret), []string{"encode", "--chat", "c"}, exitUsage},
		{"bad --epoch", "hi", env(secret), []string{"encode", "--chat", "c", "--user", "u", "--epoch", "soon"}, exitUsage},
		{"invalid message", "\xff", env(secret), []string{"encode", "--chat", "c", "--user", "u"}, exitUsage},
		{"encode help", "", env(""), []string{"encode", "-h"}, exitOK},
		{"decode opens", good, env(secret), []string{"decode"}, exitOK},
		{"decode wrong secret", good, env("other"), []string{"decode"}, exitFailed},
		{"decode no pointer", "hello", env(secret), []string{"decode"}, exitFailed},
		{"decode one of two fails", good + "\n" + `{"e": 1, "n": "x", "d": "0"}`, env(secret), []string{"decode"}, exitFailed},
		{"keygen", "", env(""), []string{"keygen"}, exitOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			got := run(tt.args, strings.NewReader(tt.stdin), &stdout, &stderr, tt.getenv)
			if got != tt.want {
				t.Errorf("exit status %d, want %d\nstdout: %s\nstderr: %s", got, tt.want, &stdout, &stderr)
			}
			if tt.want == exitUsage && !strings.HasPrefix(stderr.String(), "clm") {
				t.Errorf("a usage error must explain itself on stderr, got %q", stderr.String())
			}
		})
	}
}

func env(secret string) func(string) string {
	return func(k string) string {
		if k == "CLM_SECRET" {
			return secret
		}
		return ""
	}
}

func runOK(t *testing.T, secret, stdin string, args ...string) string {
	t.Helper()
	var stdout, stderr bytes.Buffer
	if code := run(args, strings.NewReader(stdin), &stdout, &stderr, env(secret)); code != 0 {
		t.Fatalf("clm %q: exit %d: %s", args, code, &stderr)
	}
	return stdout.String()
}
