package clm_test

import (
	"errors"
	"fmt"

	"github.com/clmbridge/clmbridge/clm"
)

func ExampleNewPointer() {
	secret := []byte("my-chat-secret-123")
	m := clm.Message{Chat: "Project Athena", Username: "alice", Text: "hello world"}
	p, err := clm.NewPointer(secret, m, 1758411713)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(p)
	// Output:
	// {"e": 1758411713, "n": "nn-WJtBvWP9-7hpA", "d": "d1fb038a04a39a974d12f943cc77c503e3f8a0c6c24ef522ac6b1c464642374b6e41ba4cdd6727", "t": "KW0ekhDlVR9_wv82lys8FA"}
}

func ExampleNewLegacyPointer() {
	m := clm.Message{Chat: "Project Athena", Username: "alice", Text: "hello world"}
	p, _ := clm.NewLegacyPointer([]byte("my-chat-secret-123"), m, 1758411713)
	fmt.Println(p) // what the Python 2.0.2 client prints
	// Output:
	// {"e": 1758411713, "n": "57spUSfVkiHuVw_-", "d": "0ca16567acf6f48ee0708b52f36661912b00233b5951299b302c1b29dd4320f0cfc8ef0db71b26"}
}

func ExamplePointer_Open() {
	p, err := clm.ParsePointer(`{"e": 1758411713, "n": "nn-WJtBvWP9-7hpA", "d": "d1fb038a04a39a974d12f943cc77c503e3f8a0c6c24ef522ac6b1c464642374b6e41ba4cdd6727", "t": "KW0ekhDlVR9_wv82lys8FA"}`)
	if err != nil {
		fmt.Println(err)
		return
	}
	o, err := p.Open([]byte("my-chat-secret-123"))
	fmt.Printf("%s <%s> %s (authenticated: %v, err: %v)\n", o.Chat, o.Username, o.Text, o.Authenticated, err)

	_, err = p.Open([]byte("another secret"))
	fmt.Println(errors.Is(err, clm.ErrWrongSecret))

	p.Tag = "" // without its tag, the pointer is refused, not delivered
	_, err = p.Open([]byte("my-chat-secret-123"))
	fmt.Println(errors.Is(err, clm.ErrTampered))
	// Output:
	// Project Athena <alice> hello world (authenticated: true, err: <nil>)
	// true
	// true
}

func ExampleExtract() {
	post := "here you go:\n```json\n{\n  \"e\": 0,\n  \"n\": \"Zl36xzKUVD7r3qw1\",\n  \"d\": \"68274bae5b9d1674fd5fc9593fd38a\"\n}\n```\n" +
		`and {"not": "a pointer"}`
	for _, p := range clm.Extract(post) {
		o, err := p.Open([]byte("s"))
		fmt.Println(o.Chat, o.Username, o.Text, err)
	}
	// Output:
	// x dave a <nil>
}

func ExampleScan() {
	post := `{"e": 0, "n": "Zl36xzKUVD7r3qw1", "d": "68274bae5b9d1674fd5fc9593fd38a"} and a damaged one {"e": 0, "n": "Zl36xzKUVD7r3qw1", "d": "6827z"}`
	for _, c := range clm.Scan(post) {
		if c.Err != nil {
			fmt.Println("error:", c.Err)
			continue
		}
		o, err := c.Pointer.Open([]byte("s"))
		fmt.Println(o.Text, err)
	}
	// Output:
	// a <nil>
	// error: clm: malformed pointer
}

func ExampleMaxMessageBytes() {
	// A platform whose messages hold at most 2000 characters, then one
	// with 4096.
	fmt.Println(clm.MaxMessageBytes(2000, "Work", "bob", true))
	fmt.Println(clm.MaxMessageBytes(2000, "Work", "bob", false))
	fmt.Println(clm.MaxMessageBytes(4096, "Work", "bob", true))
	// Output:
	// 943
	// 958
	// 1991
}

func ExamplePublicKey() {
	fmt.Println(clm.PublicKey("alice", []byte("master")))
	// Output:
	// ze6UOCLlElcI4QOZoNmCcbTMBkeJtbTl1upDl0l+74Q=
}

func ExampleChatHash() {
	fmt.Println(clm.ChatHash("Work", []byte("q1-project-alpha")))
	// Output:
	// f55536a65acf236965ab0a14f3d1dc1bfbffef86437f83dbfbfd4e4fef7d003d
}

func ExampleGenerateSecret() {
	s, err := clm.GenerateSecret()
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(len(s), "characters: six groups of five, 150 bits")
	// Output:
	// 35 characters: six groups of five, 150 bits
}
