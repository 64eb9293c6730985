// Command bridge runs CLM Bridge: it reads its configuration from CLM_*
// environment variables (see config.example.env), opens the store in the
// data directory and serves every platform whose token is set, or the
// console on stdin/stdout when none is.
//
// Exit status: 0 after a clean shutdown (SIGINT, SIGTERM, SIGHUP, or the
// end of the console's input); 1 when the bridge fails; 2 for invalid
// configuration or usage, found before anything starts; 3 when a platform
// refused the bot for good (a revoked token, an intent Discord did not
// grant), which no retry can mend.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"

	"github.com/clmbridge/clmbridge/internal/app"
	"github.com/clmbridge/clmbridge/internal/version"
	"github.com/clmbridge/clmbridge/platform"
)

// Exit statuses.
const (
	exitOK      = 0
	exitFailed  = 1
	exitUsage   = 2
	exitRefused = 3
)

func main() {
	if err := disableCoreDumps(); err != nil {
		fmt.Fprintf(os.Stderr, "bridge: warning: cannot turn core dumps off (%v): a crash could write unlocked secrets to disk\n", err)
	}
	// SIGHUP (a closed terminal, or an operator's reload habit) stops the
	// bridge as gracefully as SIGTERM: without it the process would die at
	// once, with no drain and the WAL left behind.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

const usage = `usage: bridge [version | healthcheck [ready] | doctor | backup PATH | restore BACKUP]
Runs CLM Bridge with the configuration in CLM_* environment variables
(documented in config.example.env). With no platform token set it runs in
console mode: lines like "alice@dm: help" on stdin, answers on stdout.

Operator commands (same variables):
  version         print the version, the revision and the Go version
  healthcheck     ask the running bridge's /healthz (CLM_HTTP_ADDR); exit 0 if alive
  healthcheck ready  ask its /readyz instead; exit 0 if ready (store, platforms)
  doctor          check the configuration, the store and each platform's settings
  backup PATH     write a consistent copy of the store to the new file PATH (online)
  restore BACKUP  replace the store with a checked backup (the bridge must be stopped)

Exit status: 0 clean stop; 1 failure; 2 invalid configuration or usage;
3 a platform refused the bot for good (revoked token, refused intent).
`

// run is main without the process: it returns the exit status.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) > 0 {
		switch args[0] {
		case "-h", "-help", "--help", "help":
			fmt.Fprint(stdout, usage)
			return exitOK
		case "version", "--version", "-version":
			fmt.Fprintln(stdout, version.Get())
			return exitOK
		default:
			if code, ok := app.OpsCommand(ctx, args, stdout, stderr); ok {
				return code
			}
			fmt.Fprintf(stderr, "bridge: unknown argument %q\n%s", args[0], usage)
			return exitUsage
		}
	}
	cfg, err := app.LoadConfig()
	if err != nil {
		fmt.Fprintf(stderr, "bridge: invalid configuration: %v\nSee config.example.env for every variable and its default.\n", err)
		return exitUsage
	}
	var in *inputWatch
	if cfg.ConsoleMode() {
		in = &inputWatch{r: stdin, terminal: isTerminalReader(stdin)}
		stdin = in
	}
	err = app.Run(ctx, cfg, stdin, stdout, stderr)
	switch {
	case err == nil && in.endedEmpty() && ctx.Err() == nil:
		// A container started without a token has /dev/null for stdin:
		// exiting 0 here would make a silent restart loop.
		fmt.Fprintf(stderr, "bridge: no platform token is set (%s) and standard input was empty, so there was nothing to serve.\nSet a token to serve a community, or give console lines on standard input (docker run -i, or a pipe).\n", strings.Join(app.TokenVariables(), ", "))
		return exitUsage
	case err == nil:
		return exitOK
	case errors.Is(err, app.ErrConfig):
		fmt.Fprintf(stderr, "bridge: %v\nSee config.example.env for every variable and its default.\n", err)
		return exitUsage
	case errors.Is(err, platform.ErrRefused):
		fmt.Fprintf(stderr, "bridge: stopped for good: %v\nFix the setting named above and start the bridge again; restarting as it is cannot help.\n", err)
		return exitRefused
	}
	fmt.Fprintf(stderr, "bridge: %v\n", err)
	return exitFailed
}

// inputWatch passes the console's input through and remembers whether it
// ended before its first byte.
type inputWatch struct {
	r        io.Reader
	terminal bool
	mu       sync.Mutex
	n        int64
	eof      bool
}

func (w *inputWatch) Read(p []byte) (int, error) {
	n, err := w.r.Read(p)
	w.mu.Lock()
	w.n += int64(n)
	if errors.Is(err, io.EOF) {
		w.eof = true
	}
	w.mu.Unlock()
	return n, err
}

// endedEmpty reports whether a non-terminal input ended holding nothing
// (nil-safe: false). A member who presses Ctrl-D at once on a terminal
// chose to stop; that is a clean exit.
func (w *inputWatch) endedEmpty() bool {
	if w == nil || w.terminal {
		return false
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.eof && w.n == 0
}

// isTerminalReader reports whether r is a terminal.
func isTerminalReader(r io.Reader) bool {
	f, ok := r.(*os.File)
	return ok && isTerminal(f)
}
