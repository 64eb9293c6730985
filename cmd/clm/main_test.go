package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
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
		Setup: func(e *testscript.Env) error {
			// Under -race, each exec'd clm would otherwise sleep a second at
			// exit waiting for late race reports (GORACE atexit_sleep_ms).
			e.Setenv("GORACE", "atexit_sleep_ms=0")
			return nil
		},
		Cmds: map[string]func(*testscript.TestScript, bool, []string){"status": cmdStatus},
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

// TestVectorsThroughRun puts every encode vector of testdata/clm-v2.json
// through the CLI in-process: encode (tagged and legacy) prints the vector's
// pointer, and decode prints the message back as one JSON line.
func TestVectorsThroughRun(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "clm-v2.json"))
	if err != nil {
		t.Fatal(err)
	}
	var v struct {
		Encode []struct {
			Username, Chat, Secret, Message string
			Epoch                           int64
			Pointer                         string
			TaggedPointer                   string `json:"tagged_pointer"`
			TaggedPointerPlainNonce         string `json:"tagged_pointer_plain_nonce"`
		}
	}
	if err := json.Unmarshal(b, &v); err != nil || len(v.Encode) == 0 {
		t.Fatalf("reading the vectors: %v", err)
	}
	for i, e := range v.Encode {
		t.Run(fmt.Sprintf("%02d_%s", i, e.Username), func(t *testing.T) {
			epoch := strconv.FormatInt(e.Epoch, 10)
			for _, tagged := range []bool{true, false} {
				args := []string{"encode", "--chat", e.Chat, "--user", e.Username, "--epoch", epoch}
				want := e.TaggedPointer
				if !tagged {
					args = append(args, "--no-tag")
					want = e.Pointer
				}
				got := runOK(t, e.Secret, e.Message+"\n", args...)
				if got != want+"\n" {
					t.Fatalf("tagged=%v: encode printed\n%s\nwant\n%s", tagged, got, want)
				}
				line, err := json.Marshal(map[string]any{"chat": e.Chat, "username": e.Username, "message": e.Message, "authenticated": tagged})
				if err != nil {
					t.Fatal(err)
				}
				var gotOut, wantOut any
				decoded := runOK(t, e.Secret, got, "decode")
				if json.Unmarshal([]byte(decoded), &gotOut) != nil || json.Unmarshal(line, &wantOut) != nil ||
					!reflect.DeepEqual(gotOut, wantOut) || strings.Count(decoded, "\n") != 1 {
					t.Fatalf("tagged=%v: decode printed %s, want %s", tagged, decoded, line)
				}
			}
			// The first extension's form (2.0.2 nonce and a tag) still opens.
			decoded := runOK(t, e.Secret, e.TaggedPointerPlainNonce, "decode")
			if !strings.Contains(decoded, `"authenticated":true`) {
				t.Fatalf("tagged_pointer_plain_nonce: decode printed %s", decoded)
			}
		})
	}
}

// TestDecodeVectorsThroughRun puts every decode vector of
// testdata/clm-v2.json through clm decode in-process: the message, or the
// error name, and never the text of a pointer that failed.
func TestDecodeVectorsThroughRun(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "clm-v2.json"))
	if err != nil {
		t.Fatal(err)
	}
	var v struct {
		Decode []struct {
			Pointer, Secret         string
			OK                      bool
			Chat, Username, Message string
			Authenticated           bool
			Error, Note             string
		}
	}
	if err := json.Unmarshal(b, &v); err != nil || len(v.Decode) == 0 {
		t.Fatalf("reading the vectors: %v", err)
	}
	for i, c := range v.Decode {
		name := c.Error
		if c.OK {
			name = "ok_" + c.Username
		}
		t.Run(fmt.Sprintf("%02d_%s", i, name), func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run([]string{"decode"}, strings.NewReader(c.Pointer), &stdout, &stderr, env(c.Secret))
			want := map[string]any{"error": c.Error}
			if c.Error == "malformed" && !strings.Contains(c.Pointer, "{") {
				// decode reads free text: with no object in it, there is
				// no pointer to call malformed.
				want["error"] = "no_pointer"
			}
			wantCode := exitFailed
			if c.OK {
				want = map[string]any{"chat": c.Chat, "username": c.Username, "message": c.Message, "authenticated": c.Authenticated}
				wantCode = exitOK
			}
			var got map[string]any
			if err := json.Unmarshal(stdout.Bytes(), &got); err != nil || !reflect.DeepEqual(got, want) || code != wantCode {
				t.Fatalf("decode printed %s (exit %d), want %v (exit %d); %s", &stdout, code, want, wantCode, c.Note)
			}
		})
	}
}

