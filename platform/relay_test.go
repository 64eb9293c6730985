package platform_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/clmbridge/clmbridge/platform"
)

// A relay state comes from another instance through the database: only
// one bounded JSON object of the adapter's own shape is taken.
func TestDecodeRelayStateTakesOnlyOneBoundedObjectOfItsShape(t *testing.T) {
	type state struct {
		V    int    `json:"v"`
		Chat string `json:"chat"`
	}
	tests := []struct {
		name  string
		input string
		ok    bool
	}{
		{"its shape", `{"v":1,"chat":"42"}`, true},
		{"empty", ``, false},
		{"too large", `{"v":1,"chat":"` + strings.Repeat("4", 100) + `"}`, false},
		{"an unknown field", `{"v":1,"chat":"42","token":"x"}`, false},
		{"trailing data", `{"v":1,"chat":"42"}{"v":2}`, false},
		{"not an object", `[1,2]`, false},
		{"not JSON", `v=1`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var st state
			err := platform.DecodeRelayState([]byte(tt.input), 64, &st)
			if tt.ok {
				if err != nil || st.V != 1 || st.Chat != "42" {
					t.Fatalf("DecodeRelayState = %v, %+v; want the state", err, st)
				}
				return
			}
			if !errors.Is(err, platform.ErrBadRelayState) {
				t.Fatalf("DecodeRelayState = %v, want ErrBadRelayState", err)
			}
		})
	}
}
