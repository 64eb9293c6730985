package bridge

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// doctorToken stands for a bot token: the fake doctor never says it, and
// no answer, post or log line may hold it.
const doctorToken = "123456:AAdoctorTokenNeverShown"

// fakeDoctor counts its runs and returns a fixed report.
type fakeDoctor struct {
	runs atomic.Int32
}

func (d *fakeDoctor) run(context.Context) string {
	d.runs.Add(1)
	return "[ok  ] store: the store is intact\n[warn] telegram: privacy mode is on\n       fix: @BotFather → /setprivacy"
}

// admins returns an IsAdmin that names the given members.
func admins(names ...string) func(Member) bool {
	return func(m Member) bool {
		for _, n := range names {
			if m.Platform == member(n).Platform && m.ID == member(n).ID {
				return true
			}
		}
		return false
	}
}

func TestDoctorIsForAdminsAndAnsweredPrivately(t *testing.T) {
	doc := &fakeDoctor{}
	e := newEnv(t, Options{IsAdmin: admins("alice"), Doctor: doc.run})
	tests := []struct {
		name   string
		who    string
		place  Place
		report bool
	}{
		{"admin in a DM", "alice", dm, true},
		{"admin in a public place", "alice", general, true},
		{"member in a DM", "bob", dm, false},
		{"member in a public place", "bob", general, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := doc.runs.Load()
			r := e.cmd(tt.who, tt.place, "doctor", "")
			if len(r.public) != 0 || len(r.files) != 0 || r.deletes != 0 {
				t.Fatalf("doctor posted %q, sent %d files, deleted %d", r.publicText(), len(r.files), r.deletes)
			}
			if len(r.private) == 0 {
				t.Fatal("no private answer")
			}
			ran := doc.runs.Load() - before
			if tt.report {
				mustContain(t, r.text(), "only you see this", "store: the store is intact", "fix: @BotFather")
				if ran != 1 {
					t.Errorf("the doctor ran %d times", ran)
				}
				return
			}
			mustContain(t, r.text(), "for the bot's operators", "tell the people who run this bot")
			mustNotContain(t, r.text(), "privacy mode", "store", "alice", "CLM_ADMINS")
			if ran != 0 {
				t.Errorf("the doctor ran for a member who is not an operator")
			}
		})
	}
	e.assertNoPublicLeak(doctorToken, "privacy mode")
}

func TestDoctorWithoutAdminsOrDoctor(t *testing.T) {
	t.Run("no IsAdmin: nobody is an admin", func(t *testing.T) {
		doc := &fakeDoctor{}
		e := newEnv(t, Options{Doctor: doc.run})
		r := e.cmd("alice", dm, "doctor", "")
		mustContain(t, r.text(), "for the bot's operators")
		if doc.runs.Load() != 0 {
			t.Error("the doctor ran with no admin configured")
		}
	})
	t.Run("no Doctor: not available", func(t *testing.T) {
		e := newEnv(t, Options{IsAdmin: admins("alice")})
		r := e.cmd("alice", general, "doctor", "")
		mustContain(t, r.text(), "not available", "bridge doctor")
		if len(r.public) != 0 {
			t.Fatalf("posted %q", r.publicText())
		}
		r = e.cmd("bob", dm, "doctor", "")
		mustContain(t, r.text(), "for the bot's operators")
		mustNotContain(t, r.text(), "not available")
	})
}

func TestDoctorIsRateLimited(t *testing.T) {
	doc := &fakeDoctor{}
	e := newEnv(t, Options{IsAdmin: admins("alice"), Doctor: doc.run, RateBurst: 2, RatePerMinute: 1})
	var said []string
	for range 6 {
		said = append(said, e.cmd("alice", dm, "doctor", "").text())
	}
	if n := doc.runs.Load(); n != 2 {
		t.Fatalf("the doctor ran %d times for 6 requests with a burst of 2", n)
	}
	mustContain(t, strings.Join(said, "\n"), "too fast")
}

func TestOneDoctorAtATime(t *testing.T) {
	started, release := make(chan struct{}), make(chan struct{})
	var runs atomic.Int32
	slow := func(context.Context) string {
		runs.Add(1)
		close(started)
		<-release
		return "[ok  ] store: fine"
	}
	e := newEnv(t, Options{IsAdmin: admins("alice", "carol"), Doctor: slow})
	var wg sync.WaitGroup
	var first *recorder
	wg.Go(func() { first = e.cmd("alice", dm, "doctor", "") })
	<-started
	second := e.cmd("carol", dm, "doctor", "")
	close(release)
	wg.Wait()
	mustContain(t, second.text(), "running already")
	mustContain(t, first.text(), "store: fine")
	if runs.Load() != 1 {
		t.Fatalf("%d runs", runs.Load())
	}
}

func TestWhoamiShowsTheMembersOwnIDPrivately(t *testing.T) {
	e := newEnv(t, Options{})
	for _, place := range []Place{dm, general} {
		r := e.cmd("alice", place, "whoami", "")
		mustContain(t, r.text(), "test:id-alice", "CLM_ADMINS")
		if len(r.public) != 0 {
			t.Fatalf("whoami posted %q", r.publicText())
		}
	}
	e.assertNoPublicLeak("id-alice")
}
