package telegram

import (
	"strconv"
	"testing"
	"time"
)

func TestInlineOffersAreBoundedAndExpire(t *testing.T) {
	t0 := time.Unix(1_700_000_000, 0)
	tests := []struct {
		name string
		run  func(t *testing.T, o *inlineOffers)
	}{
		{"taken once, by its member only", func(t *testing.T, o *inlineOffers) {
			o.put(1, "a", "P", t0)
			if _, ok := o.take(2, "a", t0); ok {
				t.Error("another member took the offer")
			}
			if p, ok := o.take(1, "a", t0); !ok || p != "P" {
				t.Errorf("take = %q, %v", p, ok)
			}
			if _, ok := o.take(1, "a", t0); ok {
				t.Error("taken twice")
			}
			if m, n := o.size(); m != 0 || n != 0 {
				t.Errorf("%d members, %d offers left", m, n)
			}
		}},
		{"expires after offerTTL", func(t *testing.T, o *inlineOffers) {
			o.put(1, "old", "P1", t0)
			o.put(1, "new", "P2", t0.Add(offerTTL/2))
			if _, ok := o.take(1, "old", t0.Add(offerTTL)); ok {
				t.Error("an expired offer was taken")
			}
			if p, ok := o.take(1, "new", t0.Add(offerTTL)); !ok || p != "P2" {
				t.Errorf("a live offer: %q, %v", p, ok)
			}
		}},
		{"a member's oldest offers go first", func(t *testing.T, o *inlineOffers) {
			for i := 0; i < maxOffersPerMember+5; i++ {
				o.put(1, strconv.Itoa(i), "P"+strconv.Itoa(i), t0)
			}
			if _, n := o.size(); n != maxOffersPerMember {
				t.Errorf("%d offers kept, want %d", n, maxOffersPerMember)
			}
			if _, ok := o.take(1, "4", t0); ok {
				t.Error("an offer typed over long ago is still there")
			}
			last := strconv.Itoa(maxOffersPerMember + 4)
			if p, ok := o.take(1, last, t0); !ok || p != "P"+last {
				t.Errorf("the newest offer: %q, %v", p, ok)
			}
		}},
		{"members are bounded, the stalest goes", func(t *testing.T, o *inlineOffers) {
			for u := int64(1); u <= maxOfferMembers; u++ {
				o.put(u, "x", "P", t0.Add(time.Duration(u)*time.Millisecond))
			}
			o.put(maxOfferMembers+1, "x", "P", t0.Add(time.Minute))
			if m, _ := o.size(); m != maxOfferMembers {
				t.Errorf("%d members kept, want %d", m, maxOfferMembers)
			}
			if _, ok := o.take(1, "x", t0.Add(time.Minute)); ok {
				t.Error("the stalest member's offer is still there")
			}
			for _, u := range []int64{2, maxOfferMembers + 1} {
				if _, ok := o.take(u, "x", t0.Add(time.Minute)); !ok {
					t.Errorf("member %d lost its offer", u)
				}
			}
		}},
		{"expired members make room first", func(t *testing.T, o *inlineOffers) {
			for u := int64(1); u <= maxOfferMembers; u++ {
				o.put(u, "x", "P", t0)
			}
			later := t0.Add(offerTTL)
			o.put(maxOfferMembers+1, "x", "P", later)
			if m, n := o.size(); m != 1 || n != 1 {
				t.Errorf("%d members, %d offers: the expired ones should be gone", m, n)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.run(t, newInlineOffers()) })
	}
}

func TestOfferIDsAreFreshAndFitTelegram(t *testing.T) {
	seen := map[string]bool{}
	for i := 0; i < 1000; i++ {
		id := newOfferID()
		if len(id) == 0 || len(id) > 64 || seen[id] {
			t.Fatalf("id %q (seen before: %v)", id, seen[id])
		}
		seen[id] = true
	}
}
