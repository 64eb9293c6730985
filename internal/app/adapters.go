package app

import (
	"log/slog"

	"github.com/clmbridge/clmbridge/adapters/console"
	"github.com/clmbridge/clmbridge/adapters/discord"
	"github.com/clmbridge/clmbridge/adapters/telegram"
	"github.com/clmbridge/clmbridge/bridge"
)

// buildAdapters returns the adapters cfg enables: every platform whose
// token (or token file) is set, or the console on the standard streams when
// none is. Each platform adds its one case here.
func buildAdapters(cfg Config, core *bridge.Bridge, streams Streams, logger *slog.Logger) ([]Adapter, error) {
	var out []Adapter
	if cfg.Telegram.Enabled() {
		a, err := telegram.New(cfg.Telegram, core, logger.With("adapter", "telegram"))
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	if cfg.Discord.Enabled() {
		a, err := discord.New(cfg.Discord, core, logger)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	if len(out) == 0 {
		out = append(out, console.New(core, streams.Stdin, streams.Stdout, streams.Stderr,
			console.Options{Logger: logger.With("adapter", "console")}))
	}
	return out, nil
}
