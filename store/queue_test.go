package store_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/layan-id/layan/bot"
	"github.com/layan-id/layan/store"
	"github.com/layan-id/layan/store/storetest"
)

func news(text, chat string) store.Queued {
	return store.Queued{ChatID: chat, Replies: []bot.Reply{{Text: text}}, Lang: "en"}
}

func newsTexts(t *testing.T, raws [][]byte) []string {
	t.Helper()
	var out []string
	for _, raw := range raws {
		q, err := store.DecodeQueued(raw)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, q.Replies[0].Text)
	}
	return out
}

func TestTheOutboxHandsEachMessageToOneReplicaInOrder(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		ctx := context.Background()
		o := b.Store.Outbox()
		for _, n := range []string{"kabar 1", "kabar 2", "kabar 3"} {
			if err := o.Put(ctx, "whatsapp", news(n, "62812")); err != nil {
				t.Fatal(err)
			}
		}
		q := o.Queue("whatsapp")
		ids, raws, err := q.Read(ctx, "replica-a", 2, time.Millisecond)
		if err != nil || !slices.Equal(newsTexts(t, raws), []string{"kabar 1", "kabar 2"}) {
			t.Fatalf("replica a read %q, %v; want the first two in order", newsTexts(t, raws), err)
		}
		_, raws2, _ := q.Read(ctx, "replica-b", 10, time.Millisecond)
		if got := newsTexts(t, raws2); !slices.Equal(got, []string{"kabar 3"}) {
			t.Fatalf("replica b read %q, want only the third", got)
		}
		if err := q.Ack(ctx, ids...); err != nil {
			t.Fatal(err)
		}
		if n, _ := q.Queued(ctx); n != 1 {
			t.Errorf("%d left after two of three were acknowledged, want 1", n)
		}
		if _, raws, _ := q.Read(ctx, "replica-a", 10, time.Millisecond); len(raws) != 0 {
			t.Errorf("read %q again: a message went to two replicas", newsTexts(t, raws))
		}
	})
}

// A replica takes news from the outbox and dies before sending it (it never
// acknowledges). Before, the news was popped and lost; now it stays pending and
// another replica takes it over and delivers it.
func TestNewsAReplicaTookAndNeverSentIsDeliveredByAnother(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		ctx := context.Background()
		o := b.Store.Outbox()
		if err := o.Put(ctx, "whatsapp", news("Pengaduan ADU-1 sedang diproses", "62812")); err != nil {
			t.Fatal(err)
		}
		q := o.Queue("whatsapp")
		if _, raws, err := q.Read(ctx, "dies", 10, time.Millisecond); err != nil || len(raws) != 1 {
			t.Fatalf("the dying replica read %d, %v; want the news", len(raws), err)
		}
		// The dying replica is gone. The live one finds nothing new to read…
		if _, raws, _ := q.Read(ctx, "lives", 10, time.Millisecond); len(raws) != 0 {
			t.Fatalf("read %q while the other replica held it", newsTexts(t, raws))
		}
		// …and nothing to take over while the other may still be working on it…
		if ids, _, err := q.Reclaim(ctx, "lives", 10, time.Hour); err != nil || len(ids) != 0 {
			t.Fatalf("took over %v, %v before the holder was idle for long", ids, err)
		}
		// …but takes it over once the holder has been idle for long enough.
		ids, raws, err := q.Reclaim(ctx, "lives", 10, 0)
		if err != nil || !slices.Equal(newsTexts(t, raws), []string{"Pengaduan ADU-1 sedang diproses"}) {
			t.Fatalf("took over %q, %v; want the news the dead replica held", newsTexts(t, raws), err)
		}
		if err := q.Ack(ctx, ids...); err != nil {
			t.Fatal(err)
		}
		if n, _ := q.Queued(ctx); n != 0 {
			t.Errorf("%d still queued after delivery, want 0", n)
		}
	})
}

// The embedded store keeps no consumer groups across a restart: news taken by the
// process that crashed before sending it is read again after the restart.
func TestOnTheEmbeddedStoreNewsTakenBeforeACrashIsReadAgainAfterIt(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "data")
	e, err := store.StartEmbedded(ctx, dir, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	o := store.New(e.Client(), "layan:").Outbox()
	o.Put(ctx, "whatsapp", news("kabar 1", "62812"))
	o.Put(ctx, "whatsapp", news("kabar 2", "62812"))
	q := o.Queue("whatsapp")
	ids, _, err := q.Read(ctx, "before", 1, time.Millisecond)
	if err != nil || len(ids) != 1 {
		t.Fatalf("read %v, %v", ids, err)
	}
	q.Ack(ctx, ids...) // kabar 1 was sent
	if _, raws, _ := q.Read(ctx, "before", 1, time.Millisecond); len(raws) != 1 {
		t.Fatal("kabar 2 was not read")
	}
	e.Close(ctx) // the process dies before sending kabar 2

	e, err = store.StartEmbedded(ctx, dir, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close(ctx)
	q = store.New(e.Client(), "layan:").Outbox().Queue("whatsapp")
	ids, raws, err := q.Read(ctx, "after", 10, time.Millisecond)
	if err != nil || !slices.Equal(newsTexts(t, raws), []string{"kabar 2"}) {
		t.Fatalf("after the restart read %q, %v; want kabar 2 only (kabar 1 was acknowledged)", newsTexts(t, raws), err)
	}
	if err := q.Ack(ctx, ids...); err != nil {
		t.Fatal(err)
	}
}

// An outbox an older version left as a list is read on, in order, with what is
// queued after the upgrade behind it.
func TestAnOutboxListFromAnOlderVersionIsReadOnInOrder(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		ctx := context.Background()
		rdb := b.Store.Client()
		key := b.Store.Key("outbox", "whatsapp")
		for _, n := range []string{"lama 1", "lama 2"} {
			raw, _ := json.Marshal(news(n, "62812"))
			if err := rdb.RPush(ctx, key, raw).Err(); err != nil {
				t.Fatal(err)
			}
		}
		o := b.Store.Outbox()
		if err := o.Put(ctx, "whatsapp", news("baru", "62812")); err != nil {
			t.Fatal(err)
		}
		_, raws, err := o.Queue("whatsapp").Read(ctx, "w", 10, time.Millisecond)
		if err != nil || !slices.Equal(newsTexts(t, raws), []string{"lama 1", "lama 2", "baru"}) {
			t.Fatalf("read %q, %v; want the old list's messages, then the new one", newsTexts(t, raws), err)
		}
	})
}
