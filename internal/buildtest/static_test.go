package buildtest

import (
	"bufio"
	"bytes"
	"context"
	"debug/elf"
	"errors"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// moduleRoot finds the directory holding go.mod, above the test's package.
func moduleRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("go.mod not found above the test directory")
		}
		dir = parent
	}
}

// requireStaticToolchain skips the test, saying what to install, when this
// machine cannot link a static cgo binary.
func requireStaticToolchain(t *testing.T) {
	t.Helper()
	cc := os.Getenv("CC")
	if cc == "" {
		cc = "gcc"
	}
	if _, err := exec.LookPath(cc); err != nil {
		t.Skipf("static toolchain missing: no C compiler %q (install gcc and libc6-dev: apt-get install -y gcc libc6-dev)", cc)
	}
	out, err := exec.Command(cc, "-print-file-name=libc.a").Output()
	libc := strings.TrimSpace(string(out))
	if err != nil || !filepath.IsAbs(libc) {
		t.Skipf("static toolchain missing: %s has no libc.a (install libc6-dev: apt-get install -y libc6-dev)", cc)
	}
	if _, err := os.Stat(libc); err != nil {
		t.Skipf("static toolchain missing: %s (install libc6-dev)", libc)
	}
}

// buildRelease runs build/static.sh, exactly as the Dockerfile does, and
// returns the binary's path.
func buildRelease(t *testing.T, root string) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "bridge")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "sh", filepath.Join(root, "build", "static.sh"), out)
	cmd.Dir = t.TempDir() // the script must not depend on where it is called from
	cmd.Env = append(os.Environ(), "VERSION="+stampedVersion)
	var log bytes.Buffer
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Run(); err != nil {
		t.Fatalf("build/static.sh failed: %v\n%s", err, log.String())
	}
	// glibc warns at link time when a static binary would still need shared
	// libraries at run time (getaddrinfo, getpwnam, dlopen): the tags in the
	// script are there to avoid exactly that.
	if strings.Contains(log.String(), "statically linked applications requires at runtime") {
		t.Errorf("the static link still needs shared libraries at run time:\n%s", log.String())
	}
	return out
}

func TestReleaseBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the release binary (a minute or two on a cold cache); run without -short")
	}
	root := moduleRoot(t)
	if m, _ := filepath.Glob(filepath.Join(root, "cmd", "bridge", "*.go")); len(m) == 0 {
		t.Skip("cmd/bridge has no Go files yet")
	}
	requireStaticToolchain(t)
	bin := buildRelease(t, root)

	t.Run("is statically linked", func(t *testing.T) {
		f, err := elf.Open(bin)
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = f.Close() }()
		for _, p := range f.Progs {
			if p.Type == elf.PT_INTERP {
				t.Error("the binary asks for a dynamic loader (PT_INTERP)")
			}
		}
		libs, err := f.ImportedLibraries()
		if err != nil {
			t.Fatal(err)
		}
		if len(libs) != 0 {
			t.Errorf("the binary needs shared libraries: %v", libs)
		}
	})

	t.Run("reports the version build/static.sh stamped", func(t *testing.T) {
		code, out := runOnce(t, bin, nil, "version")
		if code != 0 || !strings.HasPrefix(out, stampedVersion+" (revision ") {
			t.Errorf("bridge version: exit %d, %q; want it to start with %q", code, out, stampedVersion)
		}
	})

	t.Run("no token and stdin /dev/null, as in a container, exits 2", func(t *testing.T) {
		devnull, err := os.Open(os.DevNull)
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = devnull.Close() }()
		cmd := exec.Command(bin)
		cmd.Dir = t.TempDir()
		cmd.Env = []string{"CLM_DATA_DIR=" + filepath.Join(t.TempDir(), "data"), "CLM_HTTP_ADDR=off"}
		cmd.Stdin = devnull
		out, err := cmd.CombinedOutput()
		var exit *exec.ExitError
		if !errors.As(err, &exit) || exit.ExitCode() != 2 || !strings.Contains(string(out), "CLM_TELEGRAM_TOKEN") {
			t.Errorf("exit %v, want 2 naming the token variables:\n%s", err, out)
		}
	})

	t.Run("healthcheck fails when nothing runs", func(t *testing.T) {
		code, out := runOnce(t, bin, []string{"CLM_HTTP_ADDR=" + refusedAddr})
		if code != 1 {
			t.Errorf("healthcheck with nothing running: exit %d, want 1\n%s", code, out)
		}
		if !strings.Contains(out, refusedAddr) {
			t.Errorf("healthcheck does not say where it looked:\n%s", out)
		}
	})

	t.Run("runs from an empty directory with an empty environment", func(t *testing.T) {
		data := filepath.Join(t.TempDir(), "data")
		env := []string{"CLM_DATA_DIR=" + data, "CLM_HTTP_ADDR=127.0.0.1:0"}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, bin)
		cmd.Dir = t.TempDir()
		cmd.Env = env
		stdin, err := cmd.StdinPipe() // console mode: open stdin keeps it running
		if err != nil {
			t.Fatal(err)
		}
		stderr, err := cmd.StderrPipe()
		if err != nil {
			t.Fatal(err)
		}
		cmd.Stdout = io.Discard
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()

		addr, logged := waitListening(t, stderr)
		if addr == "" {
			t.Fatalf("the bridge never said where its HTTP endpoint listens; its log:\n%s", logged)
		}

		code, out := runOnce(t, bin, []string{"CLM_HTTP_ADDR=" + addr})
		if code != 0 {
			t.Fatalf("healthcheck against the running bridge: exit %d\n%s\nbridge log:\n%s", code, out, logged)
		}

		// A second bridge on the same data directory refuses to start.
		code, out = runOnce(t, bin, []string{"CLM_DATA_DIR=" + data, "CLM_HTTP_ADDR=127.0.0.1:0"})
		if code == 0 || !strings.Contains(out, "already running") {
			t.Errorf("second bridge on the same data directory: exit %d\n%s", code, out)
		}

		// End of input, after a line, shuts the console bridge down
		// cleanly (an input that ends empty is exit 2: nothing to serve).
		if _, err := io.WriteString(stdin, "alice@dm: help\n"); err != nil {
			t.Fatal(err)
		}
		_ = stdin.Close()
		if err := cmd.Wait(); err != nil {
			t.Fatalf("bridge exit after end of input: %v", err)
		}
		if code, out := runOnce(t, bin, []string{"CLM_HTTP_ADDR=" + addr}); code != 1 {
			t.Errorf("healthcheck after shutdown: exit %d, want 1\n%s", code, out)
		}
	})
}

