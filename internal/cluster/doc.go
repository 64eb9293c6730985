// Package cluster lets several bridge instances serve one community,
// using PostgreSQL (the store's database, its own tables) for everything
// between them: who is alive, who owns each member, requests forwarded to
// a member's owner, and pointers published to all. internal/app joins
// an instance to the cluster of its schema whenever the store is in
// PostgreSQL, and internal/relay decides what to forward.
//
// # Liveness
//
// Each instance registers a row (cluster_instances) under a fresh random
// id and refreshes its last_seen every Heartbeat; it is live while that is
// fresher than TTL, by the server's clock. A clean stop deletes the row.
// An instance that loses its listening connection, or finds its own
// heartbeat already expired, leaves (Done closes): it may have missed
// requests, or its members may already be someone else's, so it must not
// go on serving them; it deletes its row when it still can, so its
// members move at once. One killed outright is dead to the others when
// its heartbeat expires.
//
// # Ownership
//
// Ownership is recorded (cluster_owners), not recomputed: a member keeps
// their recorded owner while it is live, so an instance that joins takes
// over nobody (a pure rendezvous hash would move to the newcomer every
// member it wins, and with them their unlock sessions). A member with no
// live owner (new, or their owner died or stopped) goes to the rendezvous
// (highest-random-weight) winner among the live instances: new members
// spread evenly, and the members of an instance that dies spread evenly
// over the others while every other member stays put. A take-over sets
// the row's moved flag, which the new owner reads once (OwnerChanged) to
// tell the member that their sessions were lost and they should unlock
// again.
//
// # Secrets
//
// Unlock sessions live only in their owner's memory, and this package
// never stores one. A forwarded request may carry a secret (an unlock
// typed in a DM that reached another instance), so every forwarded
// request is sealed (NaCl box, anonymous sender) to the owner's X25519 key
// for this run, whose private half lives only in the owner's memory and
// dies with it: what passes through PostgreSQL, the notification queue
// and any payload row, cannot be opened there, nor later from a backup.
// On top of that a request marked Secret travels only inside a NOTIFY
// (never WAL-logged, in no dump, dropped on a server restart) and is
// refused with ErrSecretTooLarge rather than written to a table. A larger
// request without a secret goes in a payload row deleted as it is read.
// Answers are not sealed and must carry no secret: the owner answers the
// member through the platform, the sender only learns it was done.
// Nothing here logs a payload.
//
// # Gates
//
// Some work must run on exactly one instance (Telegram long polling:
// Telegram ends the older of two long polls). PollGate elects it with a
// PostgreSQL session-level advisory lock held on a connection of its own,
// which the server drops with the session when the holder dies; the
// holder pings that connection every Heartbeat and gives the gate up when
// it breaks or the instance leaves the cluster.
//
// # Channels
//
// NOTIFY channels are database-wide, so they are named after a hash of
// the schema: one schema is one cluster, and clusters (or parallel tests)
// in one database never hear each other.
package cluster
