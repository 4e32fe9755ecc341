package rungroup_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/layan-id/layan/rungroup"
)

// journal records what the parts did, in order.
type journal struct {
	mu    sync.Mutex
	lines []string
}

func (j *journal) add(s string) {
	j.mu.Lock()
	j.lines = append(j.lines, s)
	j.mu.Unlock()
}

func (j *journal) String() string {
	j.mu.Lock()
	defer j.mu.Unlock()
	return strings.Join(j.lines, ", ")
}

// service is a part that serves until told to stop, then takes a while to finish
// what it has in hand, and reports err.
func service(j *journal, name string, finishing time.Duration, err error) func(context.Context) error {
	return func(ctx context.Context) error {
		<-ctx.Done()
		j.add(name + " told to stop")
		time.Sleep(finishing)
		j.add(name + " stopped")
		return err
	}
}

func TestPartsStopInReverseOrderEachAfterTheNextHasStopped(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var j journal
		var g rungroup.Group
		g.Add("store", service(&j, "store", time.Millisecond, nil))
		g.Add("receiver", service(&j, "receiver", 5*time.Second, nil)) // a message in hand
		g.Add("http", service(&j, "http", time.Second, nil))
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error)
		go func() { done <- g.Run(ctx) }()
		synctest.Wait()
		if j.String() != "" {
			t.Fatalf("before the signal: %s", j.String())
		}
		cancel()
		if err := <-done; err != nil {
			t.Fatalf("Run = %v, want nil", err)
		}
		want := "http told to stop, http stopped, receiver told to stop, receiver stopped, store told to stop, store stopped"
		if j.String() != want {
			t.Errorf("stopping went\n%s\nwant\n%s", j.String(), want)
		}
	})
}

func TestAPartThatEndsOnItsOwnStopsTheGroup(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var j journal
		var g rungroup.Group
		g.Add("store", service(&j, "store", 0, nil))
		g.Add("http", func(ctx context.Context) error {
			time.Sleep(time.Second)
			j.add("http failed")
			return errors.New("listener closed")
		})
		g.Add("telegram", service(&j, "telegram", 0, nil))
		err := g.Run(context.Background())
		if err == nil || err.Error() != "http: listener closed" {
			t.Errorf("Run = %v, want the failure named after its part", err)
		}
		want := "http failed, telegram told to stop, telegram stopped, store told to stop, store stopped"
		if j.String() != want {
			t.Errorf("stopping went\n%s\nwant\n%s", j.String(), want)
		}
	})
}

// A part that fails as it stops (a store that cannot close cleanly) makes Run fail,
// so that the process exits non-zero; the parts before it are still stopped.
func TestAFailureOnTheWayOutIsReported(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var j journal
		var g rungroup.Group
		g.Add("lock", service(&j, "lock", 0, nil))
		g.Add("store", service(&j, "store", 0, errors.New("journal: fsync: input/output error")))
		g.Add("whatsapp", service(&j, "whatsapp", 0, errors.New("release lock: timeout")))
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		err := g.Run(ctx)
		if err == nil || !strings.Contains(err.Error(), "store: journal: fsync: input/output error") ||
			!strings.Contains(err.Error(), "whatsapp: release lock: timeout") {
			t.Errorf("Run = %v, want both failures, each named", err)
		}
		if !strings.HasSuffix(j.String(), "lock stopped") {
			t.Errorf("stopping went %s: the first part was not stopped last", j.String())
		}
	})
}

func TestEveryRunsAtOnceThenAtItsPaceUntilStopped(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var mu sync.Mutex
		var at []time.Duration
		start := time.Now()
		run := rungroup.Every(time.Minute, func(ctx context.Context) {
			mu.Lock()
			at = append(at, time.Since(start))
			mu.Unlock()
		})
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error)
		go func() { done <- run(ctx) }()
		time.Sleep(3*time.Minute + 30*time.Second)
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		want := []time.Duration{0, time.Minute, 2 * time.Minute, 3 * time.Minute}
		mu.Lock()
		defer mu.Unlock()
		if len(at) != len(want) {
			t.Fatalf("ran at %v, want %v", at, want)
		}
		for i := range want {
			if at[i] != want[i] {
				t.Errorf("ran at %v, want %v", at, want)
				break
			}
		}
	})
}
