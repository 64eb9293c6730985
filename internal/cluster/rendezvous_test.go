package cluster

import (
	"fmt"
	"testing"
)

func TestRendezvousGivesAMemberTheSameInstanceWhateverTheOrderOfTheList(t *testing.T) {
	a := []string{"a1", "b2", "c3"}
	b := []string{"c3", "a1", "b2"}
	for i := range 500 {
		m := fmt.Sprintf("telegram:%d", i)
		if x, y := rendezvous(a, m), rendezvous(b, m); x != y {
			t.Fatalf("member %s: %s with one order, %s with another", m, x, y)
		}
	}
}

func TestRendezvousSpreadsMembersEvenlyOverThreeInstances(t *testing.T) {
	live := []string{"0f3a", "7c21", "e9b4"}
	const n = 3000
	count := map[string]int{}
	for i := range n {
		count[rendezvous(live, fmt.Sprintf("discord:%d", i))]++
	}
	for _, id := range live {
		// An even share is 1000; 3 standard deviations is about 80.
		if c := count[id]; c < 850 || c > 1150 {
			t.Errorf("instance %s owns %d of %d members, want about a third: %v", id, c, n, count)
		}
	}
}

func TestRendezvousMovesOnlyTheRemovedInstancesMembers(t *testing.T) {
	all := []string{"0f3a", "7c21", "e9b4"}
	left := []string{"0f3a", "e9b4"}
	moved := 0
	for i := range 3000 {
		m := fmt.Sprintf("telegram:%d", i)
		before, after := rendezvous(all, m), rendezvous(left, m)
		if before != "7c21" && before != after {
			t.Fatalf("member %s moved from live %s to %s", m, before, after)
		}
		if before == "7c21" {
			moved++
		}
	}
	if moved == 0 {
		t.Fatal("the removed instance owned no member: the test proves nothing")
	}
}

func TestRendezvousWithNoLiveInstanceChoosesNone(t *testing.T) {
	if got := rendezvous(nil, "telegram:1"); got != "" {
		t.Fatalf("rendezvous over no instance = %q, want none", got)
	}
}
