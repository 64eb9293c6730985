package clusterstory_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/clmbridge/clmbridge/adapters/discord/discordtest"
	"github.com/clmbridge/clmbridge/adapters/telegram/telegramtest"
	"github.com/clmbridge/clmbridge/internal/pgtest"
)

// The harness: the bridge binary, built once; the fakes of Discord and of
// the Bot API on 127.0.0.1; PostgreSQL in a schema of the test's own; and
// bridge processes started the way a supervisor starts them, configured
// by their environment alone (tokens through *_FILE variables, nothing
// secret in argv).

const (
	// waitLimit bounds every wait of the story: a start, a join, an
	// answer forwarded between processes.
	waitLimit = 30 * time.Second

	// Cluster timings, short so a take-over comes within seconds.
	heartbeat = 200 * time.Millisecond
	ttl       = 2 * time.Second

	// shardCount is how many Discord shards the story runs: two, on two of
	// the three instances; the third serves Telegram only.
	shardCount = 2

	telegramToken = "5550002:AAF-cluster_story_token-never-logged"
	webhookSecret = "cluster-story-webhook-secret-7731"
	// webhookURL is the public address Telegram would post to: the load
	// balancer in front of the instances (the test plays it).
	webhookURL = "https://clm.example.org/telegram"
)

// buildOnce builds ./cmd/bridge once for the test binary.
var buildOnce struct {
	sync.Once
	path string
	err  error
	out  []byte
}

// bridgeBinary returns the path of a freshly built cmd/bridge.
func bridgeBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "clusterstory-bin-")
		if err != nil {
			buildOnce.err = err
			return
		}
		buildOnce.path = filepath.Join(dir, "bridge")
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, "go", "build", "-o", buildOnce.path, "github.com/clmbridge/clmbridge/cmd/bridge")
		buildOnce.out, buildOnce.err = cmd.CombinedOutput()
	})
	if buildOnce.err != nil {
		t.Fatalf("go build ./cmd/bridge: %v\n%s", buildOnce.err, buildOnce.out)
	}
	return buildOnce.path
}

// TestMain removes the built binary after the tests.
func TestMain(m *testing.M) {
	code := m.Run()
	if buildOnce.path != "" {
		_ = os.RemoveAll(filepath.Dir(buildOnce.path))
	}
	os.Exit(code)
}

// logBuffer collects a process's output and signals every write.
type logBuffer struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	changed chan struct{}
}

func newLogBuffer() *logBuffer { return &logBuffer{changed: make(chan struct{})} }

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	n, err := b.buf.Write(p)
	close(b.changed)
	b.changed = make(chan struct{})
	return n, err
}

func (b *logBuffer) snapshot() (string, <-chan struct{}) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String(), b.changed
}

func (b *logBuffer) String() string { s, _ := b.snapshot(); return s }

// proc is one bridge process.
type proc struct {
	name     string
	shard    string // its Discord shard, "" for none
	telegram bool
	cmd      *exec.Cmd
	logs     *logBuffer
	exited   chan struct{}
	instance string // its cluster instance id
	webhook  string // host:port of its Telegram webhook server
	http     string // host:port of its /healthz, /readyz and /metrics
}

// logLines returns the process's JSON log records whose msg is msg.
func (p *proc) logLines(msg string) []map[string]any {
	var out []map[string]any
	sc := bufio.NewScanner(strings.NewReader(p.logs.String()))
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		var rec map[string]any
		if json.Unmarshal(sc.Bytes(), &rec) != nil {
			continue
		}
		if rec["msg"] == msg {
			out = append(out, rec)
		}
	}
	return out
}

// warnings returns the process's log lines at WARN or ERROR, for a
// failing test's report (the logs hold no secret: the story checks it).
func (p *proc) warnings() string {
	var b strings.Builder
	for _, line := range strings.Split(p.logs.String(), "\n") {
		if strings.Contains(line, `"level":"WARN"`) || strings.Contains(line, `"level":"ERROR"`) {
			b.WriteString(line + "\n")
		}
	}
	return b.String()
}

