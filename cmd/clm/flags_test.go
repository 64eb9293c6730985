package main

import (
	"bytes"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// TestBadFlagValueIsNeverEchoed: a secret pasted as the value of the wrong
// flag is not repeated on stderr (other people see terminals and CI logs),
// while the error still names the flag and says what it wants.
func TestBadFlagValueIsNeverEchoed(t *testing.T) {
	const secret = "Pangolin-Mauve-6083-secret"
	tests := []struct {
		name     string
		args     []string
		wantText string
	}{
		{"--epoch VALUE", []string{"encode", "--chat", "c", "--user", "u", "--epoch", secret}, "--epoch wants N"},
		{"--epoch=VALUE", []string{"encode", "--chat", "c", "--user", "u", "--epoch=" + secret}, "--epoch wants N"},
		{"-epoch VALUE", []string{"encode", "--chat", "c", "--user", "u", "-epoch", secret}, "--epoch wants N"},
		{"a quoted value", []string{"encode", "--chat", "c", "--user", "u", "--epoch", `"` + secret + `" for flag -x:`}, "--epoch wants N"},
		{"--no-tag=VALUE", []string{"encode", "--chat", "c", "--user", "u", "--no-tag=" + secret}, "--no-tag takes no value"},
		{"bad flag syntax", []string{"encode", "---" + secret}, "values are not shown"},
		{"--epoch with no value", []string{"encode", "--chat", "c", "--user", "u", "--epoch"}, "--epoch needs a value"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(tt.args, strings.NewReader("hi"), &stdout, &stderr, env("s"))
			if code != exitUsage {
				t.Errorf("exit %d, want %d", code, exitUsage)
			}
			if strings.Contains(stderr.String()+stdout.String(), "Pangolin") {
				t.Errorf("the value is echoed:\n%s%s", &stdout, &stderr)
			}
			if !strings.Contains(stderr.String(), tt.wantText) {
				t.Errorf("stderr %q does not say %q", &stderr, tt.wantText)
			}
		})
	}
}

// TestSecretFileMustBeARegularFile: a directory given as --secret-file is
// refused with advice, not read.
func TestSecretFileMustBeARegularFile(t *testing.T) {
	var stdout, stderr bytes.Buffer
	code := run([]string{"hash", "--chat", "c", "--secret-file", t.TempDir()}, strings.NewReader(""), &stdout, &stderr, env(""))
	if code != exitUsage || !strings.Contains(stderr.String(), "not a regular file") || stdout.Len() != 0 {
		t.Fatalf("exit %d, stdout %q, stderr %q; want exit %d and \"not a regular file\"", code, &stdout, &stderr, exitUsage)
	}
}

// TestSecretFileReadableByOthersWarns: a secret file that the group or
// others may read still works, with a warning on stderr saying how to fix
// it; a private one gives no warning.
func TestSecretFileReadableByOthersWarns(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("Windows has no group and other permission bits")
	}
	file := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(file, []byte("Okapi-Teal-2291\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		mode os.FileMode
		warn bool
	}{{0o600, false}, {0o400, false}, {0o640, true}, {0o604, true}, {0o644, true}} {
		t.Run(tt.mode.String(), func(t *testing.T) {
			if err := os.Chmod(file, tt.mode); err != nil {
				t.Fatal(err)
			}
			var stdout, stderr bytes.Buffer
			code := run([]string{"hash", "--chat", "Work", "--secret-file", file}, strings.NewReader(""), &stdout, &stderr, env(""))
			if code != exitOK || stdout.Len() == 0 {
				t.Fatalf("exit %d, stdout %q, stderr %q", code, &stdout, &stderr)
			}
			warned := strings.Contains(stderr.String(), "warning") && strings.Contains(stderr.String(), "chmod 600")
			if warned != tt.warn || strings.Contains(stderr.String(), "Okapi") {
				t.Errorf("mode %v: stderr %q, want a warning: %v", tt.mode, &stderr, tt.warn)
			}
		})
	}
}
