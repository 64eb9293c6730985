package app

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"strings"
	"sync"

	"github.com/clmbridge/clmbridge/bridge"
	"github.com/clmbridge/clmbridge/internal/metrics"
	"github.com/clmbridge/clmbridge/platform"
)

// buildAdapters returns the adapters cfg asks for: every platform whose
// token (or token file) is set, or the fallback (the console on the
// standard streams) when none is. gate gives each its PollGate (nil when
// this is the only instance). met (nil-safe) receives the platforms'
// API errors, outbox depth and delivery times.
func buildAdapters(cfg Config, core bridge.Core, gate func(name string) platform.PollGate, streams Streams, logger *slog.Logger, met *metrics.Metrics) ([]Adapter, error) {
	var out []Adapter
	for _, p := range cfg.serving() {
		plog := logger.With("adapter", p.Name())
		// An adapter's own lines (the console's ready, line N deleted) go
		// to stderr with the logs: as plain text in text mode, and as log
		// records in JSON mode, so the stream stays one JSON object per
		// line.
		var diag io.Writer = streams.Stderr
		if strings.EqualFold(cfg.LogFormat, "json") {
			diag = &lineLogger{log: plog}
		}
		host := platform.Host{Logger: plog, Stdin: streams.Stdin, Stdout: streams.Stdout, Stderr: diag, PollGate: gate(p.Name())}
		if met != nil {
			host.Metrics = met
		}
		a, err := p.cfg.NewAdapter(core, host)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, nil
}

// adapterNames names the adapters buildAdapters makes for cfg, in order.
func adapterNames(cfg Config) []string {
	var names []string
	for _, p := range cfg.serving() {
		names = append(names, p.Name())
	}
	return names
}

// platformNames lists the names of every platform, for messages: "telegram,
// discord or console".
func platformNames() string {
	ps := platforms()
	var b strings.Builder
	for i, p := range ps {
		switch {
		case i == 0:
		case i == len(ps)-1:
			b.WriteString(" or ")
		default:
			b.WriteString(", ")
		}
		b.WriteString(p.Name())
	}
	return b.String()
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
