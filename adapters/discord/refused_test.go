package discord

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/clmbridge/clmbridge/adapters/discord/discordtest"
	"github.com/clmbridge/clmbridge/platform"
)

// refusedWithin waits for Run's error, or fails after a bound.
func refusedWithin(t *testing.T, errc <-chan error, logs *syncBuffer) error {
	t.Helper()
	select {
	case err := <-errc:
		return err
	case <-time.After(30 * time.Second):
		t.Fatalf("Run still retrying after 30s:\n%s", logs.String())
		return nil
	}
}

func TestDiscordRefusalsAtConnectionEndRunWithWhatToFix(t *testing.T) {
	tests := []struct {
		name   string
		cfg    Config
		refuse func(*discordtest.Server)
		says   string
	}{
		{"revoked token (4004)", Config{}, (*discordtest.Server).RevokeToken, "Reset Token"},
		{"Message Content intent not granted (4014)", Config{MessageContent: true},
			func(s *discordtest.Server) { s.RefuseIntents(int(discordgo.IntentMessageContent)) }, "CLM_DISCORD_MESSAGE_CONTENT"},
		{"sharding required (4011)", Config{}, func(s *discordtest.Server) { s.RequireShards(2) }, "CLM_DISCORD_SHARD_COUNT"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := discordtest.New(t)
			tt.refuse(fake)
			cfg := tt.cfg
			cfg.Token = fake.Token()
			logs := &syncBuffer{}
			a, err := New(cfg, newFakeCore(), slog.New(slog.NewTextHandler(logs, nil)),
				WithAPIBase(fake.URL()), WithRESTBounds(5*time.Second, 5, 2*time.Second))
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			errc := make(chan error, 1)
			go func() { errc <- a.Run(ctx) }()
			err = refusedWithin(t, errc, logs)
			if !errors.Is(err, platform.ErrRefused) || !strings.Contains(err.Error(), tt.says) {
				t.Fatalf("Run returned %v; want a refusal saying %q", err, tt.says)
			}
			if strings.Contains(err.Error(), fake.Token()) || strings.Contains(logs.String(), fake.Token()) {
				t.Fatal("the token is in the error or the log")
			}
		})
	}
}

func TestATokenRevokedWhileConnectedEndsRunInsteadOfReconnectingForever(t *testing.T) {
	fake := discordtest.New(t)
	logs := &syncBuffer{}
	a, err := New(Config{Token: fake.Token()}, newFakeCore(), slog.New(slog.NewTextHandler(logs, nil)),
		WithAPIBase(fake.URL()), WithRESTBounds(5*time.Second, 5, 2*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	errc := make(chan error, 1)
	go func() { errc <- a.Run(ctx) }()
	fake.WaitReady(t)

	fake.RevokeToken()
	err = refusedWithin(t, errc, logs)
	if !errors.Is(err, platform.ErrRefused) {
		t.Fatalf("Run returned %v; want a refusal", err)
	}
	if a.Status().Connected {
		t.Error("Status still says connected")
	}
}

func TestADroppedConnectionIsStillResumed(t *testing.T) {
	r := start(t, Config{}, newFakeCore())
	r.fake.Drop()
	r.fake.WaitHandshakes(t, 2)
	r.fake.WaitReady(t)
	if r.fake.Resumes() != 1 {
		t.Fatalf("%d resumes after a dropped connection, want 1", r.fake.Resumes())
	}
}

func TestStoppingWhileStillConnectingReturnsNil(t *testing.T) {
	fake := discordtest.New(t)
	// Discord cannot be reached: every gateway lookup fails, so the
	// adapter keeps retrying its first connection.
	fake.Fail(discordtest.Rule{PathContains: "/gateway", Times: -1, Disconnect: true})
	logs := &syncBuffer{}
	a, err := New(Config{Token: fake.Token()}, newFakeCore(), slog.New(slog.NewTextHandler(logs, nil)),
		WithAPIBase(fake.URL()), WithRESTBounds(5*time.Second, 1, 2*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- a.Run(ctx) }()
	fake.WaitCall(t, "a gateway lookup", func(c discordtest.Call) bool { return strings.Contains(c.Path, "/gateway") })
	cancel()
	if err := refusedWithin(t, errc, logs); err != nil {
		t.Fatalf("Run returned %v after a stop while connecting; want nil, as for any stop", err)
	}
}
