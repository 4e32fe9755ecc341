package telegram

import "sync"

// job is one update's work. run does it; an error means it was not done, and the
// jobs of the same chat queued behind it are skipped (so a retry keeps the chat's
// order). skip is called instead of run for a skipped job.
type job struct {
	run  func() error
	skip func()
}

// lanes runs the jobs of one chat one after another, in the order they were
// submitted, and the jobs of different chats concurrently, at most n at a time.
type lanes struct {
	sem chan struct{}

	mu     sync.Mutex
	queues map[string][]job // a key is present while a goroutine serves it
}

func newLanes(n int) *lanes {
	return &lanes{sem: make(chan struct{}, n), queues: map[string][]job{}}
}

// submit queues j behind the earlier jobs of key.
func (l *lanes) submit(key string, j job) {
	l.mu.Lock()
	q, busy := l.queues[key]
	l.queues[key] = append(q, j)
	l.mu.Unlock()
	if !busy {
		go l.serve(key)
	}
}

func (l *lanes) serve(key string) {
	for {
		l.mu.Lock()
		q := l.queues[key]
		if len(q) == 0 {
			delete(l.queues, key)
			l.mu.Unlock()
			return
		}
		j := q[0]
		l.queues[key] = q[1:]
		l.mu.Unlock()

		l.sem <- struct{}{}
		err := j.run()
		<-l.sem
		if err != nil {
			l.mu.Lock()
			rest := l.queues[key]
			l.queues[key] = nil
			l.mu.Unlock()
			for _, s := range rest {
				s.skip()
			}
		}
	}
}
