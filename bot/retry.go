package bot

import (
	"context"
	"time"

	"github.com/cenkalti/backoff/v5"
)

// Backoff returns the one pause policy of every retry in Layan: the first pause about
// initial, each next one twice as long up to max (0: no cap), each drawn at random
// within ±50 % so that replicas that failed together do not retry together. It is
// github.com/cenkalti/backoff's exponential policy: a loop that runs until its context
// ends takes NextBackOff before each pause (see Sleep) and calls Reset after a success;
// an operation tried a bounded number of times goes through Retry.
func Backoff(initial, max time.Duration) *backoff.ExponentialBackOff {
	if max <= 0 {
		max = time.Duration(1<<63 - 1)
	}
	return &backoff.ExponentialBackOff{
		InitialInterval: initial, RandomizationFactor: 0.5, Multiplier: 2, MaxInterval: max,
	}
}

// Retry runs op until it succeeds, tries run out (0: no limit), op returns an error
// made with backoff.Permanent, or ctx ends, pausing as b says between tries and never
// after the last one. notify, when not nil, hears each failure that will be retried
// with the pause before the retry. It returns op's result, or its last error, or
// ctx's cause when ctx ended first.
func Retry[T any](ctx context.Context, b backoff.BackOff, tries uint, op func() (T, error), notify func(err error, next time.Duration)) (T, error) {
	return backoff.Retry(ctx, op, backoff.WithBackOff(b), backoff.WithMaxTries(tries),
		backoff.WithMaxElapsedTime(0), backoff.WithNotify(notify))
}

// Sleep waits for d or until ctx ends, and returns ctx's error in the latter case.
func Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Grace returns a context for work that ctx starts and that should finish rather
// than stop halfway (save a turn, send its replies): it ends grace after ctx does. Call
// release when the work is over.
func Grace(ctx context.Context, grace time.Duration) (work context.Context, release func()) {
	work, cancel := context.WithCancel(context.WithoutCancel(ctx))
	stop := context.AfterFunc(ctx, func() { time.AfterFunc(grace, cancel) })
	return work, func() { stop(); cancel() }
}
