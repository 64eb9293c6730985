package app

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"strings"
	"sync"

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
		clog := logger.With("adapter", "console")
		// The console's own lines (ready, line N deleted) go to stderr
		// with the logs: as plain text in text mode, and as log records
		// in JSON mode, so the stream stays one JSON object per line.
		var diag io.Writer = streams.Stderr
		if strings.EqualFold(cfg.LogFormat, "json") {
			diag = &lineLogger{log: clog}
		}
		out = append(out, console.New(core, streams.Stdin, streams.Stdout, diag,
			console.Options{Logger: clog}))
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

// lineLogger is an io.Writer that logs each line written to it as one
// info record.
type lineLogger struct {
	log *slog.Logger
	mu  sync.Mutex
	buf []byte
}

func (w *lineLogger) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = append(w.buf, p...)
	for {
		i := bytes.IndexByte(w.buf, '\n')
		if i < 0 {
			return len(p), nil
		}
		line := string(w.buf[:i])
		w.buf = w.buf[i+1:]
		w.log.Log(context.Background(), slog.LevelInfo, line)
	}
}
