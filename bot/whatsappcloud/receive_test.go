package whatsappcloud

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/layan-id/layan/bot"
)

// run handles one recorded payload as a worker does.
func runPayload(t *testing.T, h *harness, file string) {
	t.Helper()
	raw, err := os.ReadFile("testdata/" + file)
	if err != nil {
		t.Fatal(err)
	}
	p, err := decode(raw)
	if err != nil {
		t.Fatal(err)
	}
	items, _ := parse(p, testPhone)
	for _, it := range items {
		if err := h.ch.handle(context.Background(), it); err != nil {
			t.Fatal(err)
		}
	}
}

// recorded is a moment just after the recorded payloads were sent.
func recorded() time.Time { return time.Unix(1764500100, 0) }

func TestReceiving(t *testing.T) {
	t.Run("a message is marked read, opens the window and is answered; a redelivery is skipped", func(t *testing.T) {
		h := newHarness(t, nil, recorded)
		runPayload(t, h, "text.json")
		runPayload(t, h, "text.json")
		if len(h.engine.seen) != 1 {
			t.Errorf("the engine saw %d messages, want 1", len(h.engine.seen))
		}
		if len(h.graph.reads) != 1 {
			t.Errorf("%d read receipts, want 1", len(h.graph.reads))
		}
		if msgs := h.graph.messages(); len(msgs) != 1 || look(msgs[0]) != "text: ok text" {
			t.Errorf("sent %v", msgs)
		}
		if _, open, _ := h.store.LastInbound(context.Background(), person); !open {
			t.Error("the window is not open")
		}
	})
	t.Run("a photo is downloaded through the media endpoint and kept", func(t *testing.T) {
		h := newHarness(t, nil, nil)
		runPayload(t, h, "image.json")
		m := h.engine.seen[0]
		if m.Kind != bot.KindImage || m.Media == nil || m.Media.Ref != "photo1.png" || m.Text != "lubangnya" {
			t.Errorf("the engine saw %+v %+v", m, m.Media)
		}
	})
	t.Run("a reply to a message older than a day is not sent: the window it opened has closed", func(t *testing.T) {
		h := newHarness(t, nil, func() time.Time { return recorded().Add(25 * time.Hour) })
		runPayload(t, h, "text.json")
		if len(h.engine.seen) != 1 || len(h.graph.messages()) != 0 {
			t.Errorf("the engine saw %d, %d sent: want it handled and nothing sent", len(h.engine.seen), len(h.graph.messages()))
		}
	})
	t.Run("statuses are recorded and a number WhatsApp cannot reach is unsubscribed", func(t *testing.T) {
		h := newHarness(t, nil, nil)
		st := h.store.(interface {
			NoteSent(context.Context, string, string) error
			RunStatuses(context.Context, string) (map[string]int64, error)
		})
		st.NoteSent(context.Background(), "wamid.out.1", "B1:1764500000")
		runPayload(t, h, "statuses.json")
		runPayload(t, h, "statuses.json") // redelivered: counted once
		got, _ := st.RunStatuses(context.Background(), "B1:1764500000")
		if got["sent"] != 1 || got["delivered"] != 1 || got["read"] != 1 {
			t.Errorf("run statuses %v", got)
		}
		if key := <-h.blocked; key != "whatsapp:6281200000009" {
			t.Errorf("unsubscribed %q", key)
		}
	})
}
