package main

import (
	"context"
	"io"
	"log/slog"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/layan-id/layan/bot"
	"github.com/layan-id/layan/domain"
	"github.com/layan-id/layan/locales"
	"github.com/layan-id/layan/store/storetest"
)

// A status change is queued; the replica that takes the news dies before telling it.
// Before, the news lived in that replica's memory and was lost; now another replica
// takes it over from the queue and the citizen hears of the change, once.
func TestComplaintNewsAReplicaTookAndDiedOnIsToldByAnother(t *testing.T) {
	redis := storetest.Mini(t)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	ctx := context.Background()
	texts, err := locales.Load("", map[string]any{"Region": "Kabupaten Contoh"})
	if err != nil {
		t.Fatal(err)
	}
	var events atomic.Int32
	engine := bot.NewEngine(bot.EngineConfig{
		Store: redis.Store.Conversations(5*time.Second, time.Hour), Logger: log,
		Apology: func(string) bot.Reply { return bot.Reply{Text: "maaf"} },
		Handler: bot.HandlerFunc(func(_ context.Context, t *bot.Turn) error {
			if t.Msg.Kind == bot.KindEvent {
				events.Add(1)
				t.Say(bot.Reply{Text: "kabar " + t.Msg.Text})
			}
			return nil
		}),
	})
	c := &domain.Complaint{
		ID: "ADU-261201-0001", Status: domain.StatusVerified, History: make([]domain.Event, 2),
		Reporter: domain.Reporter{Channel: "test", ChatID: "c1", Key: "test:c1"},
	}

	// The replica where staff changed the status queues the news…
	staffSide := &notifier{sender: bot.NewSender(log), news: redis.Store.News(), log: log}
	staffSide.StatusChanged(ctx, c)
	staffSide.wait()
	// …and the replica that takes it dies before telling it.
	if _, raws, err := redis.Store.News().Read(ctx, "dies", 10, time.Millisecond); err != nil || len(raws) != 1 {
		t.Fatalf("the dying replica took %d, %v; want the news", len(raws), err)
	}

	ch := &recorder{name: "test"}
	sender := bot.NewSender(log)
	sender.Register(ch, bot.Limits{Attempts: 1})
	other := &notifier{engine: engine, sender: sender, news: redis.Store.News(), texts: texts, log: log, claimAfter: 200 * time.Millisecond}
	dctx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { other.deliverNews(dctx); close(done) }()
	defer func() { stop(); <-done }()

	waitUntil(t, "the citizen hears of the change", func() bool { return len(ch.got()) > 0 })
	waitUntil(t, "the news queue is empty", func() bool {
		n, _ := redis.Store.News().Queued(ctx)
		return n == 0
	})
	if got, want := ch.got(), []string{"c1: kabar complaint:ADU-261201-0001:2"}; !slices.Equal(got, want) {
		t.Errorf("sent %q, want %q", got, want)
	}
	if n := events.Load(); n != 1 {
		t.Errorf("the conversation saw the news %d times, want once", n)
	}
}
