package inbox

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/layan-id/layan/bot/lanes"
)

// memQueue is a queue in memory with the store's contract: Read hands out what
// nobody took, Reclaim what was taken longer ago than minIdle, Ack deletes.
type memQueue struct {
	mu      sync.Mutex
	entries []string // ids in order
	raws    map[string]string
	taken   map[string]time.Time
	acked   []string
	readErr error
}

func newMemQueue(raws ...string) *memQueue {
	q := &memQueue{raws: map[string]string{}, taken: map[string]time.Time{}}
	for i, r := range raws {
		id := fmt.Sprintf("%d-%d", time.Now().UnixMilli(), i)
		q.entries = append(q.entries, id)
		q.raws[id] = r
	}
	return q
}

func (q *memQueue) Read(ctx context.Context, _ string, count int, block time.Duration) ([]string, [][]byte, error) {
	q.mu.Lock()
	if q.readErr != nil {
		err := q.readErr
		q.mu.Unlock()
		return nil, nil, err
	}
	var ids []string
	var raws [][]byte
	for _, id := range q.entries {
		if _, ok := q.taken[id]; !ok && len(ids) < count {
			q.taken[id] = time.Now()
			ids, raws = append(ids, id), append(raws, []byte(q.raws[id]))
		}
	}
	q.mu.Unlock()
	if len(ids) == 0 {
		select {
		case <-time.After(block):
		case <-ctx.Done():
		}
	}
	return ids, raws, nil
}

func (q *memQueue) Reclaim(_ context.Context, _ string, count int, minIdle time.Duration) ([]string, [][]byte, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	var ids []string
	var raws [][]byte
	for _, id := range q.entries {
		if at, ok := q.taken[id]; ok && time.Since(at) >= minIdle && len(ids) < count {
			q.taken[id] = time.Now()
			ids, raws = append(ids, id), append(raws, []byte(q.raws[id]))
		}
	}
	return ids, raws, nil
}

func (q *memQueue) Ack(_ context.Context, ids ...string) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	for _, id := range ids {
		q.entries = slices.DeleteFunc(q.entries, func(e string) bool { return e == id })
		q.acked = append(q.acked, q.raws[id])
	}
	return nil
}

func (q *memQueue) left() []string {
	q.mu.Lock()
	defer q.mu.Unlock()
	var out []string
	for _, id := range q.entries {
		out = append(out, q.raws[id])
	}
	return out
}

// run works q for d with open, then stops.
func run(q *memQueue, d time.Duration, open func(id string, raw []byte) ([]Job, error), mod func(*Config)) {
	cfg := Config{
		Name: "test", Item: "entry", Queue: q, Lanes: lanes.New(4), Consumer: "w1", Open: open,
		ClaimAfter: time.Minute, Wait: time.Second, Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	if mod != nil {
		mod(&cfg)
	}
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	New(cfg).Run(ctx, context.Background())
}

// lines makes one job per line of an entry, in the lane before the colon; a line
// "fail" fails until tries reaches zero.
func lines(mu *sync.Mutex, done *[]string, failures *int) func(string, []byte) ([]Job, error) {
	return func(_ string, raw []byte) ([]Job, error) {
		if string(raw) == "garbage" {
			return nil, errors.New("not an entry")
		}
		var jobs []Job
		for l := range strings.SplitSeq(string(raw), "\n") {
			if l == "" {
				continue
			}
			lane, _, _ := strings.Cut(l, ":")
			jobs = append(jobs, Job{Lane: lane, Run: func(context.Context) error {
				mu.Lock()
				defer mu.Unlock()
				if strings.HasSuffix(l, "fail") && *failures > 0 {
					*failures--
					return errors.New("store down")
				}
				*done = append(*done, l)
				return nil
			}})
		}
		return jobs, nil
	}
}

func TestAnEntryIsAcknowledgedOnlyOnceAllItsJobsSucceeded(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var mu sync.Mutex
		var done []string
		failures := 1
		q := newMemQueue("a:1\nb:1", "a:2 fail\nb:2", "", "garbage")
		run(q, 30*time.Second, lines(&mu, &done, &failures), nil)
		if left := q.left(); !slices.Equal(left, []string{"a:2 fail\nb:2"}) {
			t.Errorf("left queued %q, want only the entry whose job failed", left)
		}
		if !slices.Contains(q.acked, "garbage") || !slices.Contains(q.acked, "") {
			t.Errorf("acknowledged %q, want also the unreadable entry and the empty one", q.acked)
		}
		if slices.Contains(done, "a:2 fail") {
			t.Errorf("done %q: the failing job counted as done", done)
		}

		// The next worker takes the entry over once it has been idle for ClaimAfter,
		// and the job succeeds this time.
		done = nil
		run(q, 2*time.Minute, lines(&mu, &done, &failures), nil)
		if left := q.left(); len(left) != 0 {
			t.Errorf("left queued %q after the retry succeeded, want none", left)
		}
		if !slices.Contains(done, "a:2 fail") {
			t.Errorf("done %q on the retry, want the failed job among them", done)
		}
	})
}

func TestAnEntryQueuedTooLongAgoIsDropped(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var mu sync.Mutex
		var done []string
		q := newMemQueue("a:old")
		time.Sleep(25 * time.Hour)
		q.entries = append(q.entries, fmt.Sprintf("%d-0", time.Now().UnixMilli()))
		q.raws[q.entries[1]] = "a:new"
		run(q, time.Second, lines(&mu, &done, new(int)), func(c *Config) { c.MaxAge = 24 * time.Hour })
		if !slices.Equal(done, []string{"a:new"}) || len(q.left()) != 0 {
			t.Errorf("ran %q and left %q; want only the new entry run and none left", done, q.left())
		}
	})
}

func TestAQueueThatFailsIsReadAgainWithAGrowingPause(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		q := newMemQueue()
		q.readErr = errors.New("connection refused")
		var reads int
		counting := &countingQueue{memQueue: q, reads: &reads}
		cfg := Config{
			Name: "test", Item: "entry", Queue: counting, Lanes: lanes.New(1), Open: func(string, []byte) ([]Job, error) { return nil, nil },
			MaxBackoff: 8 * time.Second, Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		}
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		New(cfg).Run(ctx, context.Background())
		// Pauses about 1, 2, 4, 8, 8, 8… (each ±50 %): 7 s, then one read about each 8 s;
		// without growth (about 1 s each) it would be 40 or more.
		if reads < 7 || reads > 20 {
			t.Errorf("%d reads in a minute of a failing queue, want about 10 (a growing pause up to 8 s)", reads)
		}
	})
}

type countingQueue struct {
	*memQueue
	reads *int
}

func (c *countingQueue) Read(ctx context.Context, consumer string, count int, block time.Duration) ([]string, [][]byte, error) {
	*c.reads++
	return c.memQueue.Read(ctx, consumer, count, block)
}
