package webchat_test

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/layan-id/layan/bot"
	"github.com/layan-id/layan/flows"
	"github.com/layan-id/layan/store"
	"github.com/layan-id/layan/store/storetest"
)

// quietCourier keeps what the handoff would tell: the tests read the transcript.
type quietCourier struct {
	mu     sync.Mutex
	events []string
}

func (c *quietCourier) Tell(_ context.Context, _ *bot.Handoff, event string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.events = append(c.events, event)
}
func (c *quietCourier) Staff(context.Context, string) {}

func TestChatWhileAPersonHoldsTheConversation(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		hours, err := flows.ParseOfficeHours("always", nil, time.UTC)
		if err != nil {
			t.Fatal(err)
		}
		var desk *flows.Desk
		h := newHarness(t, b, func(r *flows.Router) {
			desk = r.RegisterHandoff(flows.HandoffConfig{
				Store: b.Store.Handoffs(), Courier: &quietCourier{}, Hours: hours, NewID: store.NewHandoffID,
			})
		})
		ctx := context.Background()
		token := h.start(t)
		h.send(t, token, map[string]string{"text": "bicara dengan petugas", "id": "ask"})
		waiting, err := desk.Queue(ctx, bot.HandoffWaiting, 10)
		if err != nil || len(waiting) != 1 {
			t.Fatalf("queue %v (%v), want the person waiting", waiting, err)
		}
		id := waiting[0].ID
		if _, err := desk.Take(ctx, id, "Budi"); err != nil {
			t.Fatal(err)
		}

		t.Run("the first message gets 200 and at most one short note", func(t *testing.T) {
			a := h.send(t, token, map[string]string{"text": "KTP saya hilang, bagaimana?", "id": "m1"})
			if a.Replies == nil {
				t.Fatal(`"replies" is missing or null, want a list`)
			}
			if len(a.Replies) > 1 {
				t.Errorf("the bot said %q while a person holds the conversation, want one note at most", a.texts())
			}
			if a.says(notUnderstood) || a.says(menuPromptID) {
				t.Errorf("the bot answered by itself: %q", a.texts())
			}
		})

		t.Run("later messages get 200 with an empty list of replies", func(t *testing.T) {
			a := h.send(t, token, map[string]string{"text": "halo", "id": "m2"})
			if a.Replies == nil || len(a.Replies) != 0 {
				t.Errorf("replies %q, want an empty list", a.texts())
			}
		})

		t.Run("what the person sent reaches the staff member", func(t *testing.T) {
			lines, _, err := desk.Transcript(ctx, id, 0)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, l := range lines {
				if l.From == bot.FromCitizen {
					got = append(got, l.Text)
				}
			}
			joined := strings.Join(got, "|")
			if !strings.Contains(joined, "KTP saya hilang, bagaimana?") || !strings.HasSuffix(joined, "halo") {
				t.Errorf("staff see the person's lines %q, want both messages", got)
			}
		})

		t.Run("the history shows the held conversation too", func(t *testing.T) {
			code, a := h.history(t, token)
			if code != http.StatusOK || len(a.Messages) == 0 || a.Messages[len(a.Messages)-1].Text != "halo" {
				t.Errorf("history %d %+v, want it to end with the person's halo", code, a.Messages)
			}
		})
	})
}
