// Package inbox works the durable queue that a channel's webhook fills (a store
// queue: a Redis stream read through a consumer group, at least once): it reads
// entries in batches while it has room for them, takes over the entries a stopped
// worker took and never acknowledged, runs each entry's jobs in their person's lane
// and acknowledges the entry once all of them succeeded. An entry whose job failed
// stays queued and is taken over again after ClaimAfter; the engine's dedupe keeps a
// person from being answered twice.
//
// The Telegram webhook and the WhatsApp Cloud API webhook both queue this way.
package inbox

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/layan-id/layan/bot"
	"github.com/layan-id/layan/bot/gopool"
	"github.com/layan-id/layan/bot/lanes"
)

// Queue is the durable queue; *store.Queue is one. ids[i] names raws[i] for Ack.
type Queue interface {
	// Read gives consumer up to count entries nobody has taken, waiting up to block.
	Read(ctx context.Context, consumer string, count int, block time.Duration) (ids []string, raws [][]byte, err error)
	// Reclaim gives consumer up to count entries another consumer took more than minIdle ago.
	Reclaim(ctx context.Context, consumer string, count int, minIdle time.Duration) (ids []string, raws [][]byte, err error)
	// Ack deletes finished entries.
	Ack(ctx context.Context, ids ...string) error
}

// Job is one piece of an entry's work: Run runs in the lane Lane, after the work
// queued there before it. An error means it was not done: the entry is not
// acknowledged, and the jobs of the lane queued behind it are skipped, so that the
// retry keeps the lane's order.
type Job struct {
	Lane string
	Run  func(ctx context.Context) error
}

// Config says what a Worker works on.
type Config struct {
	Name     string       // in log lines: "telegram", "whatsapp cloud"
	Item     string       // what an entry is, in log lines: "update", "payload"
	Queue    Queue        // required
	Lanes    *lanes.Lanes // required: the channel's lanes, shared with its other receive paths
	Consumer string       // this process's name among the queue's consumers
	// Open turns an entry into its jobs (none: acknowledged at once). An error drops
	// the entry: it is logged and acknowledged.
	Open func(id string, raw []byte) ([]Job, error)
	// Gate, when set, says whether this process may take entries now (a replica that
	// cannot send on the outbox's channel must leave them to one that can); while it
	// says no, the worker looks again every Wait.
	Gate       func() bool
	MaxAge     time.Duration    // an entry queued longer ago is dropped; 0: no limit
	Slots      int              // entries read but not finished; default 256
	ClaimAfter time.Duration    // an entry taken but not acknowledged is taken over after; default 2 min
	Wait       time.Duration    // a read's wait on an empty queue; default 2 s
	MaxBackoff time.Duration    // the longest pause while the queue cannot be read; default 1 min
	Now        func() time.Time // default time.Now
	Log        *slog.Logger     // default slog.Default()
}

// Worker works one queue. Make it with New.
type Worker struct {
	cfg      Config
	inflight sync.WaitGroup
}

