package bot

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"
)

func TestRetryStopsWhenTheContextEndsAndNeverPausesAfterTheLastTry(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fail := errors.New("store away")
		tries := 0
		start := time.Now()
		_, err := Retry(context.Background(), Backoff(time.Second, 0), 3, func() (int, error) { tries++; return 0, fail }, nil)
		if !errors.Is(err, fail) || tries != 3 {
			t.Errorf("Retry = %v after %d tries, want the last error after 3", err, tries)
		}
		// Two pauses of about 1 and 2 s (±50 %), none after the third try.
		if took := time.Since(start); took < 1500*time.Millisecond || took > 4500*time.Millisecond {
			t.Errorf("three tries took %v, want two pauses of about 1 and 2 s", took)
		}

		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(10*time.Second, cancel)
		start, tries = time.Now(), 0
		_, err = Retry(ctx, Backoff(time.Second, 4*time.Second), 0, func() (int, error) { tries++; return 0, fail }, nil)
		if !errors.Is(err, context.Canceled) || time.Since(start) != 10*time.Second {
			t.Errorf("Retry = %v after %v, want the cancellation the moment it came (10 s)", err, time.Since(start))
		}
		if tries < 3 {
			t.Errorf("%d tries in 10 s, want a try after each pause", tries)
		}

		n, err := Retry(context.Background(), Backoff(time.Second, 0), 0, func() (int, error) {
			if tries = tries + 1; tries < 100 {
				return 0, fail
			}
			return 7, nil
		}, nil)
		if n != 7 || err != nil {
			t.Errorf("Retry without a limit = %d, %v; want the result once it succeeds", n, err)
		}
	})
}

func TestBackoffDoublesUpToItsCap(t *testing.T) {
	b := Backoff(time.Second, 8*time.Second)
	for i, want := range []time.Duration{1, 2, 4, 8, 8, 8} {
		want *= time.Second
		if got := b.NextBackOff(); got < want/2 || got > want*3/2 {
			t.Errorf("pause %d = %v, want %v ± 50 %%", i+1, got, want)
		}
	}
	b.Reset()
	if got := b.NextBackOff(); got > 1500*time.Millisecond {
		t.Errorf("after Reset the pause is %v, want about 1 s again", got)
	}
}

func TestGraceOutlivesItsContextByTheGraceOnly(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		work, release := Grace(ctx, 10*time.Second)
		defer release()
		time.Sleep(time.Hour)
		if work.Err() != nil {
			t.Fatal("the work's context ended while ctx still runs")
		}
		cancel()
		time.Sleep(10*time.Second - time.Nanosecond)
		if work.Err() != nil {
			t.Fatal("the work's context ended before its grace was over")
		}
		time.Sleep(time.Nanosecond)
		synctest.Wait() // the grace's timer fires at this very instant
		if work.Err() == nil {
			t.Error("the work's context outlived ctx by more than its grace")
		}

		_, release2 := Grace(context.Background(), time.Second)
		release2()
	})
}
