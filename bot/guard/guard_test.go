package guard_test

import (
	"bytes"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/layan-id/layan/bot/guard"
)

// logBuffer is a log destination safe for the guard's timer and the test.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) lines() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.FieldsFunc(l.b.String(), func(r rune) bool { return r == '\n' })
}

func from(remote string) *http.Request {
	r := httptest.NewRequest("POST", "/", nil)
	r.RemoteAddr = remote
	return r
}

func TestAnAddressThatKeepsGuessingIsThrottledForAWhile(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		logs := &logBuffer{}
		g := guard.New(guard.Config{Name: "test door", Logger: slog.New(slog.NewTextHandler(logs, nil))})
		attacker := from("203.0.113.9:5555")
		for i := range guard.DefaultTries {
			if wait := g.Throttled(attacker); wait != 0 {
				t.Fatalf("try %d was throttled (%v) before %d wrong tries", i+1, wait, guard.DefaultTries)
			}
			g.Fail(attacker, "wrong token")
		}
		wait := g.Throttled(attacker)
		if wait <= 0 {
			t.Fatalf("after %d wrong tries the address may still try", guard.DefaultTries)
		}
		// Another port of the same address is the same client.
		if g.Throttled(from("203.0.113.9:6666")) == 0 {
			t.Error("a new connection escapes the throttle")
		}
		// Another address of the same IPv6 /64 is the same client.
		v6 := from("[2001:db8:1:2::1]:443")
		for range guard.DefaultTries {
			g.Fail(v6, "wrong token")
		}
		if g.Throttled(from("[2001:db8:1:2:ffff::7]:443")) == 0 {
			t.Error("a neighbouring IPv6 address escapes the throttle")
		}
		// Other addresses are not affected.
		if w := g.Throttled(from("198.51.100.7:1234")); w != 0 {
			t.Errorf("an innocent address must wait %v", w)
		}
		// The wait is a whole number of seconds for Retry-After.
		if got := guard.RetryAfter(wait); got != "60" {
			t.Errorf("Retry-After %q, want 60", got)
		}
		time.Sleep(wait - time.Second)
		if g.Throttled(attacker) == 0 {
			t.Error("the address may try again before the time it was told")
		}
		time.Sleep(time.Second)
		if w := g.Throttled(attacker); w != 0 {
			t.Errorf("after waiting as told the address must still wait %v", w)
		}
		g.Fail(attacker, "wrong token")
		if g.Throttled(attacker) == 0 {
			t.Error("an address that keeps guessing gets more than one try a minute")
		}
	})
}

func TestWrongSecretsAreLoggedAsOneLineAMinute(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		logs := &logBuffer{}
		g := guard.New(guard.Config{Name: "test door", Logger: slog.New(slog.NewTextHandler(logs, nil))})
		for i := range 40 {
			r := from("203.0.113.9:5555")
			if i%4 == 0 {
				r = from("198.51.100.7:1234")
			}
			if g.Throttled(r) == 0 {
				g.Fail(r, "wrong token")
			}
		}
		synctest.Wait()
		if l := logs.lines(); len(l) != 0 {
			t.Fatalf("logged before the minute was over:\n%s", strings.Join(l, "\n"))
		}
		time.Sleep(time.Minute)
		synctest.Wait()
		lines := logs.lines()
		if len(lines) != 1 {
			t.Fatalf("%d lines for a minute of wrong secrets, want 1:\n%s", len(lines), strings.Join(lines, "\n"))
		}
		for _, want := range []string{`msg="test door: wrong or missing secrets"`, "failures=10", "throttled=30", "addresses=2",
			`most="203.0.113.9 (30), 198.51.100.7 (10)"`, `reasons="wrong token (10)"`} {
			if !strings.Contains(lines[0], want) {
				t.Errorf("the summary lacks %s:\n%s", want, lines[0])
			}
		}
		time.Sleep(10 * time.Minute)
		synctest.Wait()
		if n := len(logs.lines()); n != 1 {
			t.Errorf("%d lines after quiet minutes, want still 1", n)
		}
		g.Fail(from("198.51.100.7:1234"), "no token")
		time.Sleep(time.Minute)
		synctest.Wait()
		lines = logs.lines()
		if len(lines) != 2 || !strings.Contains(lines[1], "failures=1 ") || !strings.Contains(lines[1], `reasons="no token (1)"`) {
			t.Errorf("a later failure is not summed up on its own:\n%s", strings.Join(lines, "\n"))
		}
	})
}

func TestAnAddressThatStopsGuessingGetsItsTriesBack(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := guard.New(guard.Config{Name: "test door"})
		staff := from("192.0.2.10:1000")
		for range guard.DefaultTries - 1 {
			g.Fail(staff, "wrong token") // a mistyped token, four times
		}
		time.Sleep(guard.DefaultTries * guard.DefaultEvery)
		for i := range guard.DefaultTries {
			if g.Throttled(staff) != 0 {
				t.Fatalf("throttled at try %d after a long pause", i+1)
			}
			g.Fail(staff, "wrong token")
		}
	})
}
