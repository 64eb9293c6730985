package app

import (
	"log/slog"

	"github.com/clmbridge/clmbridge/adapters/console"
	"github.com/clmbridge/clmbridge/adapters/discord"
	"github.com/clmbridge/clmbridge/adapters/telegram"
	"github.com/clmbridge/clmbridge/bridge"
	"github.com/clmbridge/clmbridge/internal/metrics"
)

// buildAdapters returns the adapters cfg enables: every platform whose
// token (or token file) is set, or the console on the standard streams when
// none is. Each platform adds its one case here. met (nil-safe) receives
// the platforms' API errors and outbox depth.
func buildAdapters(cfg Config, core *bridge.Bridge, streams Streams, logger *slog.Logger, met *metrics.Metrics) ([]Adapter, error) {
	var out []Adapter
	if cfg.Telegram.Enabled() {
		a, err := telegram.New(cfg.Telegram, core, logger.With("adapter", "telegram"), telegram.WithMetrics(met))
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	if cfg.Discord.Enabled() {
		a, err := discord.New(cfg.Discord, core, logger, discordMetrics(met))
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

// adapterNames names the adapters buildAdapters makes for cfg, in order.
func adapterNames(cfg Config) []string {
	var names []string
	if cfg.Telegram.Enabled() {
		names = append(names, "telegram")
	}
	if cfg.Discord.Enabled() {
		names = append(names, "discord")
	}
	if len(names) == 0 {
		names = append(names, "console")
	}
	return names
}