// waitLog waits for the process to log msg and returns the record.
func (p *proc) waitLog(t *testing.T, msg string) map[string]any {
	t.Helper()
	deadline := time.NewTimer(waitLimit)
	defer deadline.Stop()
	for {
		_, changed := p.logs.snapshot()
		if recs := p.logLines(msg); len(recs) > 0 {
			return recs[0]
		}
		select {
		case <-changed:
		case <-p.exited:
			t.Fatalf("%s exited before logging %q:\n%s", p.name, msg, p.logs)
		case <-deadline.C:
			t.Fatalf("%s did not log %q within %v:\n%s", p.name, msg, waitLimit, p.logs)
		}
	}
}

// kill ends the process with SIGKILL, as a crash or the OOM killer
// would, and waits for it.
func (p *proc) kill(t *testing.T) {
	t.Helper()
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	select {
	case <-p.exited:
	case <-time.After(waitLimit):
		t.Fatalf("%s survived SIGKILL", p.name)
	}
}

// cluster is the world of the story.
type cluster struct {
	t       *testing.T
	bin     string
	dbURL   string
	schema  string
	secrets string // the directory of the token files
	dc      *discordtest.Server
	tg      *telegramtest.Server

	mu    sync.Mutex
	procs []*proc
	// interactions lists, per Discord user id, every interaction they made.
	interactions map[string][]string
	// presses lists, per Telegram user id, every callback query id.
	presses map[int64][]string
}

// newCluster starts the fakes and the schema; processes are started with
// start.
func newCluster(t *testing.T, discordOpts ...discordtest.Option) *cluster {
	t.Helper()
	dbURL, schema := pgtest.Schema(t)
	c := &cluster{
		t: t, bin: bridgeBinary(t), dbURL: dbURL, schema: schema, secrets: t.TempDir(),
		interactions: map[string][]string{}, presses: map[int64][]string{},
	}
	c.dc = discordtest.New(t, discordOpts...)
	c.tg = telegramtest.New(t, telegramtest.Options{Token: telegramToken, ReadAllGroupMessages: true})
	for name, value := range map[string]string{
		"discord_token":    c.dc.Token(),
		"telegram_token":   telegramToken,
		"telegram_webhook": webhookSecret,
	} {
		if err := os.WriteFile(filepath.Join(c.secrets, name), []byte(value), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return c
}

// start runs one bridge process: Discord shard shard of shardCount
// (none when shard is ""), and the Telegram webhook when telegram is set. It returns
// once the process has joined the cluster and its platforms are up.
func (c *cluster) start(name, shard string, telegram bool) *proc {
	t := c.t
	t.Helper()
	env := []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + t.TempDir(),
		"CLM_DATA_DIR=" + t.TempDir(),
		"CLM_DATABASE_URL=" + c.dbURL,
		"CLM_CLUSTER_HEARTBEAT=" + heartbeat.String(),
		"CLM_CLUSTER_TTL=" + ttl.String(),
		"CLM_HTTP_ADDR=127.0.0.1:0",
		"CLM_LOG_FORMAT=json",
		"CLM_LOG_LEVEL=debug",
		"CLM_RATE_PER_MINUTE=0",
	}
	if shard != "" {
		env = append(env,
			"CLM_DISCORD_TOKEN_FILE="+filepath.Join(c.secrets, "discord_token"),
			"CLM_DISCORD_API_URL="+c.dc.URL(),
			"CLM_DISCORD_SHARD_ID="+shard,
			"CLM_DISCORD_SHARD_COUNT="+strconv.Itoa(shardCount),
		)
	}
	if telegram {
		env = append(env,
			"CLM_TELEGRAM_TOKEN_FILE="+filepath.Join(c.secrets, "telegram_token"),
			"CLM_TELEGRAM_API_URL="+c.tg.URL,
			"CLM_TELEGRAM_WEBHOOK_URL="+webhookURL,
			"CLM_TELEGRAM_WEBHOOK_LISTEN=127.0.0.1:0",
			"CLM_TELEGRAM_WEBHOOK_SECRET_FILE="+filepath.Join(c.secrets, "telegram_webhook"),
			// Pacing and retries shortened, as in the single-process
			// stories; Telegram's real numbers are the adapter's tests'.
			"CLM_TELEGRAM_PER_CHAT_INTERVAL=1ms",
			"CLM_TELEGRAM_GROUP_PER_MINUTE=60000",
			"CLM_TELEGRAM_GLOBAL_PER_SECOND=10000",
			"CLM_TELEGRAM_RETRY_BASE=1ms",
			"CLM_TELEGRAM_RETRY_MAX=10ms",
		)
	}
	p := &proc{name: name, shard: shard, telegram: telegram, logs: newLogBuffer(), exited: make(chan struct{})}
	p.cmd = exec.Command(c.bin)
	p.cmd.Env = env
	p.cmd.Stdout, p.cmd.Stderr = p.logs, p.logs
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", name, err)
	}
	go func() { _ = p.cmd.Wait(); close(p.exited) }()
	t.Cleanup(func() {
		c.stop(p)
		if t.Failed() {
			t.Logf("%s (instance %s) warned:\n%s", p.name, p.instance, p.warnings())
		}
	})
	c.mu.Lock()
	c.procs = append(c.procs, p)
	c.mu.Unlock()

	endpoint := p.waitLog(t, "HTTP endpoint listening")
	p.http, _ = endpoint["addr"].(string)
	joined := p.waitLog(t, "cluster: joined")
	p.instance, _ = joined["instance"].(string)
	if p.instance == "" {
		t.Fatalf("%s joined with no instance attribute: %v", name, joined)
	}
	if shard != "" {
		p.waitLog(t, "connected to the Discord gateway")
	}
	if telegram {
		reg := p.waitLog(t, "telegram: webhook registered")
		p.webhook, _ = reg["listen"].(string)
		if p.webhook == "" {
			t.Fatalf("%s registered its webhook with no listen address: %v", name, reg)
		}
	}
	return p
}

