// Package hmacdrbg is the allocation-free SHA-256 / HMAC-SHA256 core of the
// clm package: a SHA-256 digest over a bare compression function, HMAC keys
// kept as their two precomputed chaining values (RFC 2104: the padded key
// blocks are hashed once per key, not once per message), and the CLM 2.0.2
// HMAC-DRBG keystream.
//
// It exists because the bridge trial-opens every pointer it sees against
// every unlocked secret: that costs 17 SHA-256 compressions when nothing is
// recomputed, and crypto/hmac would allocate and rehash key blocks on each
// call. It is not a general-purpose hash package: everything here is checked
// against crypto/sha256 and crypto/hmac in tests, and anything outside the
// clm hot path should use those instead.
package hmacdrbg
