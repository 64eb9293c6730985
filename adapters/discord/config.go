// Package discord is the Discord adapter: it translates between Discord
// (through github.com/bwmarrin/discordgo) and the bridge core, and decides
// nothing about CLM.
//
// Members use one /clm slash command with subcommands, "🔓 Receive" buttons,
// a "Receive CLM pointer" message context-menu command, and plain messages
// in a DM with the bot. Secrets are only ever typed into modals or the DM;
// everything the core shows privately is an ephemeral reply or a DM.
package discord

import (
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"

	"github.com/clmbridge/clmbridge/platform"
)

// Config is the adapter's configuration. Each field's envconfig tag is its
// whole variable name, so envconfig.Process("", &cfg) reads exactly the
// documented CLM_DISCORD_* variables and never a bare TOKEN or GUILD_ID
// (which envconfig falls back to for a short tag under a prefix). An empty
// token disables the adapter.
type Config struct {
	// Token is the bot token from the Discord developer portal (with or
	// without the "Bot " prefix).
	Token string `envconfig:"CLM_DISCORD_TOKEN"`
	// TokenFile names a file holding the token, so that it need not be in
	// the environment. Set it or Token, not both.
	TokenFile string `envconfig:"CLM_DISCORD_TOKEN_FILE"`
	// AppID is the application id; when empty, the one announced by the
	// gateway at connection is used.
	AppID string `envconfig:"CLM_DISCORD_APP_ID"`
	// GuildID, when set, registers the commands in that guild only (they
	// appear at once); otherwise they are registered globally.
	GuildID string `envconfig:"CLM_DISCORD_GUILD_ID"`
	// MessageContent requests the privileged Message Content intent (it
	// must also be enabled in the developer portal). With it, pointers
	// posted by people get a Receive button; without it the bot sees only
	// commands, buttons, context menus and DMs.
	MessageContent bool `envconfig:"CLM_DISCORD_MESSAGE_CONTENT"`
	// GuildMembers requests the privileged Server Members intent (it must
	// also be enabled in the developer portal), so that the bot is told
	// when a member leaves a server and stops watch deliveries to them from
	// that server's channels. Without it, those deliveries go on.
	GuildMembers bool `envconfig:"CLM_DISCORD_GUILD_MEMBERS"`
	// APIURL, when set, replaces https://discord.com as the REST host
	// (paths stay /api/v9/...), and the gateway is whatever that host
	// announces. Production leaves it empty; tests point it at a fake.
	APIURL string `envconfig:"CLM_DISCORD_API_URL"`
	// ShardID is this instance's gateway shard, from 0 to ShardCount-1.
	// Discord sends a guild's events to shard (guild_id >> 22) %
	// ShardCount, and DMs to shard 0 only.
	ShardID int `envconfig:"CLM_DISCORD_SHARD_ID"`
	// ShardCount is how many shards the bot's gateway connections are
	// split into (0, unset, means 1: no sharding). Every instance of one
	// bot sets the same count and its own ShardID.
	ShardCount int `envconfig:"CLM_DISCORD_SHARD_COUNT"`
}

// Shards returns the shard this configuration connects as and how many
// there are (count 1 when ShardCount is unset).
func (c Config) Shards() (id, count int) {
	if c.ShardCount == 0 {
		return c.ShardID, 1
	}
	return c.ShardID, c.ShardCount
}

