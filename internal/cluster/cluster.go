package cluster

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
)

// Cluster is what the bridge and the app depend on: who owns a member,
// sending a request to that owner, and publishing a pointer to every
// instance. [Postgres] implements it on PostgreSQL.
type Cluster interface {
	// Self is this instance's id, as Owner reports it.
	Self() string
	// Owner returns the live instance that owns member, choosing one by
	// rendezvous hashing over the live instances when the member has no
	// live owner yet. A member keeps their owner while it lives.
	Owner(ctx context.Context, member string) (string, error)
	// LiveOwner returns member's recorded owner when it is live (and
	// serves the member's platform), else "": it only reads, choosing
	// and recording nobody, for callers that need an owner only if the
	// member already has one.
	LiveOwner(ctx context.Context, member string) (string, error)
	// OwnerChanged reports, once, that this instance took member over
	// from an instance that died or stopped: the member's unlock sessions
	// were lost with it, so the bridge tells them to unlock again.
	OwnerChanged(ctx context.Context, member string) (bool, error)
	// Forward sends m to the instance to, waits for its handler's answer
	// and returns it; ErrTimeout when none comes in time.
	Forward(ctx context.Context, to string, m Message) ([]byte, error)
	// Publish sends a pointer seen in a channel to every live instance
	// (this one included), each of which trial-opens it for the members
	// it owns.
	Publish(ctx context.Context, pointer []byte) error
	// Done is closed when this instance stops being part of the cluster:
	// after Close, or when it lost its connection or its heartbeat
	// expired (Err says which). Its members are then re-owned by others,
	// so the app must stop serving them: drop every session and restart.
	Done() <-chan struct{}
	// Err says why Done was closed; nil while it is open.
	Err() error
	// Close deregisters this instance and releases its connections.
	Close(ctx context.Context) error
}

// Message is one request forwarded to a member's owner: what the
// receiving adapter turned a platform update into, encoded by the bridge.
type Message struct {
	// Kind tells the owner's handler how to read Body.
	Kind string
	// Body is the encoded request. It is sealed to the owner's key for
	// this run before it leaves the process.
	Body []byte
	// Secret marks a request that carries a member's secret (an unlock in
	// a DM). It travels only inside a NOTIFY (never written to a table
	// row), and is refused with ErrSecretTooLarge when it does not fit.
	Secret bool
}

// Handler answers a request forwarded to this instance (the owner). Its
// answer goes back to the sender, so keep it small: the owner answers the
// member through the platform, the sender only needs to know it was done.
type Handler func(ctx context.Context, from string, m Message) ([]byte, error)

// PointerHandler trial-opens a published pointer for the members this
// instance owns.
type PointerHandler func(ctx context.Context, from string, pointer []byte)

// Errors callers branch on.
var (
	// ErrTimeout: the owner did not answer in time (it may be dying; its
	// members move to a live instance once its heartbeat expires). Retry.
	ErrTimeout = errors.New("cluster: the owner did not answer in time; retry, the member will move if it died")
	// ErrSecretTooLarge: a secret-bearing request does not fit in one
	// NOTIFY, and secrets are never written to a table.
	ErrSecretTooLarge = errors.New("cluster: a request carrying a secret must fit in one notification; shorten it")
	// ErrNoLiveInstance: no live instance serves the member's platform.
	ErrNoLiveInstance = errors.New("cluster: no live instance serves the member's platform; check that the bridge instances run and reach PostgreSQL")
	// ErrUnknownInstance: the target is not a live instance.
	ErrUnknownInstance = errors.New("cluster: that instance is not live; ask Owner again")
	// ErrStopped: this instance is no longer part of the cluster (closed,
	// lost its connection, or its heartbeat expired); restart it.
	ErrStopped = errors.New("cluster: this instance left the cluster; restart it")
	// ErrRemote: the owner's handler failed; its text says how.
	ErrRemote = errors.New("cluster: the owner could not handle the request")
)

// rendezvousWeight is member's weight on instance: the first eight bytes
// of SHA-256(instance, 0, member). The instance with the highest weight
// wins (rendezvous, or highest-random-weight, hashing), so adding or
// removing one instance moves only the members it wins or held.
func rendezvousWeight(instance, member string) uint64 {
	h := sha256.New()
	h.Write([]byte(instance))
	h.Write([]byte{0})
	h.Write([]byte(member))
	var sum [sha256.Size]byte
	return binary.BigEndian.Uint64(h.Sum(sum[:0]))
}

// rendezvous picks member's instance among live ("" when there is none);
// ties, which need a SHA-256 collision in 64 bits, go to the smaller id.
func rendezvous(live []string, member string) string {
	best, bestW := "", uint64(0)
	for _, id := range live {
		w := rendezvousWeight(id, member)
		if best == "" || w > bestW || (w == bestW && id < best) {
			best, bestW = id, w
		}
	}
	return best
}
