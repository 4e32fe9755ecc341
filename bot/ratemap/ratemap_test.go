package ratemap

import (
	"testing"
	"testing/synctest"
	"time"

	"golang.org/x/time/rate"
)

func TestEachKeyHasItsOwnBucket(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m := New(rate.Every(10*time.Second), 2)
		if !m.Allow("a") || !m.Allow("a") {
			t.Fatal("a burst of 2 was refused")
		}
		if m.Allow("a") {
			t.Error("a third event within the burst's time was allowed")
		}
		if !m.Allow("b") {
			t.Error("another key was held back by the first one's use")
		}
		time.Sleep(10 * time.Second)
		if !m.Allow("a") {
			t.Error("a was refused after its bucket had refilled one token")
		}
	})
}

func TestBucketsFullAgainAreForgottenAndNothingChanges(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m := New(rate.Every(10*time.Second), 3) // full again 30 s after its last use
		for i := range 1000 {
			m.Allow(string(rune('a' + i)))
		}
		m.Allow("kept")
		m.Allow("kept")
		m.Allow("kept")
		time.Sleep(40 * time.Second)
		m.Allow("kept") // used again, and emptied
		m.Allow("kept")
		m.Allow("kept")
		time.Sleep(25 * time.Second)
		m.Allow("new")
		if n := m.Len(); n != 2 {
			t.Errorf("%d buckets kept, want 2 (the one used 25 s ago, not yet full again, and the new one)", n)
		}
		if m.Allow("kept") && m.Allow("kept") && m.Allow("kept") {
			t.Error("the kept bucket was replaced by a full one: it allowed three at once")
		}
	})
}

func TestABoundedMapSharesOneBucketBeyondItsSize(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m := Bounded(rate.Every(time.Minute), 1, 2)
		if m.Peek("a") != nil {
			t.Error("Peek made a bucket for a key never used")
		}
		m.Allow("a")
		m.Allow("b")
		if !m.Allow("c") {
			t.Fatal("the first key beyond the size was refused: the shared bucket should be full")
		}
		if m.Allow("d") {
			t.Error("a fourth key got a bucket of its own: beyond the size, keys share one")
		}
		if m.Peek("e") == nil || m.Peek("e").TokensAt(time.Now()) >= 1 {
			t.Error("Peek of a new key in a full map does not show the shared, spent bucket")
		}
		if m.Len() != 3 {
			t.Errorf("%d buckets, want the 2 of the size and the shared one", m.Len())
		}
		time.Sleep(2 * time.Minute) // all full again: forgotten at the next sweep
		if !m.Allow("f") || m.Len() != 1 {
			t.Errorf("after the buckets refilled, a new key is refused or the old ones stayed (%d)", m.Len())
		}
	})
}
