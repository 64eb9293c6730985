// Package platform is the contract between the bridge's host
// (internal/app) and the chat platforms it serves: what one adapter
// package provides so that the host can read its configuration, build it,
// run it, check it and report on it without knowing which platform it is.
//
// A platform provides one value satisfying [Platform] (by convention the
// zero value of its own Platform type) and a configuration type
// satisfying [Config]. What only some platforms can do is a small extra
// interface the host checks for on the value it holds: [Doctor] on a
// Config, [Connected] on an Adapter, [Fallback] on a Platform. The host
// never names a concrete adapter type.
//
// It also holds what every adapter shares so that each rule is written
// once: the token/_FILE rule ([ReadSecret]), the error of a platform that
// refused the bot for good ([ErrRefused]), the doctor's [Finding], the
// classes of API calls the metrics count ([APIClass], [CountCalls]), and
// the printing of redacted types ([FormatRedacted]).
//
// The package sits below the adapters and above the core (cmd → internal →
// adapters → platform → bridge → clm/storage): adapters import it, and it
// imports nothing of ours but the core's request interface. It is not a
// registry: the host holds the list of platforms (internal/app's
// platforms.go).
package platform

import (
	"context"
	"io"
	"log/slog"
	"time"

	"github.com/clmbridge/clmbridge/bridge"
)

// Platform is what every adapter package provides: the platform's name and
// the rules that hold before any adapter is built.
type Platform interface {
	// Name is the platform's name in lower case: its members'
	// bridge.Member.Platform, the prefix of their CLM_ADMINS entries, the
	// name of its adapter, readiness check, doctor area and metrics label.
	Name() string
	// NewConfig returns a pointer to the platform's zero configuration,
	// for the host to fill from the environment with envconfig: each field
	// is tagged with its whole CLM_<PLATFORM>_* name (the host reads it
	// with no prefix, so envconfig has no bare name to fall back to).
	NewConfig() Config
	// CheckUserID checks that id is a user id of this platform, as an
	// operator writes one in CLM_ADMINS. The error says how a member finds
	// theirs and never repeats id (a token pasted there by mistake stays
	// out of logs).
	CheckUserID(id string) error
	// MessageLimit is the most characters one message may hold on the
	// platform: the ceiling of a public pointer posted there.
	MessageLimit() int
}

// Config is one platform's configuration, as read from the environment.
type Config interface {
	// Enabled reports whether the operator turned the platform on (its
	// token, or token file, is set).
	Enabled() bool
	// Check reports, before anything starts, what NewAdapter would refuse
	// (a missing or unreadable token, a bad URL or limit), so that a bad
	// setting stops the bridge before the store or any platform is
	// touched. Errors name the variable and never hold a secret.
	Check() error
	// Secrets returns the tokens and other secrets the configuration holds
	// or names in files (read with [ReadSecret]'s rule; an unreadable file
	// gives nothing), so that the host can remove them from anything it
	// shows as a second guard.
	Secrets() []string
	// NewAdapter checks the configuration and builds the platform's
	// adapter serving core. It does not connect: [Adapter.Run] does. The
	// error says which variable to fix and never holds a secret.
	NewAdapter(core bridge.Core, host Host) (Adapter, error)
}

// Host is what the host gives every adapter it builds.
type Host struct {
	// Logger receives the adapter's log lines (already tagged with the
	// adapter's name); nil discards them.
	Logger *slog.Logger
	// Metrics counts the adapter's failed API calls and reads its outbox
	// depth; nil counts nothing.
	Metrics Metrics
	// Stdin, Stdout and Stderr are the process's standard streams, for a
	// platform that talks through them (the console).
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	// PollGate, when set, is how an adapter that must receive its updates
	// on exactly one of several instances (Telegram long polling) takes
	// its turn; nil when this is the only instance.
	PollGate PollGate
}

// Adapter is one running platform connection.
type Adapter interface {
	// Name is the platform's name (see [Platform.Name]).
	Name() string
	// Run serves requests into the core until ctx is done (then it returns
	// nil) or it cannot go on (an error). An adapter whose input ends (the
	// console at end of input) returns nil too.
	Run(ctx context.Context) error
}

// Connected is an Adapter that keeps a connection to its platform: the
// host reports it as readiness (/readyz) and in the metrics. An adapter
// that is not one (the console) is ready while it runs.
type Connected interface {
	// Connection reports the adapter's connection now. It must not wait.
	Connection() Connection
}

// Connection is what a [Connected] adapter reports.
type Connection struct {
	// Up is true while the bot is connected (polling works, or the
	// gateway is up).
	Up bool
	// Problem says, for an operator, why the connection is not up ("not
	// connected to Telegram yet", or the last error with the token
	// redacted); "" while it is up.
	Problem string
	// LastContact is when the platform last answered a poll or a
	// heartbeat; zero when it never did.
	LastContact time.Time
}

// Doctor is a Config whose platform can be examined the way an operator
// would: its settings and permissions as the platform itself reports them.
type Doctor interface {
	// Doctor examines the platform at its configured address. It only
	// reads: it changes no platform setting. Findings never hold a token.
	Doctor(ctx context.Context) []Finding
}

// Fallback is a Platform the host runs when no platform is enabled (the
// console, on the standard streams).
type Fallback interface {
	// ServesWhenNoneIsEnabled marks the platform; it does nothing.
	ServesWhenNoneIsEnabled()
}
