package clm

// Test-only views of the making and opening steps, checked against the
// spec's vectors.

// signedText is Making step 1.
func signedText(m Message) string {
	return "#" + m.Chat + Separator + m.Username + Separator + m.Text
}

// keystream returns n bytes of the 2.0.2 keystream.
func keystream(secret []byte, epoch, nonce string, n int) []byte {
	out := make([]byte, n)
	s := newStream(secret, []byte(epoch), nonce)
	s.XORKeyStream(out, out)
	return out
}