// checkShards reports a shard setting Discord would refuse (closing the
// gateway with 4010, Invalid shard).
func (c Config) checkShards() error {
	switch {
	case c.ShardCount < 0:
		return fmt.Errorf("discord: CLM_DISCORD_SHARD_COUNT is %d; set it to 1 or more (the number of shards, the same on every instance), or leave it unset for one shard", c.ShardCount)
	case c.ShardID < 0:
		return fmt.Errorf("discord: CLM_DISCORD_SHARD_ID is %d; set it from 0 to CLM_DISCORD_SHARD_COUNT-1", c.ShardID)
	case c.ShardID > 0 && c.ShardCount == 0:
		return fmt.Errorf("discord: CLM_DISCORD_SHARD_ID is %d but CLM_DISCORD_SHARD_COUNT is not set; set the number of shards too (the same on every instance)", c.ShardID)
	case c.ShardCount > 0 && c.ShardID >= c.ShardCount:
		return fmt.Errorf("discord: CLM_DISCORD_SHARD_ID is %d, not below CLM_DISCORD_SHARD_COUNT %d; shards are numbered from 0 to CLM_DISCORD_SHARD_COUNT-1", c.ShardID, c.ShardCount)
	}
	return nil
}

// Enabled reports whether a token (or a token file) is configured.
func (c Config) Enabled() bool { return c.Token != "" || c.TokenFile != "" }

// ErrNoToken is returned when neither CLM_DISCORD_TOKEN nor
// CLM_DISCORD_TOKEN_FILE gives a token.
var ErrNoToken = errors.New("discord: no bot token: set CLM_DISCORD_TOKEN or CLM_DISCORD_TOKEN_FILE")

// LoadToken returns the bot token without the "Bot " prefix, from
// CLM_DISCORD_TOKEN or the file CLM_DISCORD_TOKEN_FILE names, by the rule
// every platform shares (platform.ReadSecret): one or the other, never
// both. Errors never contain the token.
func (c Config) LoadToken() (string, error) {
	tok, err := platform.ReadSecret("CLM_DISCORD_TOKEN", c.Token, c.TokenFile)
	if err != nil {
		return "", fmt.Errorf("discord: %w", err)
	}
	tok = strings.TrimSpace(strings.TrimPrefix(tok, "Bot "))
	if tok == "" {
		return "", ErrNoToken
	}
	if strings.ContainsAny(tok, " \t\r\n") {
		return "", errors.New("discord: the bot token contains white space: check CLM_DISCORD_TOKEN")
	}
	return tok, nil
}

// Check reports, before anything starts, what New would refuse in c: no
// token, an unreadable token file, or a CLM_DISCORD_API_URL that is not an
// http(s) URL, or a shard setting Discord would refuse
// (CLM_DISCORD_SHARD_ID outside 0..CLM_DISCORD_SHARD_COUNT-1, or set without
// the count). Errors never hold the token.
func (c Config) Check() error {
	if _, err := c.LoadToken(); err != nil {
		return err
	}
	if err := c.checkShards(); err != nil {
		return err
	}
	if c.APIURL != "" {
		if u, err := url.Parse(c.APIURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("discord: CLM_DISCORD_API_URL %q is not an http(s) URL such as https://discord.com", c.APIURL)
		}
	}
	return nil
}

// String describes the configuration with the token redacted.
func (c Config) String() string {
	tok := ""
	if c.Token != "" {
		tok = "[redacted]"
	}
	return fmt.Sprintf("discord.Config{Token:%q TokenFile:%q AppID:%q GuildID:%q MessageContent:%t GuildMembers:%t APIURL:%q ShardID:%d ShardCount:%d}",
		tok, c.TokenFile, c.AppID, c.GuildID, c.MessageContent, c.GuildMembers, c.APIURL, c.ShardID, c.ShardCount)
}

// GoString is String, so that %#v does not print the token either.
func (c Config) GoString() string { return c.String() }

// LogValue logs the configuration without the token.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(
		slog.Bool("token_set", c.Token != ""),
		slog.String("token_file", c.TokenFile),
		slog.String("app_id", c.AppID),
		slog.String("guild_id", c.GuildID),
		slog.Bool("message_content", c.MessageContent),
		slog.Bool("guild_members", c.GuildMembers),
		slog.String("api_url", c.APIURL),
		slog.Int("shard_id", c.ShardID),
		slog.Int("shard_count", c.ShardCount),
	)
}