// ready runs `bridge healthcheck ready` against p, as the deploy
// example's health check does, and reports whether it exited 0.
func (c *cluster) ready(p *proc) (bool, string) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	cmd := exec.CommandContext(ctx, c.bin, "healthcheck", "ready")
	cmd.Env = []string{"CLM_HTTP_ADDR=" + p.http}
	out, err := cmd.CombinedOutput()
	return err == nil, string(out)
}

// stop ends a process still running: SIGTERM, then SIGKILL if it does
// not stop in time.
func (c *cluster) stop(p *proc) {
	select {
	case <-p.exited:
		return
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(waitLimit):
		c.t.Errorf("%s did not stop on SIGTERM; killing it", p.name)
		_ = p.cmd.Process.Signal(syscall.SIGKILL)
		<-p.exited
	}
}

// db runs f on a connection to the cluster's schema.
func (c *cluster) db(f func(ctx context.Context, conn *pgx.Conn) error) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, c.dbURL)
	if err != nil {
		c.t.Fatalf("connecting to the cluster's schema: %v", err)
	}
	defer func() { _ = conn.Close(ctx) }()
	if err := f(ctx, conn); err != nil {
		c.t.Fatal(err)
	}
}

// ownerOf returns the process that owns member ("discord:301"), as
// cluster_owners says.
func (c *cluster) ownerOf(member string) *proc {
	c.t.Helper()
	var instance string
	c.db(func(ctx context.Context, conn *pgx.Conn) error {
		return conn.QueryRow(ctx, "SELECT instance FROM cluster_owners WHERE member = $1", member).Scan(&instance)
	})
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, p := range c.procs {
		if p.instance == instance {
			return p
		}
	}
	c.t.Fatalf("%s is owned by %q, which is none of the story's processes", member, instance)
	return nil
}

