package store_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/layan-id/layan/bot"
	"github.com/layan-id/layan/store"
	"github.com/layan-id/layan/store/storetest"
)

func texts(rs []bot.Reply) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.Text
	}
	return out
}

// readAll reads everything pushed after cursor, as a live stream does, and marks it
// delivered.
func readAll(t *testing.T, ctx context.Context, w *store.WebChats, id string, cursor int64) ([]string, int64) {
	t.Helper()
	var got []string
	for {
		rs, next, err := w.Pending(ctx, id, cursor, 50)
		if err != nil {
			t.Fatal(err)
		}
		if err := w.Delivered(ctx, id, next); err != nil {
			t.Fatal(err)
		}
		got = append(got, texts(rs)...)
		if len(rs) < 50 {
			return got, next
		}
		cursor = next
	}
}

func TestTwoReadersOfOneInboxEachGetEveryReplyOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		w := b.Store.WebChats()
		const id, n = "two-tabs", 120
		var want []string
		for i := range n {
			want = append(want, fmt.Sprintf("Balasan %d", i))
		}

		// Two live streams (two tabs) read while replies are pushed; each keeps its
		// own cursor and marks what it showed as delivered, as the web chat does.
		ready := make(chan struct{}, 2)
		got := make([][]string, 2)
		var wg sync.WaitGroup
		for tab := range 2 {
			ids, stop, err := w.Pushes(ctx)
			if err != nil {
				t.Fatal(err)
			}
			wg.Go(func() {
				defer stop()
				// A stream fixes where it starts when it opens.
				rs, cursor, err := w.Pending(ctx, id, store.FromDelivered, 7)
				if err != nil {
					t.Error(err)
					return
				}
				ready <- struct{}{}
				for {
					if err := w.Delivered(ctx, id, cursor); err != nil {
						t.Error(err)
						return
					}
					if len(got[tab]) >= n {
						return
					}
					if len(rs) == 0 {
						select {
						case <-ids:
						case <-ctx.Done():
							return
						}
					}
					var next int64
					rs, next, err = w.Pending(ctx, id, cursor, 7)
					if err != nil {
						t.Error(err)
						return
					}
					got[tab] = append(got[tab], texts(rs)...)
					cursor = next
				}
			})
		}
		<-ready
		<-ready
		for _, text := range want {
			if err := w.Push(ctx, id, bot.Reply{Text: text}); err != nil {
				t.Fatal(err)
			}
		}
		wg.Wait()
		for tab, g := range got {
			if !slices.Equal(g, want) {
				t.Errorf("tab %d got %d replies, want each of the %d once and in order; first differences: %q",
					tab+1, len(g), n, firstDiff(g, want))
			}
		}

		t.Run("a plain look afterwards finds nothing new", func(t *testing.T) {
			if rs, _, _ := w.Pending(ctx, id, store.FromDelivered, 50); len(rs) != 0 {
				t.Errorf("after both tabs showed every reply, the inbox still offers %q", texts(rs))
			}
		})
	})
}

func firstDiff(got, want []string) []string {
	for i := range min(len(got), len(want)) {
		if got[i] != want[i] {
			return []string{got[i], want[i]}
		}
	}
	if len(got) > len(want) {
		return got[len(want):min(len(got), len(want)+2)]
	}
	return want[len(got):min(len(want), len(got)+2)]
}

func TestInboxReplies(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		ctx := context.Background()
		now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
		w := b.Store.WebChats().WithClock(func() time.Time { return now })
		push := func(t *testing.T, id string, texts ...string) {
			t.Helper()
			for _, s := range texts {
				if err := w.Push(ctx, id, bot.Reply{Text: s}); err != nil {
					t.Fatal(err)
				}
			}
		}

		t.Run("what was delivered is not given again from the delivered mark", func(t *testing.T) {
			push(t, "a", "satu", "dua")
			got, _ := readAll(t, ctx, w, "a", store.FromDelivered)
			push(t, "a", "tiga")
			again, _ := readAll(t, ctx, w, "a", store.FromDelivered)
			if !slices.Equal(got, []string{"satu", "dua"}) || !slices.Equal(again, []string{"tiga"}) {
				t.Errorf("first look %q, second %q; want [satu dua] then [tiga]", got, again)
			}
		})

		t.Run("replies read but not marked delivered are given again", func(t *testing.T) {
			push(t, "b", "satu")
			w.Pending(ctx, "b", store.FromDelivered, 50) // the answer never reached the person
			if got, _ := readAll(t, ctx, w, "b", store.FromDelivered); !slices.Equal(got, []string{"satu"}) {
				t.Errorf("the next look got %q, want [satu]", got)
			}
		})

		t.Run("the delivered mark never moves back", func(t *testing.T) {
			push(t, "c", "satu", "dua")
			_, end := readAll(t, ctx, w, "c", store.FromDelivered)
			if err := w.Delivered(ctx, "c", end-1); err != nil { // a slower tab
				t.Fatal(err)
			}
			if rs, _, _ := w.Pending(ctx, "c", store.FromDelivered, 50); len(rs) != 0 {
				t.Errorf("a slower tab's mark made %q pending again", texts(rs))
			}
		})

		t.Run("a tab that reconnects resumes from its own cursor", func(t *testing.T) {
			push(t, "d", "satu")
			_, tabB := readAll(t, ctx, w, "d", store.FromDelivered) // both tabs saw satu
			push(t, "d", "dua", "tiga")
			readAll(t, ctx, w, "d", tabB) // tab A shows them; tab B is offline meanwhile
			now = now.Add(5 * time.Minute)
			if got, _ := readAll(t, ctx, w, "d", tabB); !slices.Equal(got, []string{"dua", "tiga"}) {
				t.Errorf("tab B back five minutes later got %q, want [dua tiga]", got)
			}
		})

		t.Run("delivered replies are dropped some minutes later, undelivered ones kept", func(t *testing.T) {
			push(t, "e", "satu", "dua")
			readAll(t, ctx, w, "e", store.FromDelivered)
			push(t, "e", "tiga")
			for range 2 {
				now = now.Add(11 * time.Minute)
				if err := w.Delivered(ctx, "e", 0); err != nil {
					t.Fatal(err)
				}
			}
			if got, _ := readAll(t, ctx, w, "e", 0); !slices.Equal(got, []string{"tiga"}) {
				t.Errorf("from the start the inbox holds %q, want only the undelivered [tiga]", got)
			}
		})

		t.Run("nobody reading keeps the newest 200", func(t *testing.T) {
			for i := range 230 {
				push(t, "f", fmt.Sprint(i))
			}
			got, _ := readAll(t, ctx, w, "f", store.FromDelivered)
			if len(got) != 200 || got[0] != "30" || got[199] != "229" {
				t.Errorf("got %d replies from %q, want the newest 200 (30 to 229)", len(got), firstDiff(got, nil))
			}
		})

		t.Run("replies an older version left in its list are delivered first", func(t *testing.T) {
			rdb := b.Store.Client()
			old := b.Store.Prefix() + "{c:webchat:g}:inbox"
			rdb.RPush(ctx, old, `{"text":"lama 1"}`, `{"text":"lama 2"}`)
			push(t, "g", "baru")
			if got, _ := readAll(t, ctx, w, "g", store.FromDelivered); !slices.Equal(got, []string{"lama 1", "lama 2", "baru"}) {
				t.Errorf("got %q, want the old replies then the new one", got)
			}
			if n, _ := rdb.Exists(ctx, old).Result(); n != 0 {
				t.Error("the old list is still there")
			}
		})
	})
}
