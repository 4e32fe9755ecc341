package lanes

import (
	"context"
	"errors"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
)

func TestWorkOfOneKeyRunsOneAtATimeInTheOrderItCame(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := New(8)
		var mu sync.Mutex
		var order []int
		var running, most atomic.Int32
		for i := range 50 {
			l.Submit("chat", func() error {
				if n := running.Add(1); n > most.Load() {
					most.Store(n)
				}
				time.Sleep(time.Millisecond)
				mu.Lock()
				order = append(order, i)
				mu.Unlock()
				running.Add(-1)
				return nil
			}, nil)
		}
		if err := l.Wait(t.Context()); err != nil {
			t.Fatal(err)
		}
		if !slices.IsSorted(order) || len(order) != 50 {
			t.Errorf("order %v, want 0..49", order)
		}
		if most.Load() != 1 {
			t.Errorf("%d pieces of one chat ran at once, want 1", most.Load())
		}
		synctest.Wait() // the lanes' goroutines end
		if n := l.keys(); n != 0 {
			t.Errorf("the queue keeps %d keys after all work is done", n)
		}
	})
}

func TestWorkOfDifferentKeysRunsAtOnceUpToTheLimit(t *testing.T) {
	for _, limit := range []int{4, 0} {
		synctest.Test(t, func(t *testing.T) {
			l := New(limit)
			var running, most atomic.Int32
			for i := range 20 {
				l.Submit(string(rune('a'+i)), func() error {
					n := running.Add(1)
					for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
					}
					time.Sleep(20 * time.Millisecond)
					running.Add(-1)
					return nil
				}, nil)
			}
			l.Wait(t.Context())
			want := int32(limit)
			if limit == 0 {
				want = 20
			}
			if m := most.Load(); m != want {
				t.Errorf("limit %d: at most %d pieces ran at once, want %d", limit, m, want)
			}
		})
	}
}

func TestAFailureSkipsWhatWasQueuedBehindIt(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := New(4)
		var mu sync.Mutex
		var ran, skipped []string
		release := make(chan struct{})
		add := func(name string, fail, wait, skippable bool) {
			var skip func()
			if skippable {
				skip = func() { mu.Lock(); skipped = append(skipped, name); mu.Unlock() }
			}
			l.Submit("chat", func() error {
				if wait {
					<-release
				}
				mu.Lock()
				ran = append(ran, name)
				mu.Unlock()
				if fail {
					return errors.New("store down")
				}
				return nil
			}, skip)
		}
		add("first", true, true, true)
		add("second", false, false, true)
		add("unskippable", false, false, false)
		add("third", false, false, true)
		close(release)
		l.Wait(t.Context())
		add("later", false, false, true)
		l.Wait(t.Context())
		if !slices.Equal(ran, []string{"first", "unskippable", "later"}) || !slices.Equal(skipped, []string{"second", "third"}) {
			t.Errorf("ran %v, skipped %v; want [first unskippable later] and [second third]", ran, skipped)
		}
	})
}

func TestAcquireLetsHoldersInInArrivalOrder(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := New(0)
		ctx := context.Background()
		first, _ := l.Acquire(ctx, "chat")
		var mu sync.Mutex
		var order []int
		for i := range 10 {
			go func() {
				release, err := l.Acquire(ctx, "chat")
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				order = append(order, i)
				mu.Unlock()
				release()
			}()
			synctest.Wait() // i has queued before i+1 starts
		}
		if len(order) != 0 {
			t.Fatalf("%v got the key while the first holder kept it", order)
		}
		first()
		l.Wait(ctx)
		for i, got := range order {
			if got != i || len(order) != 10 {
				t.Fatalf("order = %v, want arrival order 0..9", order)
			}
		}
		synctest.Wait() // the lanes' goroutines end
		if n := l.keys(); n != 0 {
			t.Errorf("the queue keeps %d keys after all work is done", n)
		}
	})
}

func TestAWaiterThatGivesUpKeepsTheQueueInOrder(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := New(0)
		first, _ := l.Acquire(context.Background(), "chat")
		ctx, cancel := context.WithCancel(context.Background())
		errc := make(chan error, 1)
		go func() {
			_, err := l.Acquire(ctx, "chat")
			errc <- err
		}()
		synctest.Wait()
		got := make(chan struct{})
		go func() {
			release, _ := l.Acquire(context.Background(), "chat")
			close(got)
			release()
		}()
		synctest.Wait()
		cancel()
		if err := <-errc; err == nil {
			t.Fatal("a cancelled waiter got the key")
		}
		synctest.Wait()
		select {
		case <-got:
			t.Fatal("the third waiter ran while the first still held the key")
		default:
		}
		first()
		<-got
	})
}

func TestWaitEndsWhenTheLastPieceIsDoneOrCtxEnds(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := New(0)
		if err := l.Wait(t.Context()); err != nil {
			t.Fatalf("Wait on an empty queue: %v", err)
		}
		start := time.Now()
		l.Submit("a", func() error { time.Sleep(time.Second); return nil }, nil)
		l.Submit("a", func() error { time.Sleep(time.Second); return nil }, nil)
		if err := l.Wait(t.Context()); err != nil || time.Since(start) != 2*time.Second {
			t.Errorf("Wait = %v after %v, want nil once both pieces (2 s) were done", err, time.Since(start))
		}
		l.Submit("a", func() error { time.Sleep(time.Hour); return nil }, nil)
		ctx, cancel := context.WithTimeout(t.Context(), time.Second)
		defer cancel()
		if err := l.Wait(ctx); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Wait with work running past ctx = %v, want the deadline", err)
		}
		l.Wait(context.Background())
	})
}

// keys returns how many keys the queue keeps.
func (l *Lanes) keys() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.queues)
}

func TestAHolderCountsAgainstTheLimitAndWorkQueuedBehindItRunsAfter(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := New(1)
		ctx := context.Background()
		release, err := l.Acquire(ctx, "chat")
		if err != nil {
			t.Fatal(err)
		}
		var mu sync.Mutex
		var ran []string
		run := func(name string) func() error {
			return func() error { mu.Lock(); ran = append(ran, name); mu.Unlock(); return nil }
		}
		l.Submit("chat", run("same chat"), nil)
		l.Submit("other", run("other chat"), nil)
		synctest.Wait()
		if len(ran) != 0 {
			t.Fatalf("%v ran while the holder kept the only place", ran)
		}
		release()
		release() // a second call changes nothing
		l.Wait(ctx)
		slices.Sort(ran)
		if !slices.Equal(ran, []string{"other chat", "same chat"}) {
			t.Errorf("ran %v after the holder let go, want both", ran)
		}
		synctest.Wait()
		if n := l.keys(); n != 0 {
			t.Errorf("the queue keeps %d keys after all work is done", n)
		}
	})
}
