package main

import (
	"context"
	"io"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/layan-id/layan/bot"
	"github.com/layan-id/layan/store"
	"github.com/layan-id/layan/store/storetest"
)

// A replica that cannot send on WhatsApp now queues complaint news in the outbox; the
// replica that can drains it later. For a person outside the 24-hour window the news
// must still go out, as the approved template in their language: the outbox keeps the
// template request and the language with the replies.
func TestNewsQueuedInTheOutboxGoesOutAsItsTemplateOutsideTheWindow(t *testing.T) {
	const number = "6281355500077" // never wrote to the Cloud API number: outside the window
	graph := newFakeGraph(t)
	redis := storetest.Mini(t)
	vars := map[string]string{
		"DATA_DIR": t.TempDir(), "HTTP_ADDR": freeAddr(t), "REDIS_URL": "redis://" + redis.Mini.Addr(),
		"WHATSAPP_CLOUD_TOKEN": cloudToken, "WHATSAPP_CLOUD_PHONE_ID": cloudPhoneID,
		"WHATSAPP_CLOUD_APP_SECRET": cloudSecret, "WHATSAPP_CLOUD_VERIFY_TOKEN": cloudVerify,
		"WHATSAPP_CLOUD_API": graph.srv.URL + "/v23.0",
	}

	// The replica that cannot send: its sender has no WhatsApp lane.
	other := &notifier{sender: bot.NewSender(slog.New(slog.NewTextHandler(io.Discard, nil))), outbox: redis.Store.Outbox()}
	ctx := bot.WithTemplate(bot.WithLang(context.Background(), "en"), &bot.Template{
		Purposes: []string{"complaint_status"}, Params: map[string]string{"ticket": "ADU-261130-0007", "status": "In progress"},
	})
	if err := other.send(ctx, "whatsapp", number, bot.Reply{Text: "Complaint ADU-261130-0007 is now in progress."}); err != nil {
		t.Fatal(err)
	}
	// A look at the queue that takes nothing from it (the Mini backend's prefix is "layan:").
	entries, err := redis.Store.Client().XRange(context.Background(), "layan:outbox:whatsapp", "-", "+").Result()
	if err != nil || len(entries) != 1 {
		t.Fatalf("the outbox holds %d messages, %v; want the news", len(entries), err)
	}
	raw, _ := entries[0].Values["u"].(string)
	if q, err := store.DecodeQueued([]byte(raw)); err != nil || q.Template == nil || q.Lang != "en" {
		t.Fatalf("queued without its template or language: %+v %v", q, err)
	}

	stop := startServe(t, vars) // the replica that can send drains the outbox
	defer stop()
	waitUntil(t, "the queued news reaches the person", func() bool { return len(graph.to(number)) > 0 })
	got := graph.to(number)
	if len(got) != 1 {
		t.Fatalf("sent %d messages, want the one template: %v", len(got), got)
	}
	mustContain(t, []string{show(got[0])}, "template layan_status_pengaduan: ADU-261130-0007; In progress;")
	if lang := got[0]["template"].(map[string]any)["language"].(map[string]any)["code"]; lang != "en" {
		t.Errorf("the template went out in %v, want the person's English", lang)
	}
}

// recorder is a channel that records what it was asked to send.
type recorder struct {
	name string
	mu   sync.Mutex
	sent []string // chat: text
}

func (r *recorder) Name() string { return r.name }
func (r *recorder) Send(_ context.Context, chatID string, rep bot.Reply) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.sent = append(r.sent, chatID+": "+rep.Text)
	return nil
}
func (r *recorder) got() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.sent)
}

// A replica takes complaint news from the outbox and dies before sending it. Before,
// the news had been popped and was lost; now the replica that drains the outbox
// takes it over once the dead one has held it for claimAfter, and sends it once.
func TestOutboxNewsADeadReplicaTookIsSentByTheOneThatDrains(t *testing.T) {
	redis := storetest.Mini(t)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	ctx := context.Background()
	other := &notifier{sender: bot.NewSender(log), outbox: redis.Store.Outbox(), log: log}
	if err := other.send(ctx, "whatsapp", "6281355500077", bot.Reply{Text: "Pengaduan ADU-1 sedang diproses."}); err != nil {
		t.Fatal(err)
	}
	if err := other.send(ctx, "whatsapp", "6281355500078", bot.Reply{Text: "Pengaduan ADU-2 selesai."}); err != nil {
		t.Fatal(err)
	}
	// The dying replica takes the first message and is never heard of again.
	if _, raws, err := redis.Store.Outbox().Queue("whatsapp").Read(ctx, "dies", 1, time.Millisecond); err != nil || len(raws) != 1 {
		t.Fatalf("the dying replica took %d, %v", len(raws), err)
	}

	ch := &recorder{name: "whatsapp"}
	sender := bot.NewSender(log)
	sender.Register(ch, bot.Limits{Attempts: 1})
	drain := &notifier{sender: sender, outbox: redis.Store.Outbox(), log: log, claimAfter: 200 * time.Millisecond}
	dctx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { drain.drainOutbox(dctx, []string{"whatsapp"}); close(done) }()
	defer func() { stop(); <-done }()

	waitUntil(t, "both messages are sent", func() bool { return len(ch.got()) >= 2 })
	got := ch.got()
	slices.Sort(got)
	if want := []string{"6281355500077: Pengaduan ADU-1 sedang diproses.", "6281355500078: Pengaduan ADU-2 selesai."}; !slices.Equal(got, want) {
		t.Errorf("sent %q, want each message once: %q", got, want)
	}
	waitUntil(t, "the outbox is empty", func() bool {
		n, _ := redis.Store.Outbox().Queue("whatsapp").Queued(ctx)
		return n == 0
	})
	if got := ch.got(); len(got) != 2 {
		t.Errorf("sent %d messages, want 2 (each once)", len(got))
	}
}
