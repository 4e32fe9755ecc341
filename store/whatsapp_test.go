package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/layan-id/layan/store/storetest"
)

// pass lets d go by for the store's keys: miniredis's clock is moved, real Redis is
// waited for.
func pass(b storetest.Backend, d time.Duration) {
	if b.Mini != nil {
		b.Mini.FastForward(d)
		return
	}
	time.Sleep(d)
}

func TestWhatsAppConnectionLock(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		ctx := context.Background()
		w := b.Store.WhatsApp()
		const ttl = 400 * time.Millisecond

		take := func(t *testing.T, token string) bool {
			t.Helper()
			ok, err := w.TakeConnLock(ctx, token, ttl)
			if err != nil {
				t.Fatal(err)
			}
			return ok
		}
		renew := func(t *testing.T, token string) bool {
			t.Helper()
			ok, err := w.RenewConnLock(ctx, token, ttl)
			if err != nil {
				t.Fatal(err)
			}
			return ok
		}

		t.Run("the first replica takes the free lock and a second one is refused", func(t *testing.T) {
			if !take(t, "replica-a") {
				t.Fatal("replica-a could not take a free lock")
			}
			if take(t, "replica-b") {
				t.Fatal("replica-b took a lock replica-a holds")
			}
			if !take(t, "replica-a") {
				t.Error("taking a lock one already holds reported false")
			}
			if h, _ := w.ConnLockHolder(ctx); h != "replica-a" {
				t.Errorf("holder = %q, want replica-a", h)
			}
		})

		t.Run("renewing keeps the lock past its first time to live", func(t *testing.T) {
			for range 3 {
				pass(b, ttl/2)
				if !renew(t, "replica-a") {
					t.Fatal("replica-a could not renew its own lock")
				}
			}
			// 1.5 ttl have passed since the lock was taken: only the renewals kept it.
			if take(t, "replica-b") {
				t.Fatal("replica-b took a lock that replica-a kept renewing")
			}
		})

		t.Run("another replica cannot renew a lock it does not hold", func(t *testing.T) {
			if renew(t, "replica-b") {
				t.Fatal("replica-b renewed replica-a's lock")
			}
		})

		t.Run("a holder that stops renewing loses the lock after its time to live and another takes over", func(t *testing.T) {
			pass(b, ttl+100*time.Millisecond)
			if h, _ := w.ConnLockHolder(ctx); h != "" {
				t.Fatalf("holder = %q after the time to live, want none", h)
			}
			if !take(t, "replica-b") {
				t.Fatal("replica-b could not take over an expired lock")
			}
			if renew(t, "replica-a") {
				t.Fatal("the former holder renewed a lock now held by replica-b")
			}
		})

		t.Run("releasing frees the lock at once, and only its holder can release it", func(t *testing.T) {
			if err := w.DropConnLock(ctx, "replica-a"); err != nil {
				t.Fatal(err)
			}
			if h, _ := w.ConnLockHolder(ctx); h != "replica-b" {
				t.Fatalf("a non-holder's release changed the holder to %q", h)
			}
			if err := w.DropConnLock(ctx, "replica-b"); err != nil {
				t.Fatal(err)
			}
			if !take(t, "replica-c") {
				t.Fatal("replica-c could not take a released lock")
			}
			w.DropConnLock(ctx, "replica-c")
		})

		t.Run("an empty token is refused", func(t *testing.T) {
			if _, err := w.TakeConnLock(ctx, "", ttl); err == nil {
				t.Fatal("TakeConnLock with an empty token succeeded")
			}
		})
	})
}
