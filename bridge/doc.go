// Package bridge is the platform-neutral core of CLM Bridge: commands,
// unlock sessions (in memory only), policy (secrets only in private), rate
// limits and fan-out. Adapters translate platform input into a [Request] and
// implement [Responder]; the bridge decides everything else.
//
// It is not a transport: it never imports an adapter.
package bridge
