package cluster_test

import (
	"context"
	"fmt"
	"os"

	"github.com/clmbridge/clmbridge/internal/cluster"
)

// An instance joins, finds a member's owner, and either serves the
// request itself or forwards it; the owner tells a member who moved to it
// to unlock again.
func Example() {
	ctx := context.Background()
	var c cluster.Cluster
	p, err := cluster.Open(ctx, cluster.Config{
		URL: os.Getenv("CLM_DATABASE_URL"),
		Handle: func(ctx context.Context, from string, m cluster.Message) ([]byte, error) {
			// The bridge decodes m.Body and answers the member through
			// the platform; the sender only learns it was done.
			return []byte("done"), nil
		},
		OnPointer: func(ctx context.Context, from string, pointer []byte) {
			// Trial-open pointer for the members this instance owns.
		},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	c = p
	defer func() { _ = c.Close(ctx) }()

	member := "telegram:12345"
	owner, err := c.Owner(ctx, member)
	if err != nil {
		fmt.Println(err)
		return
	}
	if owner != c.Self() {
		ans, err := c.Forward(ctx, owner, cluster.Message{Kind: "receive", Body: []byte(`{"chat":"Work"}`)})
		fmt.Println(string(ans), err)
		return
	}
	if moved, _ := c.OwnerChanged(ctx, member); moved {
		// The bridge tells the member (in its own words) that their
		// sessions were lost and they should unlock again.
		return
	}
}
