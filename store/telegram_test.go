package store_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/layan-id/layan/store/storetest"
)

func TestTelegramQueue(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		ctx := context.Background()
		q := b.Store.Telegram()

		t.Run("updates are read in the order they were queued and each by one worker", func(t *testing.T) {
			for _, u := range []string{`{"update_id":1}`, `{"update_id":2}`, `{"update_id":3}`} {
				if err := q.Enqueue(ctx, []byte(u)); err != nil {
					t.Fatal(err)
				}
			}
			ids, raws, err := q.Read(ctx, "w1", 2, 10*time.Millisecond)
			if err != nil {
				t.Fatal(err)
			}
			if got := strs(raws); !slices.Equal(got, []string{`{"update_id":1}`, `{"update_id":2}`}) {
				t.Fatalf("w1 read %q, want the first two updates", got)
			}
			_, raws2, err := q.Read(ctx, "w2", 10, 10*time.Millisecond)
			if err != nil {
				t.Fatal(err)
			}
			if got := strs(raws2); !slices.Equal(got, []string{`{"update_id":3}`}) {
				t.Fatalf("w2 read %q, want only the third update", got)
			}
			if err := q.Ack(ctx, ids...); err != nil {
				t.Fatal(err)
			}
			if n, _ := q.Queued(ctx); n != 1 {
				t.Errorf("%d updates queued after acknowledging two of three, want 1", n)
			}
		})

		t.Run("an update a crashed worker took is claimed again once it has been idle long enough", func(t *testing.T) {
			ids, _, err := q.Reclaim(ctx, "w3", 10, time.Hour)
			if err != nil {
				t.Fatal(err)
			}
			if len(ids) != 0 {
				t.Fatalf("reclaimed %v before they were idle for an hour", ids)
			}
			time.Sleep(30 * time.Millisecond)
			ids, raws, err := q.Reclaim(ctx, "w3", 10, 20*time.Millisecond)
			if err != nil {
				t.Fatal(err)
			}
			if got := strs(raws); !slices.Equal(got, []string{`{"update_id":3}`}) {
				t.Fatalf("reclaimed %q, want the update w2 never acknowledged", got)
			}
			if err := q.Ack(ctx, ids...); err != nil {
				t.Fatal(err)
			}
			if n, _ := q.Queued(ctx); n != 0 {
				t.Errorf("%d updates queued after all were acknowledged, want 0", n)
			}
		})

		t.Run("reading an empty queue waits briefly and returns nothing", func(t *testing.T) {
			start := time.Now()
			ids, _, err := q.Read(ctx, "w1", 10, 50*time.Millisecond)
			if err != nil || len(ids) != 0 {
				t.Fatalf("Read = %v, %v; want nothing", ids, err)
			}
			if time.Since(start) > 5*time.Second {
				t.Errorf("Read of an empty queue blocked for %v", time.Since(start))
			}
		})

		t.Run("a queue whose consumer group was lost (a restored backup) is read again from its start", func(t *testing.T) {
			if err := q.Enqueue(ctx, []byte(`{"update_id":4}`)); err != nil {
				t.Fatal(err)
			}
			if _, _, err := q.Read(ctx, "w1", 10, 10*time.Millisecond); err != nil {
				t.Fatal(err)
			}
			rdb := b.Store.Client()
			if err := rdb.XGroupDestroy(ctx, b.Store.Prefix()+"tg:updates", "workers").Err(); err != nil {
				t.Fatal(err)
			}
			_, raws, err := q.Read(ctx, "w1", 10, 10*time.Millisecond)
			if err != nil {
				t.Fatal(err)
			}
			if got := strs(raws); !slices.Equal(got, []string{`{"update_id":4}`}) {
				t.Fatalf("read %q after the group was lost, want the unhandled update again", got)
			}
		})
	})
}

func TestTelegramPollerLease(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		ctx := context.Background()
		q := b.Store.Telegram()
		steps := []struct {
			name  string
			do    func() (bool, error)
			want  bool
			sleep time.Duration
		}{
			{"the first process takes the free lease", func() (bool, error) { return q.TakeLease(ctx, "a", time.Minute) }, true, 0},
			{"a second process does not get it while it is held", func() (bool, error) { return q.TakeLease(ctx, "b", time.Minute) }, false, 0},
			{"the holder renews it", func() (bool, error) { return q.TakeLease(ctx, "a", 50*time.Millisecond) }, true, 0},
			{"another process takes it once it has expired", func() (bool, error) { return q.TakeLease(ctx, "b", time.Minute) }, true, 100 * time.Millisecond},
			{"the former holder cannot drop the new holder's lease", func() (bool, error) {
				if err := q.DropLease(ctx, "a"); err != nil {
					return false, err
				}
				return q.TakeLease(ctx, "a", time.Minute)
			}, false, 0},
			{"a dropped lease is free at once", func() (bool, error) {
				if err := q.DropLease(ctx, "b"); err != nil {
					return false, err
				}
				return q.TakeLease(ctx, "a", time.Minute)
			}, true, 0},
		}
		for _, s := range steps {
			t.Run(s.name, func(t *testing.T) {
				if s.sleep > 0 {
					time.Sleep(s.sleep)
					if b.Mini != nil {
						b.Mini.FastForward(s.sleep)
					}
				}
				got, err := s.do()
				if err != nil {
					t.Fatal(err)
				}
				if got != s.want {
					t.Errorf("got the lease = %v, want %v", got, s.want)
				}
			})
		}
	})
}

func TestTelegramOptionKeys(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		ctx := context.Background()
		q := b.Store.Telegram()
		long := "faq:entry:persyaratan-izin-usaha-mikro-kecil-melalui-oss-berbasis-risiko"
		if err := q.SaveOption(ctx, "~abc", long, time.Hour); err != nil {
			t.Fatal(err)
		}
		if got, err := q.Option(ctx, "~abc"); err != nil || got != long {
			t.Errorf("Option(~abc) = %q, %v; want the long id", got, err)
		}
		if got, err := q.Option(ctx, "~unknown"); err != nil || got != "" {
			t.Errorf("Option(~unknown) = %q, %v; want empty", got, err)
		}
	})
}

func TestTelegramRemembersWhatAMessageIsAbout(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		ctx := context.Background()
		q := b.Store.Telegram()
		if err := q.SaveAbout(ctx, -100123, 42, "handoff:h1", time.Hour); err != nil {
			t.Fatal(err)
		}
		if got, err := q.About(ctx, -100123, 42); err != nil || got != "handoff:h1" {
			t.Errorf("About(-100123, 42) = %q, %v; want handoff:h1", got, err)
		}
		// The same message number in another chat is another message.
		if got, err := q.About(ctx, -100999, 42); err != nil || got != "" {
			t.Errorf("About(-100999, 42) = %q, %v; want nothing", got, err)
		}
		if b.Mini != nil {
			b.Mini.FastForward(2 * time.Hour)
			if got, err := q.About(ctx, -100123, 42); err != nil || got != "" {
				t.Errorf("after its time About = %q, %v; want nothing", got, err)
			}
		}
	})
}

func strs(bs [][]byte) []string {
	out := make([]string, len(bs))
	for i, b := range bs {
		out[i] = string(b)
	}
	return out
}
