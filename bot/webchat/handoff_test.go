package webchat_test

import (
	"bytes"
	"context"
	"image"
	"image/png"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/layan-id/layan/bot"
	"github.com/layan-id/layan/bot/webchat"
	"github.com/layan-id/layan/domain"
	"github.com/layan-id/layan/flows"
	"github.com/layan-id/layan/store"
	"github.com/layan-id/layan/store/storetest"
)

// quietCourier keeps what the handoff would tell: the tests read the transcript.
type quietCourier struct {
	mu     sync.Mutex
	events []string
}

func (c *quietCourier) Tell(_ context.Context, _ *domain.Handoff, event string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.events = append(c.events, event)
}
func (c *quietCourier) Staff(context.Context, string, string) {}

// deliveringCourier has the person's conversation handle the handoff's news and
// pushes what it says to the web chat, as the service's courier does.
type deliveringCourier struct {
	h  *harness
	wg sync.WaitGroup
}

func (c *deliveringCourier) Tell(_ context.Context, ho *domain.Handoff, event string) {
	c.wg.Go(func() { // never inside the person's own turn
		ctx := context.Background()
		m := bot.Message{Channel: ho.Channel, ChatID: ho.ChatID, UserID: ho.ChatID, ID: "event:handoff:" + event,
			Kind: bot.KindEvent, Text: "handoff:" + event, Time: time.Now()}
		out, err := c.h.engine.Handle(ctx, m)
		if err != nil {
			panic(err)
		}
		for _, r := range out.Replies {
			c.h.channel.Send(ctx, out.To, r)
		}
	})
}
func (c *deliveringCourier) Staff(context.Context, string, string) {}

// staffedHarness is the web chat with talking to a person at any hour, its news
// delivered to the page; staff act through the returned desk.
func staffedHarness(t testing.TB, b storetest.Backend) (*harness, *flows.Desk, *deliveringCourier) {
	t.Helper()
	hours, err := flows.ParseOfficeHours("always", nil, time.UTC)
	if err != nil {
		t.Fatal(err)
	}
	courier := &deliveringCourier{}
	var desk *flows.Desk
	h := newHarness(t, b, func(r *flows.Router) {
		desk = r.RegisterHandoff(flows.HandoffConfig{Store: b.Store.Handoffs(), Courier: courier, Hours: hours, NewID: store.NewHandoffID})
	})
	courier.h = h
	return h, desk, courier
}

func TestAPhotoFromStaffIsShownOnTheWebChat(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		h, desk, courier := staffedHarness(t, b)
		media, err := store.NewMedia(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		h.server.AcceptPhotos(media)
		ctx := context.Background()
		token := h.start(t)
		other := h.start(t)
		h.send(t, token, map[string]string{"text": "bicara dengan petugas", "id": "ask"})
		courier.wg.Wait()
		waiting, err := desk.Queue(ctx, domain.HandoffWaiting, 10)
		if err != nil || len(waiting) != 1 {
			t.Fatalf("queue %v (%v), want the person waiting", waiting, err)
		}
		var img bytes.Buffer
		png.Encode(&img, image.NewRGBA(image.Rect(0, 0, 16, 9)))
		name, _, err := media.Save(bytes.NewReader(img.Bytes()))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := desk.Photo(ctx, waiting[0].ID, "Budi", name); err != nil {
			t.Fatal(err)
		}
		courier.wg.Wait()

		get := func(path, tok string) *httptest.ResponseRecorder {
			req := httptest.NewRequest("GET", path, nil)
			req.Header.Set("X-Chat-Token", tok)
			rec := httptest.NewRecorder()
			h.mux.ServeHTTP(rec, req)
			return rec
		}

		t.Run("the photo arrives in the inbox with a short text", func(t *testing.T) {
			a := h.do(t, "GET", "/api/chat/inbox", token, nil)
			var photo *bot.Reply
			for i, r := range a.Replies {
				if r.Media != nil {
					photo = &a.Replies[i]
				}
			}
			if photo == nil || photo.Media.Ref != name || photo.Text != "Petugas mengirim foto untuk Anda." || photo.From != bot.FromStaff {
				t.Fatalf("inbox %q, want the staff photo with its note", a.texts())
			}
		})

		t.Run("the page may read the photo with the conversation's token", func(t *testing.T) {
			rec := get(webchat.PhotoPath+name, token)
			if rec.Code != http.StatusOK || rec.Header().Get("Content-Type") != "image/png" || !bytes.Equal(rec.Body.Bytes(), img.Bytes()) {
				t.Errorf("GET photo: %d %s, %d bytes; want the PNG", rec.Code, rec.Header().Get("Content-Type"), rec.Body.Len())
			}
		})

		t.Run("another conversation may not read it", func(t *testing.T) {
			if rec := get(webchat.PhotoPath+name, other); rec.Code != http.StatusNotFound {
				t.Errorf("another conversation's GET: %d, want 404", rec.Code)
			}
			if rec := get(webchat.PhotoPath+name, ""); rec.Code != http.StatusUnauthorized {
				t.Errorf("without a token: %d, want 401", rec.Code)
			}
		})

		t.Run("the history shows the photo again", func(t *testing.T) {
			rec := get("/api/chat/history", token)
			if !strings.Contains(rec.Body.String(), `"photo":"`+webchat.PhotoPath+name+`"`) {
				t.Errorf("history %s, want the photo's path", rec.Body.String())
			}
		})
	})
}

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
		waiting, err := desk.Queue(ctx, domain.HandoffWaiting, 10)
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
