package clm

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"strconv"
)

// refKeystream is a deliberately plain transcription of the 2.0.2 keystream
// (docs/PROTOCOL.md, "Making a pointer", steps 3 and 4) using crypto/hmac.
// The optimised implementation is checked against it.
func refKeystream(secret []byte, epoch int64, nonce string, n int) []byte {
	seed := sha256.Sum256([]byte(string(secret) + "_" + strconv.FormatInt(epoch, 10) + "_" + nonce))
	mac := func(key []byte, parts ...[]byte) []byte {
		m := hmac.New(sha256.New, key)
		for _, p := range parts {
			m.Write(p)
		}
		return m.Sum(nil)
	}
	k := make([]byte, 32)
	v := bytes.Repeat([]byte{1}, 32)
	k = mac(k, v, []byte{0}, seed[:])
	v = mac(k, v)
	k = mac(k, v, []byte{1}, seed[:])
	v = mac(k, v)
	var out []byte
	for len(out) < n {
		v = mac(k, v)
		out = append(out, v...)
	}
	return out[:n]
}

// refTag is a plain transcription of the tag extension.
func refTag(secret []byte, epoch int64, nonce, data string) string {
	kt := hmac.New(sha256.New, []byte("clm-tag-v1"))
	kt.Write(secret)
	m := hmac.New(sha256.New, kt.Sum(nil))
	m.Write([]byte(strconv.FormatInt(epoch, 10) + "_" + nonce + "_" + data))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:16])
}

// testKeystream adapts the package's keystream to the tests' signature.
func testKeystream(secret []byte, epoch int64, nonce string, n int) []byte {
	return keystream(secret, strconv.FormatInt(epoch, 10), nonce, n)
}
