// Package app wires CLM Bridge together: configuration from the
// environment, the store, the bridge core and the platform adapters, and an
// orderly shutdown. cmd/bridge is a thin main over it, and adapter
// end-to-end tests run it in-process.
//
// It holds no logic of its own about CLM or any platform.
package app

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/kelseyhightower/envconfig"

	"github.com/clmbridge/clmbridge/platform"
	"github.com/clmbridge/clmbridge/storage"
)

// EnvPrefix prefixes every environment variable of the bridge.
const EnvPrefix = "CLM"

// Config is the bridge's configuration, read from CLM_* environment
// variables (every one is documented in config.example.env). Only those
// names are read: never a bare TOKEN or DATA_DIR set for another program.
//
// Our own fields use split_words rather than an envconfig tag: with a tag,
// envconfig also reads the unprefixed name (DATA_DIR) when the CLM_ one is
// unset. The adapters' configurations are read on their own with no prefix:
// their tags are whole names (CLM_TELEGRAM_TOKEN), for which envconfig has
// no other name to fall back to.
type Config struct {
	// DataDir holds the store (bridge.db and its WAL files).
	DataDir string `split_words:"true" default:"./data"`
	// DatabaseURL (CLM_DATABASE_URL=postgres://…), when set, keeps the
	// store in PostgreSQL instead of SQLite in DataDir.
	DatabaseURL DatabaseURL `split_words:"true"`
	// ClusterHeartbeat and ClusterTTL tune the instances' liveness when
	// the store is in PostgreSQL (every such instance joins the cluster of
	// its schema): each says it is alive every ClusterHeartbeat, and one
	// silent for ClusterTTL is dead: its members move to the others.
	ClusterHeartbeat time.Duration `split_words:"true" default:"1s"`
	ClusterTTL       time.Duration `split_words:"true" default:"5s"`
	// SessionIdle locks an unlocked chat after this long without use.
	SessionIdle time.Duration `split_words:"true" default:"30m"`
	// SessionMaxAge locks an unlocked chat this long after it was unlocked.
	SessionMaxAge time.Duration `split_words:"true" default:"12h"`
	// RateBurst and RatePerMinute are each member's request budget; a
	// RatePerMinute of 0 turns the limit off.
	RateBurst     int `split_words:"true" default:"20"`
	RatePerMinute int `split_words:"true" default:"30"`
	// LogLevel is debug, info, warn or error.
	LogLevel string `split_words:"true" default:"info"`
	// LogFormat is text or json.
	LogFormat string `split_words:"true" default:"text"`
	// HTTPAddr is where /healthz, /readyz and /metrics are served
	// (host:port; empty or "off" turns the endpoint off).
	HTTPAddr string `split_words:"true" default:"127.0.0.1:9464"`
	// Admins names the bridge's operators, who may run /clm doctor in
	// chat: a comma-separated list of platform:id (telegram:123456789,
	// discord:80351110224678912, console:alice). Empty: nobody.
	Admins string `split_words:"true"`

	// Platforms holds each platform's configuration by its name, read
	// from its CLM_<PLATFORM>_* variables; a platform whose token is not
	// set (or that is missing here) is off.
	Platforms map[string]platform.Config `ignored:"true"`
}

// ErrConfig is wrapped by every error Run returns for a setting it cannot
// work with (found before anything starts): cmd/bridge exits 2 for it.
var ErrConfig = errors.New("invalid configuration")

// ConsoleMode reports whether no platform token is set, so the bridge
// serves the console on the standard streams.
func (c Config) ConsoleMode() bool {
	return len(c.enabled()) == 0
}

// configured is one platform and its configuration.
type configured struct {
	platform.Platform
	cfg platform.Config
}

// enabled returns the platforms the operator turned on, in the order of
// platforms().
func (c Config) enabled() []configured {
	var out []configured
	for _, p := range platforms() {
		if pc := c.Platforms[p.Name()]; pc != nil && pc.Enabled() {
			out = append(out, configured{p, pc})
		}
	}
	return out
}

// serving returns the platforms the bridge runs for c: the enabled ones,
// or, when none is, the fallback (the console).
func (c Config) serving() []configured {
	if on := c.enabled(); len(on) > 0 {
		return on
	}
	var out []configured
	for _, p := range platforms() {
		if _, ok := p.(platform.Fallback); ok {
			pc := c.Platforms[p.Name()]
			if pc == nil {
				pc = p.NewConfig()
			}
			out = append(out, configured{p, pc})
		}
	}
	return out
}

// envSource is one part of Config and the prefix envconfig reads it with.
type envSource struct {
	prefix string
	spec   any // a pointer to a struct
}

// envSources lists what LoadConfig fills from the environment: our own
// fields under CLM_, then each platform's configuration, whose tags are
// whole CLM_<PLATFORM>_* names (read with no prefix). It makes
// c.Platforms' entries where they are missing.
func (c *Config) envSources() []envSource {
	if c.Platforms == nil {
		c.Platforms = map[string]platform.Config{}
	}
	out := []envSource{{EnvPrefix, c}}
	for _, p := range platforms() {
		pc := c.Platforms[p.Name()]
		if pc == nil {
			pc = p.NewConfig()
			c.Platforms[p.Name()] = pc
		}
		out = append(out, envSource{"", pc})
	}
	return out
}

// LoadConfig reads the configuration from the environment and checks it.
// Errors say which variable to fix and never contain a token.
func LoadConfig() (Config, error) {
	var cfg Config
	for _, src := range cfg.envSources() {
		if err := envconfig.Process(src.prefix, src.spec); err != nil {
			// envconfig's parse errors name the variable and the bad
			// value; only typed (non-secret) fields can fail to parse.
			return Config{}, fmt.Errorf("reading the environment: %w", err)
		}
	}
	if err := cfg.Validate(); err != nil {
		return Config{}, err
	}
	return cfg, nil
}

