package relay

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/clmbridge/clmbridge/bridge"
	"github.com/clmbridge/clmbridge/internal/cluster"
	"github.com/clmbridge/clmbridge/platform"
	"github.com/clmbridge/clmbridge/storage"
)

// cheapArgon2 keeps tests fast; production uses the storage default.
var cheapArgon2 = storage.Argon2Params{MemoryKiB: 8, Time: 1, Threads: 1}

// fakeSecretMax is the fake cluster's largest secret-bearing body, like
// the real one's single NOTIFY.
const fakeSecretMax = 6000

// sent is one message the fake cluster forwarded.
type sent struct {
	from, to, kind string
	secret         bool
}

// fakeNet is an in-memory cluster of fake instances: ownership set by the
// test, forwards and publishes delivered synchronously.
type fakeNet struct {
	mu      sync.Mutex
	nodes   map[string]*fakeNode
	order   []string
	owners  map[string]string
	moved   map[string]bool
	sent    []sent
	publish int
	lookups int // Owner and LiveOwner calls
	// hook, when set, may fail a Forward (before delivery) with an error.
	hook func(n *fakeNet, to string, m cluster.Message) error
	// slowTo, when set, delays the delivery of publishes to that node
	// until slowed is closed (the notification is late).
	slowTo string
	slowed chan struct{}
}

type fakeNode struct {
	net    *fakeNet
	id     string
	dead   bool
	handle cluster.Handler
	onPtr  cluster.PointerHandler
}

var _ cluster.Cluster = (*fakeNode)(nil)

func (n *fakeNet) add(id string, h cluster.Handler, p cluster.PointerHandler) *fakeNode {
	n.mu.Lock()
	defer n.mu.Unlock()
	nd := &fakeNode{net: n, id: id, handle: h, onPtr: p}
	n.nodes[id] = nd
	n.order = append(n.order, id)
	return nd
}

// setOwner records member's owner; moved makes the owner's OwnerChanged
// report it once.
func (n *fakeNet) setOwner(member, owner string, moved bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.owners[member] = owner
	n.moved[member] = moved
}

// kill marks id dead and moves its members to to, as a take-over.
func (n *fakeNet) kill(id, to string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.nodes[id].dead = true
	for m, o := range n.owners {
		if o == id {
			n.owners[m] = to
			n.moved[m] = true
		}
	}
}

func (n *fakeNet) sentLog() []sent {
	n.mu.Lock()
	defer n.mu.Unlock()
	return append([]sent(nil), n.sent...)
}

func (nd *fakeNode) Self() string { return nd.id }

func (nd *fakeNode) Owner(_ context.Context, member string) (string, error) {
	n := nd.net
	n.mu.Lock()
	defer n.mu.Unlock()
	n.lookups++
	if o, ok := n.owners[member]; ok && !n.nodes[o].dead {
		return o, nil
	}
	for _, id := range n.order {
		if !n.nodes[id].dead {
			n.owners[member] = id
			return id, nil
		}
	}
	return "", cluster.ErrNoLiveInstance
}

func (nd *fakeNode) LiveOwner(_ context.Context, member string) (string, error) {
	n := nd.net
	n.mu.Lock()
	defer n.mu.Unlock()
	n.lookups++
	if o, ok := n.owners[member]; ok && !n.nodes[o].dead {
		return o, nil
	}
	return "", nil
}

func (nd *fakeNode) OwnerChanged(_ context.Context, member string) (bool, error) {
	n := nd.net
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.owners[member] != nd.id || !n.moved[member] {
		return false, nil
	}
	n.moved[member] = false
	return true, nil
}

func (nd *fakeNode) Forward(ctx context.Context, to string, m cluster.Message) ([]byte, error) {
	n := nd.net
	n.mu.Lock()
	n.sent = append(n.sent, sent{from: nd.id, to: to, kind: m.Kind, secret: m.Secret})
	hook := n.hook
	target := n.nodes[to]
	n.mu.Unlock()
	if m.Secret && len(m.Body) > fakeSecretMax {
		return nil, cluster.ErrSecretTooLarge
	}
	if hook != nil {
		if err := hook(n, to, m); err != nil {
			return nil, err
		}
	}
	if target == nil || target.dead {
		return nil, cluster.ErrUnknownInstance
	}
	ans, err := target.handle(ctx, nd.id, cluster.Message{Kind: m.Kind, Body: bytes.Clone(m.Body), Secret: m.Secret})
	if err != nil {
		return nil, fmt.Errorf("%w: %s", cluster.ErrRemote, err)
	}
	return ans, nil
}

