// Package telegram is the Telegram adapter: it translates between the Bot API
// (through gopkg.in/telebot.v3) and the bridge core, and decides nothing about CLM.
package telegram

// Config is the adapter's configuration, read by envconfig with the prefix
// CLM_TELEGRAM (CLM_TELEGRAM_TOKEN, …). An empty token disables the adapter.
type Config struct {
	Token     string `envconfig:"TOKEN"`
	TokenFile string `envconfig:"TOKEN_FILE"`
}
