// Package relay routes the bridge's requests between the instances of a
// cluster (see internal/cluster): a Router stands in front of the local
// bridge as the adapters' bridge.Core, and sends each request that needs
// a member's unlock sessions to the instance that owns the member, which
// answers the member through the platform itself (platform.Relay). Channel
// chatter is handled where it arrives, with a "seen" note to the owner,
// and a channel post's pointers are published to every instance so each
// runs watch for the members it owns.
//
// What travels between instances is sealed by the cluster to the owner's
// key; requests that may carry a secret (anything typed in private, a
// confidential request, a command that may hold a secret) are marked so
// they travel only inside a notification. Answers carry no text the member
// typed. Nothing here logs a payload.
package relay