func (nd *fakeNode) Publish(ctx context.Context, pointer []byte) error {
	n := nd.net
	n.mu.Lock()
	n.publish++
	var live []*fakeNode
	for _, id := range n.order {
		if !n.nodes[id].dead {
			live = append(live, n.nodes[id])
		}
	}
	slowTo, slowed := n.slowTo, n.slowed
	n.mu.Unlock()
	for _, t := range live {
		if t.id == slowTo {
			go func() {
				<-slowed
				t.onPtr(context.WithoutCancel(ctx), nd.id, bytes.Clone(pointer))
			}()
			continue
		}
		t.onPtr(ctx, nd.id, bytes.Clone(pointer))
	}
	return nil
}

func (nd *fakeNode) Done() <-chan struct{}       { return nil }
func (nd *fakeNode) Err() error                  { return nil }
func (nd *fakeNode) Close(context.Context) error { return nil }

// said is one thing an instance said to a member (privately, publicly,
// or through watch).
type said struct {
	instance, member, how, text string
}

// answers records everything every instance said, and signals watch
// deliveries.
type answers struct {
	mu       sync.Mutex
	all      []said
	notified chan said
}

func newAnswers() *answers { return &answers{notified: make(chan said, 64)} }

func (a *answers) add(s said) {
	a.mu.Lock()
	a.all = append(a.all, s)
	a.mu.Unlock()
	if s.how == "watch" {
		a.notified <- s
	}
}

// to returns what was said to member (how "" for every way), in order.
func (a *answers) to(member, how string) []said {
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []said
	for _, s := range a.all {
		if s.member == member && (how == "" || s.how == how) {
			out = append(out, s)
		}
	}
	return out
}

// holding returns what was said to member whose text holds want.
func (a *answers) holding(member, want string) []said {
	var out []said
	for _, s := range a.to(member, "") {
		if strings.Contains(s.text, want) {
			out = append(out, s)
		}
	}
	return out
}

// fakeReply is a Relayable Responder of the fake platform "test".
type fakeReply struct {
	a        *answers
	instance string
	member   string
	// garbled makes RelayState return a state the owner's adapter
	// refuses (as one of another version might).
	garbled bool
	mu      sync.Mutex
	relayed bool
}

var _ platform.Relayable = (*fakeReply)(nil)

func (r *fakeReply) Private(_ context.Context, text string) error {
	r.a.add(said{instance: r.instance, member: r.member, how: "private", text: text})
	return nil
}

func (r *fakeReply) PrivateFile(_ context.Context, f bridge.File) error {
	r.a.add(said{instance: r.instance, member: r.member, how: "file", text: f.Name})
	return nil
}

func (r *fakeReply) Public(_ context.Context, p bridge.PublicPost) error {
	r.a.add(said{instance: r.instance, member: r.member, how: "public", text: p.Text + " [" + p.ReceiveRef + "]"})
	return nil
}

func (r *fakeReply) DeleteRequest(context.Context) error { return nil }

// fakeState is the fake platform's relay state: whom to answer.
type fakeState struct {
	To string `json:"to"`
}

func (r *fakeReply) RelayState() ([]byte, error) {
	if r.garbled {
		return []byte(`{"v":99}`), nil
	}
	return json.Marshal(fakeState{To: r.member})
}

func (r *fakeReply) Relayed() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.relayed = true
}

func (r *fakeReply) wasRelayed() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.relayed
}

// fakeRelay is the fake platform's adapter on one instance.
type fakeRelay struct {
	a        *answers
	instance string
}

func (f *fakeRelay) ServeRelayed(ctx context.Context, handle func(context.Context, bridge.Request) error, req bridge.Request, state []byte) error {
	var st fakeState
	if err := json.Unmarshal(state, &st); err != nil || st.To == "" {
		return errors.New("fake relay: bad state")
	}
	req.Reply = &fakeReply{a: f.a, instance: f.instance, member: st.To}
	return handle(ctx, req)
}

// fakeNotifier delivers watch notifications of one instance.
type fakeNotifier struct {
	a        *answers
	instance string
}

