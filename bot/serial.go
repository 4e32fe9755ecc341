package bot

import (
	"context"
	"sync"
)

// serial runs work of one key strictly in arrival order within this process: each
// caller waits for the one that arrived before it. (The store's lock does the same
// across processes, but polling a lock does not keep order.)
type serial struct {
	mu    sync.Mutex
	tails map[string]chan struct{}
}

func newSerial() *serial { return &serial{tails: map[string]chan struct{}{}} }

// acquire waits for the previous holder of key and returns the function that lets the
// next one in. When ctx ends first it returns ctx's error; the queue stays in order.
func (s *serial) acquire(ctx context.Context, key string) (func(), error) {
	mine := make(chan struct{})
	s.mu.Lock()
	prev := s.tails[key]
	s.tails[key] = mine
	s.mu.Unlock()

	release := func() {
		s.mu.Lock()
		if s.tails[key] == mine {
			delete(s.tails, key)
		}
		s.mu.Unlock()
		close(mine)
	}
	if prev == nil {
		return release, nil
	}
	select {
	case <-prev:
		return release, nil
	case <-ctx.Done():
		// Keep our place in the chain: let the next one in only after prev is done.
		go func() { <-prev; release() }()
		return nil, ctx.Err()
	}
}
