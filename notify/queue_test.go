package notify_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/layan-id/layan/bot"
	"github.com/layan-id/layan/domain"
	"github.com/layan-id/layan/notify"
	"github.com/layan-id/layan/store"
	"github.com/layan-id/layan/store/storetest"
)

// A replica takes news from the outbox and dies before sending it (it never
// acknowledges). Before, the outbox was popped and the news lost; now the replica
// that drains takes it over once it has waited ClaimAfter, and sends each message once.
func TestOutboxNewsADeadReplicaTookIsSentByTheOneThatDrains(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		catalog := texts(t)
		ctx := context.Background()
		outbox := b.Store.Outbox()
		for _, q := range []store.Queued{
			{ChatID: "6281200000001", Replies: []bot.Reply{{Text: "Pengaduan ADU-1 sedang diproses."}}},
			{ChatID: "6281200000002", Replies: []bot.Reply{{Text: "Pengaduan ADU-2 selesai."}}},
		} {
			if err := outbox.Put(ctx, "whatsapp", q); err != nil {
				t.Fatal(err)
			}
		}
		if _, raws, err := outbox.Queue("whatsapp").Read(ctx, "dies", 1, time.Millisecond); err != nil || len(raws) != 1 {
			t.Fatalf("the dying replica took %d, %v", len(raws), err)
		}

		wa := newPhone("whatsapp", catalog)
		holder := bot.NewSender(quiet())
		holder.Register(wa, bot.Limits{})
		n := newNotifier(t, notify.Config{Engine: &engine{}, Sender: holder, Texts: catalog, Outbox: outbox,
			Channels: []string{"whatsapp"}, ClaimAfter: 50 * time.Millisecond})
		n.DrainOutbox(ctx)
		if got := wa.read("6281200000002"); len(got) != 1 {
			t.Fatalf("the message nobody held was read %q, want once", got)
		}
		if got := wa.read("6281200000001"); len(got) != 0 {
			t.Fatalf("the message the dead replica held was sent at once (%q): it may still be sending", got)
		}
		time.Sleep(60 * time.Millisecond) // ClaimAfter: the store's clock, not this process's
		n.DrainOutbox(ctx)
		if got := wa.read("6281200000001"); !slices.Equal(got, []string{"Pengaduan ADU-1 sedang diproses."}) {
			t.Errorf("the message the dead replica held was read %q, want once", got)
		}
		if got := wa.read("6281200000002"); len(got) != 1 {
			t.Errorf("the other message was read %q, want once", got)
		}
		if left, _ := outbox.Queue("whatsapp").Queued(ctx); left != 0 {
			t.Errorf("%d messages left in the outbox, want none", left)
		}
	})
}

// A status change is queued; the replica that takes the news dies before telling it.
// Before, news lived in the memory of the replica where staff made the change and
// died with it; now another replica takes it over and the citizen hears it, once.
func TestComplaintNewsAReplicaTookAndDiedOnIsToldByAnother(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		catalog := texts(t)
		ctx := context.Background()
		news := b.Store.News()

		staffSide := newNotifier(t, notify.Config{Engine: &engine{}, Sender: bot.NewSender(quiet()), Texts: catalog, News: news})
		staffSide.StatusChanged(ctx, complaint(domain.StatusInProgress))
		staffSide.Wait()
		if _, raws, err := news.Read(ctx, "dies", 10, time.Millisecond); err != nil || len(raws) != 1 {
			t.Fatalf("the dying replica took %d, %v; want the news", len(raws), err)
		}

		wa := newPhone("whatsapp", catalog)
		sender := bot.NewSender(quiet())
		sender.Register(wa, bot.Limits{})
		e := &engine{lang: "en"}
		other := newNotifier(t, notify.Config{Engine: e, Sender: sender, Texts: catalog, News: news, ClaimAfter: 50 * time.Millisecond})
		rctx, stop := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() { other.Run(rctx); close(done) }()
		deadline := time.Now().Add(20 * time.Second)
		for len(wa.read("6281200000001")) == 0 && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		for n, _ := news.Queued(ctx); n != 0 && time.Now().Before(deadline); n, _ = news.Queued(ctx) {
			time.Sleep(10 * time.Millisecond)
		}
		stop()
		<-done
		want := []string{"news of complaint:ADU-261127-0001:2", "rate | Reply with a number."}
		if got := wa.read("6281200000001"); strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("the reporter read %q, want the news once: %q", got, want)
		}
		if n, _ := news.Queued(ctx); n != 0 {
			t.Errorf("%d pieces of news left in the queue, want none", n)
		}
	})
}