// waitExpired waits until p's heartbeat is older than the TTL, so every
// other instance counts it dead.
func (c *cluster) waitExpired(p *proc) {
	c.t.Helper()
	deadline := time.Now().Add(waitLimit)
	for {
		var live bool
		c.db(func(ctx context.Context, conn *pgx.Conn) error {
			return conn.QueryRow(ctx,
				"SELECT EXISTS (SELECT 1 FROM cluster_instances WHERE id = $1 AND last_seen > now() - $2::interval)",
				p.instance, fmt.Sprintf("%d milliseconds", ttl.Milliseconds())).Scan(&live)
		})
		if !live {
			return
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("%s's heartbeat was still fresh %v after it was killed", p.name, waitLimit)
		}
		// Polling PostgreSQL: no notification says a row went stale.
		time.Sleep(ttl / 10)
	}
}

// allLogs is everything every process wrote.
func (c *cluster) allLogs() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var b strings.Builder
	for _, p := range c.procs {
		b.WriteString(p.logs.String())
	}
	return b.String()
}

// ---- Discord ----------------------------------------------------------------

// interact dispatches an interaction and remembers it as u's.
func (c *cluster) interact(u discordtest.User, in discordtest.Interaction) discordtest.Sent {
	c.t.Helper()
	sent := c.dc.Interact(c.t, in)
	c.mu.Lock()
	c.interactions[u.ID] = append(c.interactions[u.ID], sent.ID)
	c.mu.Unlock()
	return sent
}

// answer waits for the private answer to an interaction.
func (c *cluster) answer(id string) string {
	c.t.Helper()
	rep := c.dc.WaitText(c.t, id)
	if !rep.Ephemeral {
		c.t.Errorf("the answer to interaction %s is not ephemeral", id)
	}
	return rep.Content
}

// do makes u run /clm sub and returns what they see.
func (c *cluster) do(u discordtest.User, p discordtest.Place, sub string, opts ...discordtest.CommandOption) string {
	c.t.Helper()
	return c.answer(c.interact(u, discordtest.Slash(u, p, sub, opts...)).ID)
}

// form makes u run /clm sub, fill in the modal it opens, and returns what
// they see.
func (c *cluster) form(u discordtest.User, p discordtest.Place, sub string, values map[string]string, opts ...discordtest.CommandOption) string {
	c.t.Helper()
	in := c.interact(u, discordtest.Slash(u, p, sub, opts...))
	modal := c.dc.WaitModal(c.t, in.ID)
	return c.answer(c.interact(u, discordtest.SubmitModal(u, p, modal, values)).ID)
}

// discordShown lists every message u was shown: their interactions'
// answers (an original response once, in its latest version, however
// often it was edited; each follow-up once) and the bot's messages in
// their DM.
func (c *cluster) discordShown(u discordtest.User) []string {
	c.mu.Lock()
	ids := append([]string(nil), c.interactions[u.ID]...)
	c.mu.Unlock()
	var out []string
	for _, id := range ids {
		original := ""
		for _, r := range c.dc.Replies(id) {
			switch r.Kind {
			case "message", "edit", "update":
				original = r.Content
			case "followup":
				out = append(out, r.Content)
			}
		}
		if original != "" {
			out = append(out, original)
		}
	}
	for _, m := range c.dc.ChannelMessages(discordtest.DMChannelID(u.ID)) {
		if m.Bot {
			out = append(out, m.Content)
		}
	}
	return out
}

// repliesTo lists the texts the bot answered an interaction with.
func (c *cluster) repliesTo(id string) []string {
	var out []string
	for _, r := range c.dc.Replies(id) {
		if r.Content != "" {
			out = append(out, r.Content)
		}
	}
	return out
}

