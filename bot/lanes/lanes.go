// Package lanes is the one keyed queue of the chat runtime: work is queued under a
// key (a conversation, a chat), the work of one key runs strictly one piece after
// another in the order it was queued, and the work of different keys runs
// concurrently, at most n pieces at a time.
//
// It serves three shapes with one mechanism: the engine waits for a conversation's
// turn (Acquire), the Telegram and Cloud API receivers hand each update to its
// person's lane and skip what follows a failure so that a retry keeps the person's
// order (Submit with a skip), and the whatsmeow channel sends each chat's replies in
// order while it goes on reading (Submit, then Wait at shutdown).
//
// The queue lives in this process only: across processes the store's conversation
// lock gives mutual exclusion, not order.
package lanes

import (
	"context"
	"sync"
	"sync/atomic"
)

// Lanes is a keyed queue. The zero value is not usable; call New. It is safe for
// concurrent use.
type Lanes struct {
	sem chan struct{} // nil: no limit

	mu      sync.Mutex
	queues  map[string][]job // a key is present while a goroutine serves it
	pending int              // queued or running
	idle    chan struct{}    // closed while pending == 0
}

type job struct {
	run  func() error
	skip func() // nil: the job runs even after a failure before it
}

// New returns a keyed queue that runs at most n pieces of work at once across keys;
// n <= 0 means no limit.
func New(n int) *Lanes {
	l := &Lanes{queues: map[string][]job{}, idle: make(chan struct{})}
	close(l.idle)
	if n > 0 {
		l.sem = make(chan struct{}, n)
	}
	return l
}

// Submit queues run behind the earlier work of key and returns at once. When run
// returns an error, the work of key queued behind it at that moment is not run: its
// skip is called instead, so that a caller that retries the failed work later keeps
// the key's order. Work submitted with a nil skip is never skipped. Work queued after
// the failure runs as usual.
func (l *Lanes) Submit(key string, run func() error, skip func()) {
	l.mu.Lock()
	if l.pending == 0 {
		l.idle = make(chan struct{})
	}
	l.pending++
	q, busy := l.queues[key]
	l.queues[key] = append(q, job{run: run, skip: skip})
	l.mu.Unlock()
	if !busy {
		go l.serve(key)
	}
}

// Acquire waits until the work of key queued before it is done and returns the
// function that lets the next one in; until it is called, nothing else of key runs.
// When ctx ends first it returns ctx's error and the queue stays in order: what was
// queued after this call still waits for what was queued before it. A holder counts
// against the limit of New while it holds the key.
func (l *Lanes) Acquire(ctx context.Context, key string) (release func(), err error) {
	if release, ok := l.take(key); ok {
		return release, nil
	}
	turn, done := make(chan struct{}), make(chan struct{})
	l.Submit(key, func() error { close(turn); <-done; return nil }, nil)
	select {
	case <-turn:
		return sync.OnceFunc(func() { close(done) }), nil
	case <-ctx.Done():
		go func() { <-turn; close(done) }()
		return nil, ctx.Err()
	}
}

// take holds key at once when nothing of it is queued or running and the limit has
// room, the usual case: no goroutine serves the key then, and no channel is needed.
// Work queued under key meanwhile waits behind the holder, and a goroutine to serve
// it is started when the holder lets go.
func (l *Lanes) take(key string) (release func(), ok bool) {
	if l.sem != nil {
		select {
		case l.sem <- struct{}{}:
		default:
			return nil, false
		}
	}
	l.mu.Lock()
	if _, busy := l.queues[key]; busy {
		l.mu.Unlock()
		if l.sem != nil {
			<-l.sem
		}
		return nil, false
	}
	if l.pending == 0 {
		l.idle = make(chan struct{})
	}
	l.pending++
	l.queues[key] = []job{{}} // the holder, in the place of the work being served
	l.mu.Unlock()
	var given atomic.Bool
	return func() {
		if given.CompareAndSwap(false, true) {
			l.giveBack(key)
		}
	}, true
}

// giveBack ends the hold take gave and starts serving what was queued behind it.
func (l *Lanes) giveBack(key string) {
	if l.sem != nil {
		<-l.sem
	}
	l.mu.Lock()
	rest := l.queues[key][1:]
	if len(rest) == 0 {
		delete(l.queues, key)
	} else {
		l.queues[key] = rest
	}
	l.done(1)
	l.mu.Unlock()
	if len(rest) > 0 {
		go l.serve(key)
	}
}

// Wait waits until no work is queued or running, or ctx ends (then it returns ctx's
// error).
func (l *Lanes) Wait(ctx context.Context) error {
	l.mu.Lock()
	idle := l.idle
	l.mu.Unlock()
	select {
	case <-idle:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (l *Lanes) serve(key string) {
	for {
		l.mu.Lock()
		q := l.queues[key]
		if len(q) == 0 {
			delete(l.queues, key)
			l.mu.Unlock()
			return
		}
		j := q[0]
		l.mu.Unlock()

		if l.sem != nil {
			l.sem <- struct{}{}
		}
		err := j.run()
		if l.sem != nil {
			<-l.sem
		}

		var skipped []job
		l.mu.Lock()
		rest := l.queues[key][1:] // dequeued once done: Wait sees it pending until then
		if err != nil {
			kept := rest[:0:0]
			for _, r := range rest {
				if r.skip == nil {
					kept = append(kept, r)
				} else {
					skipped = append(skipped, r)
				}
			}
			rest = kept
		}
		l.queues[key] = rest
		l.done(1)
		l.mu.Unlock()
		for _, s := range skipped {
			s.skip()
		}
		if len(skipped) > 0 {
			l.mu.Lock()
			l.done(len(skipped))
			l.mu.Unlock()
		}
	}
}

// done counts n pieces of work as finished. l.mu is held.
func (l *Lanes) done(n int) {
	l.pending -= n
	if l.pending == 0 {
		close(l.idle)
	}
}