// Validate checks values envconfig cannot, the adapters' settings
// included.
func (c Config) Validate() error {
	var errs []error
	if strings.TrimSpace(c.DataDir) == "" {
		errs = append(errs, errors.New("CLM_DATA_DIR is empty: set it to the directory for the store, such as ./data"))
	}
	if c.DatabaseURL != "" && !storage.IsPostgresURL(string(c.DatabaseURL)) {
		// The value is never echoed: it may hold a password.
		errs = append(errs, errors.New("CLM_DATABASE_URL must be a PostgreSQL URL (postgres://user:password@host:5432/database?sslmode=verify-full); leave it unset to keep the store in SQLite under CLM_DATA_DIR"))
	}
	if hb, ttl := c.clusterTiming(); hb <= 0 || ttl < 2*hb {
		errs = append(errs, errors.New("CLM_CLUSTER_HEARTBEAT must be positive and CLM_CLUSTER_TTL at least twice as long (defaults 1s and 5s)"))
	}
	if c.SessionIdle <= 0 {
		errs = append(errs, errors.New("CLM_SESSION_IDLE must be a positive duration, such as 30m"))
	}
	if c.SessionMaxAge <= 0 {
		errs = append(errs, errors.New("CLM_SESSION_MAX_AGE must be a positive duration, such as 12h"))
	}
	if c.SessionIdle > 0 && c.SessionMaxAge > 0 && c.SessionIdle > c.SessionMaxAge {
		errs = append(errs, errors.New("CLM_SESSION_IDLE must not be longer than CLM_SESSION_MAX_AGE"))
	}
	if c.RateBurst < 1 {
		errs = append(errs, errors.New("CLM_RATE_BURST must be at least 1"))
	}
	if c.RatePerMinute < 0 {
		errs = append(errs, errors.New("CLM_RATE_PER_MINUTE must be 0 (no limit) or more"))
	}
	if _, err := parseLevel(c.LogLevel); err != nil {
		errs = append(errs, err)
	}
	switch strings.ToLower(c.LogFormat) {
	case "text", "json":
	default:
		errs = append(errs, fmt.Errorf("CLM_LOG_FORMAT must be text or json, not %q", c.LogFormat))
	}
	if _, err := parseAdmins(c.Admins); err != nil {
		errs = append(errs, err)
	}
	if !httpOff(c.HTTPAddr) {
		if _, port, err := net.SplitHostPort(strings.TrimSpace(c.HTTPAddr)); err != nil || port == "" {
			errs = append(errs, fmt.Errorf("CLM_HTTP_ADDR %q is not host:port: set it to 127.0.0.1:9464, or off", c.HTTPAddr))
		}
	}
	// The adapters' own settings, so that a bad one stops the bridge here,
	// before the store or any platform is touched.
	known := map[string]bool{}
	for _, p := range platforms() {
		known[p.Name()] = true
	}
	for name := range c.Platforms {
		if !known[name] {
			errs = append(errs, fmt.Errorf("no platform is named %q: the bridge serves %s", clipRunes(name, 20), platformNames()))
		}
	}
	for _, p := range c.enabled() {
		if err := p.cfg.Check(); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// clusterTiming returns the cluster's heartbeat and TTL, the defaults
// (1s, 5s) in place of zeros.
func (c Config) clusterTiming() (heartbeat, ttl time.Duration) {
	heartbeat, ttl = c.ClusterHeartbeat, c.ClusterTTL
	if heartbeat == 0 {
		heartbeat = time.Second
	}
	if ttl == 0 {
		ttl = 5 * time.Second
	}
	return heartbeat, ttl
}

// DatabaseURL is CLM_DATABASE_URL. It may hold a password, so it prints
// (with %v, %s, or as a slog value) with the password replaced.
type DatabaseURL string

// String returns the URL with its password replaced.
func (u DatabaseURL) String() string {
	if u == "" {
		return ""
	}
	return storage.RedactURL(string(u))
}

// LogValue logs the URL with its password replaced.
func (u DatabaseURL) LogValue() slog.Value { return slog.StringValue(u.String()) }

// password returns the URL's password, if any, so reports can cut it out.
func (u DatabaseURL) password() string {
	p, err := url.Parse(string(u))
	if err != nil {
		return ""
	}
	if pw, ok := p.User.Password(); ok {
		return pw
	}
	return p.Query().Get("password")
}

func parseLevel(s string) (slog.Level, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "debug":
		return slog.LevelDebug, nil
	case "info", "":
		return slog.LevelInfo, nil
	case "warn", "warning":
		return slog.LevelWarn, nil
	case "error":
		return slog.LevelError, nil
	}
	return 0, fmt.Errorf("CLM_LOG_LEVEL must be debug, info, warn or error, not %q", s)
}

// NewLogger returns the logger cfg asks for, writing to w.
func NewLogger(cfg Config, w interface{ Write([]byte) (int, error) }) *slog.Logger {
	level, err := parseLevel(cfg.LogLevel)
	if err != nil {
		level = slog.LevelInfo
	}
	opts := &slog.HandlerOptions{Level: level, ReplaceAttr: secondsForDurations}
	if strings.EqualFold(cfg.LogFormat, "json") {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// secondsForDurations logs every duration as a number of seconds (0.25),
// the unit Prometheus and most log pipelines expect, instead of slog's
// JSON nanoseconds or text "250ms".
func secondsForDurations(_ []string, a slog.Attr) slog.Attr {
	if a.Value.Kind() == slog.KindDuration {
		a.Value = slog.Float64Value(a.Value.Duration().Seconds())
	}
	return a
}