// discordTrace describes everything the bot did in answer to u, for a
// failing test's report.
func (c *cluster) discordTrace(u discordtest.User) string {
	c.mu.Lock()
	ids := append([]string(nil), c.interactions[u.ID]...)
	c.mu.Unlock()
	var b strings.Builder
	for _, id := range ids {
		for _, r := range c.dc.Replies(id) {
			fmt.Fprintf(&b, "interaction %s: %s ephemeral=%t %q\n", id, r.Kind, r.Ephemeral, r.Content)
		}
	}
	for _, m := range c.dc.ChannelMessages(discordtest.DMChannelID(u.ID)) {
		if m.Bot {
			fmt.Fprintf(&b, "DM %s: %q\n", m.ID, m.Content)
		}
	}
	return b.String()
}

// discordSeen counts the messages u was shown that hold text.
func (c *cluster) discordSeen(u discordtest.User, text string) int {
	n := 0
	for _, s := range c.discordShown(u) {
		if strings.Contains(s, text) {
			n++
		}
	}
	return n
}

// awaitShown polls what shown returns until one message satisfies pred,
// and returns it; the fakes record the answers of every process, so this
// is where an answer from whichever instance owns the member shows up.
func (c *cluster) awaitShown(what string, shown func() []string, pred func(string) bool) string {
	c.t.Helper()
	deadline := time.Now().Add(waitLimit)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		for _, s := range shown() {
			if pred(s) {
				return s
			}
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("gave up waiting %v for %s; shown:\n%s", waitLimit, what, strings.Join(shown(), "\n---\n"))
		}
		<-tick.C
	}
}

// pointerPosts returns the bot's posts in channel with a Receive button.
func (c *cluster) pointerPosts(channel string) []discordtest.Message {
	var out []discordtest.Message
	for _, m := range c.dc.ChannelMessages(channel) {
		if m.Bot && len(m.ButtonIDs()) > 0 {
			out = append(out, m)
		}
	}
	return out
}

// ---- Telegram -------------------------------------------------------------

// deliver plays the load balancer: it takes the updates the fake Bot API
// holds for the bot (as Telegram would post them to the webhook URL) and
// posts each to p's webhook server.
func (c *cluster) deliver(p *proc) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	updates := c.tg.TakeUpdates()
	if len(updates) == 0 {
		c.t.Fatal("deliver: no update to deliver")
	}
	for _, u := range updates {
		status, err := telegramtest.PostUpdate(ctx, "http://"+p.webhook+"/", webhookSecret, u)
		if err != nil || status != http.StatusOK {
			c.t.Fatalf("posting update %d to %s's webhook: status %d, %v", u.UpdateID, p.name, status, err)
		}
	}
}

// ask plays member writing text in their private chat with the bot,
// delivered to p, and waits for the bot's answer there that satisfies
// want (the owner may answer with more than one message, in any order).
func (c *cluster) ask(p *proc, member telegramtest.User, text string, want func(string) bool) (telegramtest.Message, string) {
	c.t.Helper()
	before := len(c.tg.BotMessages(member.ID))
	m := c.tg.SendText(member, member.PrivateChat(), text)
	c.deliver(p)
	answer := c.awaitShown(member.FirstName+"'s answer", func() []string {
		var out []string
		if msgs := c.tg.BotMessages(member.ID); len(msgs) > before {
			for _, b := range msgs[before:] {
				out = append(out, b.Text)
			}
		}
		return out
	}, want)
	return m, answer
}

// pressAt plays member pressing a button, delivered to p, and waits for
// the press's answer.
func (c *cluster) pressAt(p *proc, member telegramtest.User, msg telegramtest.Message, data string) telegramtest.Call {
	c.t.Helper()
	id := c.tg.PressButton(member, msg, data)
	c.mu.Lock()
	c.presses[member.ID] = append(c.presses[member.ID], id)
	c.mu.Unlock()
	c.deliver(p)
	var answer telegramtest.Call
	c.tg.Await(c.t, waitLimit, member.FirstName+"'s press answered", func() bool {
		for _, call := range c.tg.Calls("answerCallbackQuery") {
			if call.OK && call.Params["callback_query_id"] == id {
				answer = call
				return true
			}
		}
		return false
	})
	return answer
}

