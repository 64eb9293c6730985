// Command bridge runs CLM Bridge: it reads its configuration from CLM_*
// environment variables (see config.example.env), opens the store in the
// data directory and serves every platform whose token is set, or the
// console on stdin/stdout when none is.
//
// Exit status: 0 after a clean shutdown (SIGINT, SIGTERM, or the end of the
// console's input), 1 when the bridge fails, 2 for invalid configuration or
// usage.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/clmbridge/clmbridge/internal/app"
)

// Exit statuses.
const (
	exitOK     = 0
	exitFailed = 1
	exitUsage  = 2
)

func main() {
	if err := disableCoreDumps(); err != nil {
		fmt.Fprintf(os.Stderr, "bridge: warning: cannot turn core dumps off (%v): a crash could write unlocked secrets to disk\n", err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

const usage = `usage: bridge [healthcheck | doctor | backup PATH]
Runs CLM Bridge with the configuration in CLM_* environment variables
(documented in config.example.env). With no platform token set it runs in
console mode: lines like "alice@dm: help" on stdin, answers on stdout.

Operator commands (same variables; they work beside a running bridge):
  healthcheck   ask the running bridge's /healthz (CLM_HTTP_ADDR); exit 0 if alive
  doctor        check the configuration, the store and each platform's settings
  backup PATH   write a consistent copy of the store to the new file PATH
`

// run is main without the process: it returns the exit status.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) > 0 {
		switch args[0] {
		case "-h", "-help", "--help", "help":
			fmt.Fprint(stdout, usage)
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
	if err := app.Run(ctx, cfg, stdin, stdout, stderr); err != nil {
		fmt.Fprintf(stderr, "bridge: %v\n", err)
		return exitFailed
	}
	return exitOK
}
