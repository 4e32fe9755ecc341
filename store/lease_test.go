package store

import (
	"context"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// TestALeaseIsRenewedUntilItsTurnEnds: a lock is renewed every period while its turn
// runs, however long, and no more once the turn ends, the lock turns out lost or it
// was held MaxLockHold; with no lock held, nothing runs.
func TestALeaseIsRenewedUntilItsTurnEnds(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var mu sync.Mutex
		calls := map[string]int{}
		h := newHeldLocks(time.Second, func(_ context.Context, lock, _ string) bool {
			mu.Lock()
			defer mu.Unlock()
			calls[lock]++
			return lock != "lost" || calls[lock] < 3
		})
		count := func(lock string) int { mu.Lock(); defer mu.Unlock(); return calls[lock] }

		h.start("t1", "long", time.Now())
		time.Sleep(500 * time.Millisecond)
		h.start("t2", "short", time.Now())
		h.start("t3", "lost", time.Now())
		h.start("t4", "stuck", time.Now())
		time.Sleep(700 * time.Millisecond)
		h.end("t2") // a turn of 0.7 s: ended before a renewal was due
		time.Sleep(10*time.Second - 1200*time.Millisecond + time.Millisecond)
		if n := count("long"); n != 10 {
			t.Errorf("a turn ten periods long was renewed %d times, want 10", n)
		}
		if n := count("short"); n != 0 {
			t.Errorf("a turn shorter than a period was renewed %d times", n)
		}
		if n := count("lost"); n != 3 {
			t.Errorf("renewed %d times, want to stop at the third, which found the lock lost", n)
		}
		h.end("t1") // Commit or Release
		time.Sleep(5 * time.Second)
		if n := count("long"); n != 10 {
			t.Errorf("renewed %d times in all, also after the turn ended; want 10", n)
		}
		time.Sleep(MaxLockHold) // the stuck turn never ends
		before := count("stuck")
		time.Sleep(5 * time.Second)
		if after := count("stuck"); after != before || before < 50 {
			t.Errorf("a turn that never ends was renewed %d times, then %d more after MaxLockHold; want about 60, then none", before, after-before)
		}
		h.mu.Lock()
		defer h.mu.Unlock()
		if h.timer != nil || len(h.locks) != 0 {
			t.Errorf("a period after every turn ended or was given up: timer set %v with %d locks; want none", h.timer != nil, len(h.locks))
		}
	})
}