// TestKeyVectorsThroughRun puts the public_key and chat_secret_hash vectors
// of testdata/clm-v2.json through clm pubkey and clm hash, one subtest
// each.
func TestKeyVectorsThroughRun(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "clm-v2.json"))
	if err != nil {
		t.Fatal(err)
	}
	var v struct {
		PublicKey []struct {
			Username, Secret string
			PublicKey        string `json:"public_key"`
		} `json:"public_key"`
		ChatSecretHash []struct{ Chat, Secret, Hash string } `json:"chat_secret_hash"`
	}
	if err := json.Unmarshal(b, &v); err != nil || len(v.PublicKey) == 0 || len(v.ChatSecretHash) == 0 {
		t.Fatalf("reading the vectors: %v", err)
	}
	for i, c := range v.PublicKey {
		t.Run(fmt.Sprintf("public_key_%02d_%s", i, c.Username), func(t *testing.T) {
			if c.Secret == "" {
				// The CLI takes no empty secret: it says so instead.
				var stdout, stderr bytes.Buffer
				if code := run([]string{"pubkey", "--user", c.Username}, strings.NewReader(""), &stdout, &stderr, env("")); code != exitUsage || !strings.Contains(stderr.String(), "no secret") {
					t.Errorf("an empty master phrase: exit %d, stderr %q", code, &stderr)
				}
				return
			}
			if got := runOK(t, c.Secret, "", "pubkey", "--user", c.Username); got != c.PublicKey+"\n" {
				t.Errorf("pubkey printed %q, want %q", got, c.PublicKey)
			}
		})
	}
	for i, c := range v.ChatSecretHash {
		t.Run(fmt.Sprintf("chat_secret_hash_%02d_%s", i, c.Chat), func(t *testing.T) {
			if got := runOK(t, c.Secret, "", "hash", "--chat", c.Chat); got != c.Hash+"\n" {
				t.Errorf("hash printed %q, want %q", got, c.Hash)
			}
		})
	}
}

// TestExtractVectorsThroughRun puts each extract vector's text through clm
// decode: it reports exactly the vector's pointers, one line each, in order
// (they do not open with this secret, so each line is an error naming it),
// or no_pointer when there is none.
func TestExtractVectorsThroughRun(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "clm-v2.json"))
	if err != nil {
		t.Fatal(err)
	}
	var v struct {
		Extract []struct {
			Text     string
			Pointers []json.RawMessage
		}
	}
	if err := json.Unmarshal(b, &v); err != nil || len(v.Extract) == 0 {
		t.Fatalf("reading the vectors: %v", err)
	}
	for i, c := range v.Extract {
		t.Run(fmt.Sprintf("%02d_%dpointers", i, len(c.Pointers)), func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			run([]string{"decode"}, strings.NewReader(c.Text), &stdout, &stderr, env("not the secret of any vector"))
			lines := strings.Split(strings.TrimSuffix(stdout.String(), "\n"), "\n")
			if len(c.Pointers) == 0 {
				if len(lines) != 1 || lines[0] != `{"error":"no_pointer"}` {
					t.Fatalf("decode printed %q, want no_pointer", &stdout)
				}
				return
			}
			if len(lines) != len(c.Pointers) {
				t.Fatalf("decode printed %d lines for %d pointers:\n%s", len(lines), len(c.Pointers), &stdout)
			}
			for j, l := range lines {
				if !strings.HasPrefix(l, `{"error":"`) {
					t.Errorf("line %d: %s, want an error (wrong secret)", j, l)
				}
			}
		})
	}
}
