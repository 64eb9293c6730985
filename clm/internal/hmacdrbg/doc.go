// Package hmacdrbg is the CLM 2.0.2 keystream (docs/PROTOCOL.md, "Making a
// pointer", step 4): an HMAC-SHA256 DRBG variant, computed without allocating and with
// each HMAC key's padded blocks hashed once, not once per message (RFC 2104).
//
// It exists because the bridge trial-opens every pointer it sees against
// every unlocked secret, and crypto/hmac would allocate and hash the key
// blocks again on every call. The hashing itself is crypto/sha256's (which
// uses the CPU's SHA instructions where there are some): this package only
// saves and restores SHA-256 chaining values through crypto/sha256's binary
// state (MarshalBinary's format), so a MAC under a prepared key costs two
// compressions. Everything here is checked against crypto/hmac in tests.
//
// It is not a general-purpose hash or MAC package: use crypto/sha256 and
// crypto/hmac for anything outside the clm hot path.
package hmacdrbg
