package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/layan-id/layan/store/storetest"
)

func TestWhatsAppCloudState(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		ctx := context.Background()
		w := b.Store.WhatsAppCloud()
		t.Run("a queued payload stays until it is acknowledged", func(t *testing.T) {
			if err := w.Enqueue(ctx, []byte(`{"object":"whatsapp_business_account"}`)); err != nil {
				t.Fatal(err)
			}
			ids, raws, err := w.Read(ctx, "a", 10, time.Millisecond)
			if err != nil || len(ids) != 1 || string(raws[0]) != `{"object":"whatsapp_business_account"}` {
				t.Fatalf("read %v %q %v", ids, raws, err)
			}
			if ids2, _, _ := w.Read(ctx, "b", 10, time.Millisecond); len(ids2) != 0 {
				t.Errorf("a second worker got a payload already taken")
			}
			if ids3, _, _ := w.Reclaim(ctx, "b", 10, 0); len(ids3) != 1 {
				t.Errorf("a dead worker's payload was not taken over")
			}
			w.Ack(ctx, ids...)
			if n, _ := w.Queued(ctx); n != 0 {
				t.Errorf("%d left after the acknowledgement", n)
			}
		})
		t.Run("the window keeps the latest message time, whatever order payloads come in", func(t *testing.T) {
			now := time.Now()
			w.NoteInbound(ctx, "6281234567890", now.Add(-time.Hour), now)
			w.NoteInbound(ctx, "6281234567890", now.Add(-2*time.Hour), now)
			last, ok, err := w.LastInbound(ctx, "6281234567890")
			if err != nil || !ok || last.UnixMilli() != now.Add(-time.Hour).UnixMilli() {
				t.Errorf("last %v %v %v", last, ok, err)
			}
			w.CloseWindow(ctx, "6281234567890")
			if _, ok, _ := w.LastInbound(ctx, "6281234567890"); ok {
				t.Error("still open after closing")
			}
			w.NoteInbound(ctx, "6281200000002", now.Add(-26*time.Hour), now)
			if _, ok, _ := w.LastInbound(ctx, "6281200000002"); ok {
				t.Error("a message 26 hours old opened a window")
			}
		})
		t.Run("a broadcast message's statuses are counted once each; failures are listed", func(t *testing.T) {
			w.NoteSent(ctx, "wamid.1", "B1:100")
			for range 2 {
				w.RecordStatus(ctx, "wamid.1", "delivered", "abc", 0, "", time.Now())
			}
			w.RecordStatus(ctx, "wamid.2", "failed", "def", 131026, "Message undeliverable", time.Now())
			got, err := w.RunStatuses(ctx, "B1:100")
			if err != nil || got["sent"] != 1 || got["delivered"] != 1 {
				t.Errorf("statuses %v %v", got, err)
			}
			f, _ := w.Failures(ctx, 10)
			if len(f) != 1 || f[0].Code != 131026 || f[0].Conv != "def" {
				t.Errorf("failures %+v", f)
			}
		})
	})
}