// telegramPrivate is everything the bot showed member privately: their
// private chat and the answers to their presses.
func (c *cluster) telegramPrivate(member telegramtest.User) []string {
	var out []string
	for _, m := range c.tg.BotMessages(member.ID) {
		out = append(out, m.Text)
	}
	c.mu.Lock()
	mine := map[string]bool{}
	for _, id := range c.presses[member.ID] {
		mine[id] = true
	}
	c.mu.Unlock()
	for _, call := range c.tg.Calls("answerCallbackQuery") {
		if call.OK && mine[call.Params["callback_query_id"]] && call.Params["text"] != "" {
			out = append(out, call.Params["text"])
		}
	}
	return out
}

// telegramSeen counts the private messages and press answers to member
// that hold text.
func (c *cluster) telegramSeen(member telegramtest.User, text string) int {
	n := 0
	for _, s := range c.telegramPrivate(member) {
		if strings.Contains(s, text) {
			n++
		}
	}
	return n
}

// receiveButton waits for the bot's newest post in chat with a button
// that replies to msg.
func (c *cluster) receiveButton(chat int64, replyTo telegramtest.Message) (telegramtest.Message, string) {
	c.t.Helper()
	var m telegramtest.Message
	c.tg.Await(c.t, waitLimit, "a Receive button", func() bool {
		for _, b := range c.tg.BotMessages(chat) {
			if len(b.Buttons()) > 0 && b.ReplyTo != nil && b.ReplyTo.MessageID == replyTo.MessageID {
				m = b
				return true
			}
		}
		return false
	})
	return m, m.Buttons()[0].CallbackData
}

// pointerFor has member make a pointer privately (delivered to p) and
// returns it.
func (c *cluster) pointerFor(p *proc, member telegramtest.User, chat, text string) string {
	c.t.Helper()
	_, pointer := c.ask(p, member, "/clm send "+chat+" "+text, func(s string) bool { return strings.HasPrefix(s, `{"e": `) })
	return pointer
}

// dumpHolds returns those of needles (and their hex, as pg_dump writes
// bytea) that a pg_dump of the cluster's schema holds: the store and the
// cluster's own tables, as an operator's backup would. It skips the test's
// scan (not the test) when pg_dump is not installed.
func (c *cluster) dumpHolds(needles []string) (found []string, scanned bool) {
	c.t.Helper()
	pgDump, err := exec.LookPath("pg_dump")
	if err != nil {
		c.t.Log("pg_dump not found (install postgresql-client): the database scan is skipped")
		return nil, false
	}
	cfg, err := pgx.ParseConfig(c.dbURL)
	if err != nil {
		c.t.Fatal(err)
	}
	dump := filepath.Join(c.t.TempDir(), "cluster.sql")
	cmd := exec.Command(pgDump, "--schema="+c.schema, "--no-owner", "--format=plain", "--file="+dump)
	// The server's address in the environment, never argv.
	cmd.Env = append(os.Environ(), "PGHOST="+cfg.Host, "PGPORT="+strconv.Itoa(int(cfg.Port)),
		"PGUSER="+cfg.User, "PGPASSWORD="+cfg.Password, "PGDATABASE="+cfg.Database)
	if out, err := cmd.CombinedOutput(); err != nil {
		c.t.Fatalf("pg_dump: %v\n%s", err, out)
	}
	data, err := os.ReadFile(dump)
	if err != nil {
		c.t.Fatal(err)
	}
	if !bytes.Contains(data, []byte("cluster_owners")) || !bytes.Contains(data, []byte("messages")) {
		c.t.Fatalf("the dump holds neither the store nor the cluster's tables:\n%.2000s", data)
	}
	for _, n := range needles {
		if bytes.Contains(data, []byte(n)) || bytes.Contains(data, []byte(hex.EncodeToString([]byte(n)))) {
			found = append(found, n)
		}
	}
	return found, true
}
