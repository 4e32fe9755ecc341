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