// New returns a worker for cfg, with defaults filled in.
func New(cfg Config) *Worker {
	if cfg.Slots <= 0 {
		cfg.Slots = 256
	}
	if cfg.ClaimAfter <= 0 {
		cfg.ClaimAfter = 2 * time.Minute
	}
	if cfg.Wait <= 0 {
		cfg.Wait = 2 * time.Second
	}
	if cfg.MaxBackoff <= 0 {
		cfg.MaxBackoff = time.Minute
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	return &Worker{cfg: cfg}
}

// Run reads and handles entries until ctx ends, then waits for the entries it read
// to finish. Jobs run with jobs as their context (a context that outlives ctx by a
// grace period, so that work under way can finish); a job not started when ctx ends
// does not start, and its entry stays queued for another worker or the next start.
func (w *Worker) Run(ctx, jobs context.Context) {
	runners := gopool.New(runnerIdle)
	defer runners.Close() // after the entries finished: the goroutines waiting for work end
	defer w.inflight.Wait()
	cfg := w.cfg
	slots := make(chan struct{}, cfg.Slots)
	for range cap(slots) {
		slots <- struct{}{}
	}
	var lastReclaim time.Time
	pause := bot.Backoff(min(time.Second, cfg.MaxBackoff), cfg.MaxBackoff)
	for ctx.Err() == nil {
		if cfg.Gate != nil && !cfg.Gate() {
			bot.Sleep(ctx, cfg.Wait)
			continue
		}
		n := takeSlots(ctx, slots, 100)
		if n == 0 {
			break
		}
		var ids []string
		var raws [][]byte
		var err error
		if cfg.Now().Sub(lastReclaim) >= cfg.ClaimAfter/4 {
			ids, raws, err = cfg.Queue.Reclaim(ctx, cfg.Consumer, n, cfg.ClaimAfter)
			lastReclaim = cfg.Now()
			if len(ids) > 0 {
				cfg.Log.Info(cfg.Name+": took over queued "+cfg.Item+"s of a stopped worker", "count", len(ids))
			}
		}
		if err == nil && len(ids) == 0 {
			ids, raws, err = cfg.Queue.Read(ctx, cfg.Consumer, n, cfg.Wait)
		}
		for range n - len(ids) {
			slots <- struct{}{}
		}
		if err != nil {
			if ctx.Err() != nil {
				break
			}
			d := pause.NextBackOff()
			cfg.Log.Warn(cfg.Name+": read the queue failed; will retry", "in", d, "err", err)
			if bot.Sleep(ctx, d) != nil {
				break
			}
			continue
		}
		pause.Reset()
		for i := range ids {
			w.inflight.Add(1)
			w.entry(ctx, jobs, runners, ids[i], raws[i], func() { slots <- struct{}{}; w.inflight.Done() })
		}
	}
}

// takeSlots waits for one free slot, then takes up to max-1 more that are free.
func takeSlots(ctx context.Context, slots chan struct{}, max int) int {
	select {
	case <-slots:
	case <-ctx.Done():
		return 0
	}
	n := 1
	for n < max {
		select {
		case <-slots:
			n++
		default:
			return n
		}
	}
	return n
}

// entry submits the jobs of one entry, and acknowledges it once all succeeded; done
// is called once when the entry is finished either way.
func (w *Worker) entry(ctx, jobs context.Context, runners *gopool.Pool, id string, raw []byte, done func()) {
	cfg := w.cfg
	list, err := cfg.Open(id, raw)
	if err == nil && cfg.MaxAge > 0 {
		if age, ok := Age(id, cfg.Now()); ok && age > cfg.MaxAge {
			err = errors.New("queued for longer than " + cfg.MaxAge.String())
		}
	}
	if err != nil {
		cfg.Log.Warn(cfg.Name+": queued "+cfg.Item+" dropped", "id", id, "err", err)
		if err := cfg.Queue.Ack(jobs, id); err != nil {
			cfg.Log.Warn(cfg.Name+": acknowledge "+cfg.Item, "err", err)
		}
		done()
		return
	}
	if len(list) == 0 {
		w.ack(jobs, id)
		done()
		return
	}
	var (
		mu     sync.Mutex
		failed bool
		left   = len(list)
	)
	finish := func(ok bool) {
		mu.Lock()
		failed = failed || !ok
		left--
		last, f := left == 0, failed
		mu.Unlock()
		if !last {
			return
		}
		if !f {
			w.ack(jobs, id)
		}
		done()
	}
	for _, j := range list {
		cfg.Lanes.Submit(j.Lane, func() (err error) {
			if ctx.Err() != nil { // stopping: leave it to another worker or the next start
				finish(false)
				return ctx.Err()
			}
			runJob(runners, func() { // the job, and the acknowledgement after the last one
				err = j.Run(jobs)
				if err != nil {
					cfg.Log.Warn(cfg.Name+": queued "+cfg.Item+" not handled; will retry", "err", err)
				}
				finish(err == nil)
			})
			return err
		}, func() { finish(false) })
	}
}

// runnerIdle is how long a kept goroutine waits for the next job before it ends.
const runnerIdle = time.Minute

// runJob runs f on one of runners' kept goroutines (a job goes deep: on a fresh
// goroutine its stack would be grown again every time) and returns once f returned.
func runJob(runners *gopool.Pool, f func()) {
	done := make(chan struct{})
	runners.Go(func() { defer close(done); f() })
	<-done
}

func (w *Worker) ack(ctx context.Context, id string) {
	if err := w.cfg.Queue.Ack(ctx, id); err != nil {
		w.cfg.Log.Warn(w.cfg.Name+": acknowledge "+w.cfg.Item+" (it will be handled again, and deduplicated)", "err", err)
	}
}

// Age returns how long ago an entry with queue id id ("<Unix ms>-<seq>", a stream
// id) was queued; false when id is not of that shape.
func Age(id string, now time.Time) (time.Duration, bool) {
	ms, _, ok := strings.Cut(id, "-")
	n, err := strconv.ParseInt(ms, 10, 64)
	if !ok || err != nil {
		return 0, false
	}
	return now.Sub(time.UnixMilli(n)), true
}

// ConsumerName names this process among the replicas that share a queue: host,
// process id and a random part, so that a restarted process is a new consumer.
func ConsumerName() string {
	host, _ := os.Hostname()
	b := make([]byte, 4)
	rand.Read(b)
	return fmt.Sprintf("%s-%d-%s", host, os.Getpid(), hex.EncodeToString(b))
}
