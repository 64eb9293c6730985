package discord

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/clmbridge/clmbridge/bridge"
	"github.com/clmbridge/clmbridge/platform"
)

// MessageLimit is the most characters one Discord message may hold.
const MessageLimit = 2000

// Platform is Discord as the host sees it: the value internal/app lists.
type Platform struct{}

var (
	_ platform.Platform  = Platform{}
	_ platform.Config    = (*Config)(nil)
	_ platform.Doctor    = Config{}
	_ platform.Connected = (*Adapter)(nil)
)

// Name returns "discord".
func (Platform) Name() string { return Name }

// NewConfig returns an empty Config for the host to fill from the
// CLM_DISCORD_* variables.
func (Platform) NewConfig() platform.Config { return &Config{} }

// CheckUserID accepts a Discord user id: a snowflake, a positive number
// (a name or a tag such as alice#1234 is not an id).
func (Platform) CheckUserID(id string) error {
	if n, err := strconv.ParseUint(id, 10, 64); err != nil || n == 0 {
		return errors.New("a Discord user id is a number such as 80351110224678912, not a name: the member sees theirs with /clm whoami (or Developer Mode → right-click → Copy User ID)")
	}
	return nil
}

// MessageLimit returns [MessageLimit].
func (Platform) MessageLimit() int { return MessageLimit }

// Secrets returns the bot token, read from its file where set.
func (c Config) Secrets() []string {
	var out []string
	if tok, err := c.LoadToken(); err == nil {
		out = append(out, tok)
	}
	if v := strings.TrimSpace(c.Token); v != "" { // also when the token file is set too (an error above)
		out = append(out, v)
	}
	return out
}

// NewAdapter builds the adapter (see [New]), with the host's logger and
// metrics.
func (c Config) NewAdapter(core bridge.Core, host platform.Host) (platform.Adapter, error) {
	return New(c, core, host.Logger, WithMetrics(host.Metrics))
}

// Doctor examines the application at the configured REST host: that the
// token works, the intents, the command registration and, in the
// configured guild, the bot's permissions.
func (c Config) Doctor(ctx context.Context) []platform.Finding {
	tok, err := c.LoadToken()
	if err != nil {
		return []platform.Finding{{Level: platform.Fail, What: err.Error(),
			Fix: "set CLM_DISCORD_TOKEN or CLM_DISCORD_TOKEN_FILE (not both)"}}
	}
	var fs []platform.Finding
	if c.Token != "" {
		fs = append(fs, platform.Finding{Level: platform.Info, What: "the bot token is in the environment (CLM_DISCORD_TOKEN), where process tools can read it",
			Fix: "prefer CLM_DISCORD_TOKEN_FILE with a file only the bridge's user can read"})
	}
	return append(fs, doctorCheck{
		Base: c.APIURL, Token: tok, AppID: c.AppID, GuildID: c.GuildID, MessageContent: c.MessageContent,
		CommandName: CommandName, ContextMenuName: ContextMenuName,
	}.Check(ctx)...)
}

// Connection reports the adapter's gateway connection, for readiness and
// metrics (the last error with the token redacted).
func (a *Adapter) Connection() platform.Connection {
	st := a.Status()
	c := platform.Connection{Up: st.Connected, LastContact: st.LastContact}
	switch {
	case st.Connected:
	case st.LastError == "":
		c.Problem = "not connected to Discord yet"
	default:
		c.Problem = "not connected to Discord: " + st.LastError
	}
	return c
}

// restClass classifies a REST call (paths /api/v9/...) by its HTTP method
// and the shape of its path, never by ids or tokens.
func restClass(req *http.Request) platform.APIClass {
	p := req.URL.Path
	if i := strings.Index(p, "/api/"); i >= 0 {
		p = p[i+len("/api/"):]
		if j := strings.IndexByte(p, '/'); j >= 0 {
			p = p[j:] // drop the version
		}
	}
	seg := strings.Split(strings.Trim(p, "/"), "/")
	has := func(s string) bool { return slices.Contains(seg, s) }
	switch {
	case seg[0] == "gateway":
		return platform.ClassPoll
	case has("interactions") && has("callback"):
		return platform.ClassAnswer
	case has("commands"):
		if req.Method == http.MethodGet {
			return platform.ClassMeta
		}
		return platform.ClassRegister
	case has("messages"), seg[0] == "users" && has("channels"):
		// Channel messages, DM channels, and interaction follow-ups and
		// edits (webhooks/<app>/<token>/messages/...).
		switch req.Method {
		case http.MethodPost:
			return platform.ClassSend
		case http.MethodPatch:
			return platform.ClassEdit
		case http.MethodDelete:
			return platform.ClassDelete
		}
		return platform.ClassMeta
	case req.Method == http.MethodGet:
		return platform.ClassMeta
	}
	return platform.ClassOther
}
