package bridge

import (
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"strconv"
	"testing"

	"github.com/clmbridge/clmbridge/clm"
)

// nonce202 is the plain CLM 2.0.2 nonce, computed here independently of
// package clm: base64url_nopad(SHA256(signed "_" epoch)), 16 characters.
func nonce202(chat, user, text string, epoch int64) string {
	sum := sha256.Sum256([]byte("#" + chat + "|¶|" + user + "|¶|" + text + "_" + strconv.FormatInt(epoch, 10)))
	return base64.RawURLEncoding.EncodeToString(sum[:])[:16]
}

// TestSentPointerGivesNoOfflineGuessingOracle: a PIN sent with /clm send
// cannot be found from the public pointer by anyone who knows the chat and
// the sender but not the secret. With the 2.0.2 nonce, trying the 10,000
// PINs against it finds the message at once.
func TestSentPointerGivesNoOfflineGuessingOracle(t *testing.T) {
	e := newEnv(t, Options{})
	e.newChat("alice", "Work", workSecret)
	ptr := e.send("alice", "Work", "4821")
	p, err := clm.ParsePointer(ptr)
	if err != nil {
		t.Fatal(err)
	}
	o, err := p.Open([]byte(workSecret))
	if err != nil || o.Text != "4821" || !o.Authenticated {
		t.Fatalf("the sent pointer opens to %+v, %v", o, err)
	}
	// The attacker knows chat and sender (the platform shows who posted).
	for pin := range 10000 {
		guess := fmt.Sprintf("%04d", pin)
		if nonce202(o.Chat, o.Username, guess, p.Epoch) == p.Nonce {
			t.Fatalf("the posted pointer's nonce confirms the guess %q without the secret", guess)
		}
	}
}
