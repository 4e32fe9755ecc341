package store_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/layan-id/layan/store"
	"github.com/layan-id/layan/store/storetest"
)

func TestStaffSessions(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		ctx := context.Background()
		ss := b.Store.StaffSessions()
		now := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
		const idle, max = 30 * time.Minute, 12 * time.Hour
		tok, sess, err := ss.Create(ctx, "budi", now, idle, max)
		if err != nil {
			t.Fatal(err)
		}
		if len(tok) < 40 || len(sess.CSRF) < 40 || sess.CSRF == tok {
			t.Fatalf("token %q and CSRF token %q: want two different long random tokens", tok, sess.CSRF)
		}
		got, err := ss.Get(ctx, tok, now.Add(time.Minute), idle, max)
		if err != nil || got.Name != "budi" || got.CSRF != sess.CSRF {
			t.Fatalf("get: %+v %v", got, err)
		}
		if _, err := ss.Get(ctx, tok+"x", now, idle, max); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("a wrong token finds a session: %v", err)
		}
		if _, err := ss.Get(ctx, tok, now.Add(max+time.Second), idle, max); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("a session is still good after its longest life: %v", err)
		}
		if _, err := ss.Get(ctx, tok, now, idle, max); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("a session past its longest life is kept: %v", err)
		}

		t.Run("the store holds no token in clear", func(t *testing.T) {
			tok, _, err := ss.Create(ctx, "ani", now, idle, max)
			if err != nil {
				t.Fatal(err)
			}
			var dump strings.Builder
			if _, err := store.Export(ctx, b.Store.Client(), b.Store.Prefix(), &dump); err != nil {
				t.Fatal(err)
			}
			if strings.Contains(dump.String(), tok) {
				t.Error("a session token is stored as it is")
			}
		})

		t.Run("ending all sessions of an account keeps the one asked", func(t *testing.T) {
			a, _, _ := ss.Create(ctx, "sari", now, idle, max)
			c, _, _ := ss.Create(ctx, "sari", now, idle, max)
			other, _, _ := ss.Create(ctx, "eko", now, idle, max)
			if err := ss.DeleteAll(ctx, "sari", c); err != nil {
				t.Fatal(err)
			}
			if _, err := ss.Get(ctx, a, now, idle, max); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("another session of the account survives: %v", err)
			}
			if _, err := ss.Get(ctx, c, now, idle, max); err != nil {
				t.Errorf("the session kept is gone: %v", err)
			}
			if _, err := ss.Get(ctx, other, now, idle, max); err != nil {
				t.Errorf("another account's session is gone: %v", err)
			}
			if err := ss.Delete(ctx, c); err != nil {
				t.Fatal(err)
			}
			if _, err := ss.Get(ctx, c, now, idle, max); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("a signed-out session is still good: %v", err)
			}
		})

		if b.Mini != nil {
			t.Run("an idle session expires and a used one does not", func(t *testing.T) {
				used, _, _ := ss.Create(ctx, "dewi", now, idle, max)
				unused, _, _ := ss.Create(ctx, "dewi", now, idle, max)
				b.Mini.FastForward(20 * time.Minute)
				if _, err := ss.Get(ctx, used, now.Add(20*time.Minute), idle, max); err != nil {
					t.Fatal(err)
				}
				b.Mini.FastForward(20 * time.Minute)
				if _, err := ss.Get(ctx, used, now.Add(40*time.Minute), idle, max); err != nil {
					t.Errorf("a session used 20 minutes ago expired: %v", err)
				}
				if _, err := ss.Get(ctx, unused, now.Add(40*time.Minute), idle, max); !errors.Is(err, store.ErrNotFound) {
					t.Errorf("a session idle for 40 minutes is still good: %v", err)
				}
			})
		}
	})
}