// runOnce runs the binary with args (none: `bridge healthcheck`, or with
// CLM_DATA_DIR set the console bridge itself, given one line of input)
// with only env, from an empty directory, and returns its exit code and
// output.
func runOnce(t *testing.T, bin string, env []string, args ...string) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	input := ""
	if len(args) == 0 {
		args = []string{"healthcheck"}
		for _, e := range env {
			if strings.HasPrefix(e, "CLM_DATA_DIR=") {
				args, input = nil, "alice@dm: help\n"
			}
		}
	}
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir = t.TempDir()
	cmd.Env = env
	cmd.Stdin = strings.NewReader(input)
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return 0, string(out)
	case errors.As(err, &exit):
		return exit.ExitCode(), string(out)
	default:
		t.Fatalf("run %s: %v", bin, err)
		return -1, ""
	}
}

// listening matches the bridge's log line announcing the HTTP endpoint,
// in the text or the JSON log format.
var listening = regexp.MustCompile(`HTTP endpoint listening.*?addr["=:]+"?([0-9.]+:[0-9]+)`)

// waitListening reads the bridge's log until it says where the HTTP
// endpoint listens, or the log ends. It returns the address and the log.
func waitListening(t *testing.T, r io.Reader) (string, string) {
	t.Helper()
	var logged strings.Builder
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(r)
		sent := false
		for sc.Scan() {
			line := sc.Text()
			if !sent {
				logged.WriteString(line + "\n")
				if m := listening.FindStringSubmatch(line); m != nil {
					found <- m[1]
					sent = true
				}
			}
		}
		if !sent {
			close(found)
		}
	}()
	select {
	case addr := <-found:
		return addr, logged.String()
	case <-time.After(time.Minute):
		return "", "(no endpoint announced within a minute)"
	}
}

// stampedVersion is the VERSION the release build is given.
const stampedVersion = "v0.0.0-buildtest"

// refusedAddr is a loopback address where nothing listens: port 1 is
// privileged and unused, so a connection is refused at once.
const refusedAddr = "127.0.0.1:1"

func TestDockerfileUsesTheOneBuildScript(t *testing.T) {
	root := moduleRoot(t)
	b, err := os.ReadFile(filepath.Join(root, "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	df := string(b)
	tests := []struct {
		name, want string
	}{
		{"builds with build/static.sh", "sh build/static.sh /out/bridge"},
		{"final image is distroless static as non-root", "FROM gcr.io/distroless/static-debian12:nonroot"},
		{"runs as the non-root user", "USER 65532:65532"},
		{"data volume owned by that user", "COPY --from=build --chown=65532:65532 /out/data /data"},
		{"declares the volume", "VOLUME /data"},
		{"data directory setting", "CLM_DATA_DIR=/data"},
		{"healthcheck runs the binary itself", `CMD ["/bridge", "healthcheck"]`},
		{"the version reaches the build", `VERSION="$VERSION" REVISION="$REVISION" sh build/static.sh`},
		{"OCI version label", `org.opencontainers.image.version="${VERSION}"`},
		{"OCI revision label", `org.opencontainers.image.revision="${REVISION}"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !strings.Contains(df, tt.want) {
				t.Errorf("Dockerfile lacks %q", tt.want)
			}
		})
	}
	t.Run("no second copy of the build flags", func(t *testing.T) {
		for _, flag := range []string{"go build", "-extldflags", "netgo"} {
			if strings.Contains(df, flag) {
				t.Errorf("Dockerfile spells out %q itself; the flags belong in build/static.sh only", flag)
			}
		}
	})
}

// TestDockerfileExposesOnlyAPortThatAnswers: EXPOSE 9464 with the endpoint
// on the container's loopback published a port where nothing answered.
func TestDockerfileExposesOnlyAPortThatAnswers(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(moduleRoot(t), "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	addr := regexp.MustCompile(`CLM_HTTP_ADDR=(\S+)`).FindStringSubmatch(string(b))
	if addr == nil {
		t.Fatal("the Dockerfile does not set CLM_HTTP_ADDR")
	}
	host, port, err := net.SplitHostPort(addr[1])
	if err != nil {
		t.Fatalf("CLM_HTTP_ADDR=%s: %v", addr[1], err)
	}
	for _, m := range regexp.MustCompile(`(?m)^EXPOSE\s+(\S+)`).FindAllStringSubmatch(string(b), -1) {
		exposed := strings.TrimSuffix(m[1], "/tcp")
		if exposed != port {
			t.Errorf("EXPOSE %s, but the endpoint listens on port %s", exposed, port)
		}
		if ip := net.ParseIP(host); host == "localhost" || (ip != nil && ip.IsLoopback()) {
			t.Errorf("EXPOSE %s, but the endpoint listens on the container's loopback (%s): nothing answers there", exposed, addr[1])
		}
	}
}
