package console

import (
	"errors"

	"github.com/clmbridge/clmbridge/bridge"
	"github.com/clmbridge/clmbridge/platform"
)

// Platform is the console as the host sees it: the value internal/app
// lists. It is the smallest platform, and the one to copy for a new one
// (see the README's "Adding a platform").
type Platform struct{}

var (
	_ platform.Platform = Platform{}
	_ platform.Fallback = Platform{}
	_ platform.Config   = (*Config)(nil)
)

// Name returns "console".
func (Platform) Name() string { return Name }

// NewConfig returns the console's configuration, which has no settings.
func (Platform) NewConfig() platform.Config { return &Config{} }

// CheckUserID accepts a console member's name: letters, digits, _ and -,
// as the console's input lines name their author (alice@dm: ...).
func (Platform) CheckUserID(id string) error {
	for _, r := range id {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-') {
			return errors.New("a console member is a name of letters, digits, _ and -, as in console:alice")
		}
	}
	return nil
}

// MessageLimit returns [DefaultMaxPointerChars].
func (Platform) MessageLimit() int { return DefaultMaxPointerChars }

// ServesWhenNoneIsEnabled marks the console as what the bridge runs when
// no platform's token is set.
func (Platform) ServesWhenNoneIsEnabled() {}

// Config is the console's configuration: it has none, and the console is
// never turned on by a setting (it runs when no platform is).
type Config struct{}

// Enabled returns false: see [Platform.ServesWhenNoneIsEnabled].
func (Config) Enabled() bool { return false }

// Check returns nil: there is nothing to check.
func (Config) Check() error { return nil }

// Secrets returns nothing: the console has no token.
func (Config) Secrets() []string { return nil }

// NewAdapter returns a console adapter on the host's standard streams:
// it reads host.Stdin, answers on host.Stdout and writes its own lines
// (ready, line N deleted) to host.Stderr.
func (Config) NewAdapter(core bridge.Core, host platform.Host) (platform.Adapter, error) {
	return New(core, host.Stdin, host.Stdout, host.Stderr, Options{Logger: host.Logger}), nil
}