func (f *fakeNotifier) NotifyPrivately(_ context.Context, m bridge.Member, text string) error {
	f.a.add(said{instance: f.instance, member: m.ID, how: "watch", text: text})
	return nil
}

// instance is one bridge with its router.
type instance struct {
	id     string
	bridge *bridge.Bridge
	router *Router
	node   *fakeNode
}

// world is N instances over one store and a fake cluster.
type world struct {
	t     *testing.T
	net   *fakeNet
	a     *answers
	store *storage.Store
	inst  map[string]*instance
	logs  *bytes.Buffer
}

func newWorld(t *testing.T, opts Options, ids ...string) *world {
	t.Helper()
	st, err := storage.Open(context.Background(), filepath.Join(t.TempDir(), "bridge.db"), storage.Options{Argon2: cheapArgon2})
	if err != nil {
		t.Fatal(err)
	}
	w := &world{t: t, net: &fakeNet{nodes: map[string]*fakeNode{}, owners: map[string]string{}, moved: map[string]bool{}},
		a: newAnswers(), store: st, inst: map[string]*instance{}, logs: &bytes.Buffer{}}
	logger := slog.New(slog.NewTextHandler(&lockedWriter{w: w.logs}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	for _, id := range ids {
		in := &instance{id: id}
		opts.Logger = logger
		var r *Router
		b := bridge.New(st, bridge.Options{RatePerMinute: -1, SweepEvery: -1,
			Publish: func(ctx context.Context, p bridge.Published) error { return r.Publish(ctx, p) }}, logger)
		r = New(b, opts)
		in.bridge, in.router = b, r
		in.node = w.net.add(id, r.HandleForwarded, r.HandlePublished)
		r.SetCluster(in.node)
		r.SetRelay("test", &fakeRelay{a: w.a, instance: id})
		r.RegisterNotifier("test", &fakeNotifier{a: w.a, instance: id})
		w.inst[id] = in
	}
	t.Cleanup(func() {
		w.closeAll()
		_ = st.Close()
	})
	return w
}

// closeAll closes every bridge: the watch deliveries under way finish.
func (w *world) closeAll() {
	for _, in := range w.inst {
		_ = in.bridge.Close()
	}
}

type lockedWriter struct {
	mu sync.Mutex
	w  *bytes.Buffer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func member(name string) bridge.Member {
	return bridge.Member{Platform: "test", ID: name, DisplayName: name}
}

var (
	dm      = bridge.Place{Kind: bridge.Private}
	general = bridge.Place{Kind: bridge.Public, ID: "c-general", Name: "#general"}
	random  = bridge.Place{Kind: bridge.Public, ID: "c-random", Name: "#random"}
	caps    = bridge.Capabilities{MaxPointerChars: 4096, CanDelete: true, Buttons: true}
)

// run has who's request reach instance at, and returns its Responder.
func (w *world) run(at, who string, req bridge.Request) *fakeReply {
	w.t.Helper()
	rep := &fakeReply{a: w.a, instance: at, member: who}
	req.Member, req.Reply, req.Caps = member(who), rep, caps
	if err := w.inst[at].router.Handle(context.Background(), req); err != nil {
		w.t.Fatalf("Handle at %s: %v", at, err)
	}
	return rep
}

func (w *world) cmd(at, who string, place bridge.Place, command, args string) *fakeReply {
	w.t.Helper()
	return w.run(at, who, bridge.Request{Place: place, Command: command, Args: args})
}

func (w *world) post(at, who string, place bridge.Place, text string) *fakeReply {
	w.t.Helper()
	return w.run(at, who, bridge.Request{Place: place, Post: text})
}

// forwards returns the forwarded messages of kind.
func (w *world) forwards(kind string) []sent {
	var out []sent
	for _, s := range w.net.sentLog() {
		if s.kind == kind {
			out = append(out, s)
		}
	}
	return out
}

// last returns the newest thing said to who, or fails.
func (w *world) last(who string) said {
	w.t.Helper()
	all := w.a.to(who, "")
	if len(all) == 0 {
		w.t.Fatalf("nothing was said to %s", who)
	}
	return all[len(all)-1]
}

// waitWatch waits for the next watch delivery (bounded, so a missing one
// fails instead of hanging).
func (w *world) waitWatch() said {
	w.t.Helper()
	select {
	case s := <-w.a.notified:
		return s
	case <-time.After(10 * time.Second):
		w.t.Fatal("no watch delivery within 10s")
		return said{}
	}
}
