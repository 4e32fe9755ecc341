package bot

import (
	"context"
	"sync"
	"testing"
	"time"
)

// queued waits until a new waiter has joined key's queue behind tail.
func (s *serial) queuedBehind(key string, tail chan struct{}) chan struct{} {
	for {
		s.mu.Lock()
		t := s.tails[key]
		s.mu.Unlock()
		if t != tail {
			return t
		}
		time.Sleep(100 * time.Microsecond)
	}
}

func TestWorkOfOneKeyRunsInArrivalOrder(t *testing.T) {
	s := newSerial()
	ctx := context.Background()
	first, _ := s.acquire(ctx, "chat")
	var mu sync.Mutex
	var order []int
	var wg sync.WaitGroup
	tail := s.tails["chat"]
	for i := range 10 {
		wg.Go(func() {
			release, err := s.acquire(ctx, "chat")
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			order = append(order, i)
			mu.Unlock()
			release()
		})
		tail = s.queuedBehind("chat", tail) // i has arrived before i+1 starts
	}
	first()
	wg.Wait()
	for i, got := range order {
		if got != i {
			t.Fatalf("order = %v, want arrival order 0..9", order)
		}
	}
	if len(s.tails) != 0 {
		t.Errorf("the queue keeps %d keys after all work is done", len(s.tails))
	}
}

func TestAWaiterThatGivesUpKeepsTheQueueInOrder(t *testing.T) {
	s := newSerial()
	first, _ := s.acquire(context.Background(), "chat")
	ctx, cancel := context.WithCancel(context.Background())
	tail := s.tails["chat"]
	errc := make(chan error, 1)
	go func() {
		_, err := s.acquire(ctx, "chat")
		errc <- err
	}()
	tail = s.queuedBehind("chat", tail)
	got := make(chan struct{})
	go func() {
		release, _ := s.acquire(context.Background(), "chat")
		close(got)
		release()
	}()
	s.queuedBehind("chat", tail)
	cancel()
	if err := <-errc; err == nil {
		t.Fatal("a cancelled waiter got the key")
	}
	select {
	case <-got:
		t.Fatal("the third waiter ran while the first still held the key")
	case <-time.After(20 * time.Millisecond):
	}
	first()
	<-got
}
