package main

import (
	"context"
	"io"
	"log/slog"
	"testing"

	"github.com/layan-id/layan/bot"
	"github.com/layan-id/layan/domain"
	"github.com/layan-id/layan/locales"
	"github.com/layan-id/layan/notify"
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
	vars := graph.env(t, map[string]string{
		"REDIS_URL": "redis://" + redis.Mini.Addr(),
	})

	// The replica that cannot send: its sender has no WhatsApp lane. The news is for
	// an English speaker (the engine's event turn answers in English).
	texts, err := locales.Load("", nil)
	if err != nil {
		t.Fatal(err)
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	other, err := notify.New(notify.Config{
		Engine: englishNews{}, Sender: bot.NewSender(quiet), Texts: texts, Outbox: redis.Store.Outbox(), Logger: quiet,
	})
	if err != nil {
		t.Fatal(err)
	}
	other.StatusChanged(context.Background(), &domain.Complaint{
		ID: "ADU-261130-0007", Status: domain.StatusInProgress,
		Reporter: domain.Reporter{Channel: "whatsapp", ChatID: number, Key: "whatsapp:" + number},
		History:  []domain.Event{{Status: domain.StatusReceived}, {Status: domain.StatusVerified}, {Status: domain.StatusInProgress}},
	})
	other.Wait()
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
	status, _ := texts.Text("en", "complaint.status.diproses", nil)
	mustContain(t, []string{show(got[0])}, "template layan_status_pengaduan: ADU-261130-0007; "+status+";")
	if lang := got[0]["template"].(map[string]any)["language"].(map[string]any)["code"]; lang != "en" {
		t.Errorf("the template went out in %v, want the person's English", lang)
	}
}

// englishNews is the engine of a replica as complaint news needs it: the event turn of
// an English speaker's conversation.
type englishNews struct{}

func (englishNews) Handle(_ context.Context, m bot.Message) (bot.Outcome, error) {
	return bot.Outcome{
		Replies: []bot.Reply{{Text: "Complaint ADU-261130-0007 is now in progress."}},
		To:      bot.Recipient{Channel: m.Channel, ChatID: m.ChatID, Lang: "en"},
	}, nil
}
