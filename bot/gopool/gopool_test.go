package gopool_test

import (
	"runtime"
	"testing"
	"testing/synctest"
	"time"

	"github.com/layan-id/layan/bot/gopool"
)

// run runs f on p and waits until it returned.
func run(p *gopool.Pool, f func()) {
	done := make(chan struct{})
	p.Go(func() { defer close(done); f() })
	<-done
}

// TestAKeptGoroutineRunsTheNextFunction: functions run one after another reuse the
// goroutine that waits for work; it ends after waiting Idle, or at Close.
func TestAKeptGoroutineRunsTheNextFunction(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const idle = time.Minute
		p := gopool.New(idle)
		before := runtime.NumGoroutine()
		ran := 0
		for range 5 {
			run(p, func() { ran++ })
			synctest.Wait()
		}
		if ran != 5 {
			t.Fatalf("ran %d functions, want 5", ran)
		}
		if got := runtime.NumGoroutine() - before; got != 1 {
			t.Errorf("%d goroutines kept after five functions in a row, want 1", got)
		}

		time.Sleep(idle + time.Second)
		synctest.Wait()
		if got := runtime.NumGoroutine() - before; got != 0 {
			t.Errorf("%d goroutines kept after waiting longer than idle, want 0", got)
		}

		// Two at once: two goroutines, both ended by Close.
		release := make(chan struct{})
		started := make(chan struct{}, 2)
		for range 2 {
			p.Go(func() { started <- struct{}{}; <-release })
		}
		<-started
		<-started
		if got := runtime.NumGoroutine() - before; got != 2 {
			t.Errorf("%d goroutines for two functions at once, want 2", got)
		}
		close(release)
		synctest.Wait()
		p.Close()
		synctest.Wait()
		if got := runtime.NumGoroutine() - before; got != 0 {
			t.Errorf("%d goroutines kept after Close, want 0", got)
		}
		run(p, func() { ran++ }) // still works after Close
		synctest.Wait()
		if ran != 6 || runtime.NumGoroutine() != before {
			t.Errorf("after Close: ran %d (want 6), %d goroutines left (want 0)", ran, runtime.NumGoroutine()-before)
		}
	})
}
