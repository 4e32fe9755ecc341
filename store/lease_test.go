package store

import (
	"context"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
)

// TestALeaseIsRenewedUntilItsTurnEnds: a lock is renewed every period while its turn
// runs, however long, and no more once the turn ends or the lock turns out lost.
func TestALeaseIsRenewedUntilItsTurnEnds(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var calls atomic.Int32
		ctx, end := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() {
			defer close(done)
			renewEvery(ctx, time.Second, func(context.Context) bool { calls.Add(1); return true })
		}()
		time.Sleep(10*time.Second + time.Millisecond) // a turn ten leases long
		if n := calls.Load(); n != 10 {
			t.Errorf("renewed %d times in 10 periods, want 10", n)
		}
		end() // Commit or Release
		<-done
		time.Sleep(5 * time.Second)
		if n := calls.Load(); n != 10 {
			t.Errorf("renewed %d times in all, also after the turn ended; want 10", n)
		}

		calls.Store(0)
		lost := make(chan struct{})
		go func() {
			defer close(lost)
			renewEvery(context.Background(), time.Second, func(context.Context) bool { return calls.Add(1) < 3 })
		}()
		<-lost // returns by itself once the lock is someone else's
		if n := calls.Load(); n != 3 {
			t.Errorf("renewed %d times, want to stop at the third, which found the lock lost", n)
		}
	})
}
