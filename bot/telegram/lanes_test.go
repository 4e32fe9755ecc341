package telegram

import (
	"errors"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestLanes(t *testing.T) {
	t.Run("jobs of one chat run one at a time in the order they came", func(t *testing.T) {
		l := newLanes(8)
		var mu sync.Mutex
		var order []int
		var running, most atomic.Int32
		var wg sync.WaitGroup
		for i := range 50 {
			wg.Add(1)
			l.submit("chat", job{run: func() error {
				defer wg.Done()
				if n := running.Add(1); n > most.Load() {
					most.Store(n)
				}
				time.Sleep(time.Millisecond)
				mu.Lock()
				order = append(order, i)
				mu.Unlock()
				running.Add(-1)
				return nil
			}, skip: wg.Done})
		}
		wg.Wait()
		if !slices.IsSorted(order) || len(order) != 50 {
			t.Errorf("order %v, want 0..49", order)
		}
		if most.Load() != 1 {
			t.Errorf("%d jobs of one chat ran at once, want 1", most.Load())
		}
	})

	t.Run("jobs of different chats run at once, up to the limit", func(t *testing.T) {
		l := newLanes(4)
		var running, most atomic.Int32
		var wg sync.WaitGroup
		for i := range 20 {
			wg.Add(1)
			l.submit(string(rune('a'+i)), job{run: func() error {
				defer wg.Done()
				n := running.Add(1)
				for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
				}
				time.Sleep(20 * time.Millisecond)
				running.Add(-1)
				return nil
			}, skip: wg.Done})
		}
		wg.Wait()
		if m := most.Load(); m < 2 || m > 4 {
			t.Errorf("at most %d jobs ran at once, want between 2 and the limit of 4", m)
		}
	})

	t.Run("after a failed job the chat's queued jobs are skipped, and later ones run", func(t *testing.T) {
		l := newLanes(2)
		release := make(chan struct{})
		var ran, skipped []string
		var mu sync.Mutex
		var wg sync.WaitGroup
		add := func(name string, fail bool, wait bool) {
			wg.Add(1)
			l.submit("chat", job{
				run: func() error {
					defer wg.Done()
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
				},
				skip: func() { mu.Lock(); skipped = append(skipped, name); mu.Unlock(); wg.Done() },
			})
		}
		add("first", true, true)
		add("second", false, false)
		add("third", false, false)
		close(release)
		wg.Wait()
		add("later", false, false)
		wg.Wait()
		if !slices.Equal(ran, []string{"first", "later"}) || !slices.Equal(skipped, []string{"second", "third"}) {
			t.Errorf("ran %v, skipped %v; want [first later] and [second third]", ran, skipped)
		}
	})
}
