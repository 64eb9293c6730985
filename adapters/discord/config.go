// Package discord is the Discord adapter: it translates between Discord
// (through github.com/bwmarrin/discordgo) and the bridge core, and decides
// nothing about CLM.
package discord

// Config is the adapter's configuration, read by envconfig with the prefix
// CLM_DISCORD (CLM_DISCORD_TOKEN, …). An empty token disables the adapter.
type Config struct {
	Token     string `envconfig:"TOKEN"`
	TokenFile string `envconfig:"TOKEN_FILE"`
}
