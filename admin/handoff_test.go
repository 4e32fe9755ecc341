package admin_test

import (
	"bufio"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/layan-id/layan/admin"
	"github.com/layan-id/layan/bot"
	"github.com/layan-id/layan/domain"
	"github.com/layan-id/layan/flows"
	"github.com/layan-id/layan/locales"
	"github.com/layan-id/layan/store"
	"github.com/layan-id/layan/store/storetest"
)

var _ admin.Handoffs = (*flows.Desk)(nil)

// courier records what the desk had told people and the staff chat.
type courier struct {
	mu   sync.Mutex
	told []string
}

func (c *courier) Tell(ctx context.Context, ho *domain.Handoff, event string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.told = append(c.told, event)
}

func (c *courier) Staff(ctx context.Context, id, text string) {}

func (c *courier) events() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.told)
}

type handoffRig struct {
	mux     *http.ServeMux
	store   *store.Handoffs
	courier *courier
	media   *store.Media
	id      string
}

// newHandoffRig serves the API over a desk on the backend, with one person waiting
// who said "halo" to the bot and then asked for a person.
func newHandoffRig(t *testing.T, b storetest.Backend) *handoffRig {
	t.Helper()
	texts, err := locales.Load("", map[string]any{"Region": "Kabupaten Contoh"})
	if err != nil {
		t.Fatal(err)
	}
	router := flows.NewRouter(texts, slog.New(slog.DiscardHandler))
	r := &handoffRig{mux: http.NewServeMux(), store: b.Store.Handoffs(), courier: &courier{}}
	desk := router.RegisterHandoff(flows.HandoffConfig{Store: r.store, Courier: r.courier, NewID: store.NewHandoffID,
		Now: func() time.Time { return now }})
	api := admin.New(admin.Config{Token: token, Complaints: b.Store.Complaints("TST", time.UTC)})
	media, err := store.NewMedia(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	r.media = media
	api.EnableHandoffs(admin.HandoffConfig{Desk: desk, Events: r.store.Events, EmptyReply: flows.ErrEmptyReply, Media: media})
	api.Register(r.mux)
	ho, _, err := r.store.Open(context.Background(), &domain.Handoff{ID: store.NewHandoffID(), Conv: "whatsapp:6281234567890",
		Channel: "whatsapp", ChatID: "6281234567890@s.whatsapp.net", Lang: "id", Since: now},
		[]bot.Line{{From: bot.FromCitizen, Text: "halo", At: now}, {From: bot.FromBot, Text: "Halo, selamat datang!", At: now}})
	if err != nil {
		t.Fatal(err)
	}
	r.id = ho.ID
	return r
}

func (r *handoffRig) call(t *testing.T, method, path, body string) (int, map[string]any) {
	t.Helper()
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	rec := httptest.NewRecorder()
	r.mux.ServeHTTP(rec, req)
	var out map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
		t.Fatalf("%s %s: answer is not JSON: %q", method, path, rec.Body.String())
	}
	return rec.Code, out
}

func TestStaffTakeAnswerAndEndAConversationThroughTheAPI(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		r := newHandoffRig(t, b)
		base := "/api/admin/conversations/" + r.id

		code, out := r.call(t, "GET", "/api/admin/conversations?state=waiting", "")
		list, _ := out["conversations"].([]any)
		if code != 200 || len(list) != 1 {
			t.Fatalf("queue: %d %v", code, out)
		}
		first := list[0].(map[string]any)
		for _, f := range []string{"id", "channel", "lang", "state", "since"} {
			if first[f] == nil || first[f] == "" {
				t.Errorf("a waiting conversation lacks %q: %v", f, first)
			}
		}
		raw, _ := json.Marshal(first)
		if strings.Contains(string(raw), "6281234567890") {
			t.Errorf("the queue shows the person's phone number: %s", raw)
		}

		if code, out := r.call(t, "POST", base+"/take", `{"by":"Budi"}`); code != 200 || out["assignee"] != "Budi" || out["state"] != "active" {
			t.Fatalf("take: %d %v", code, out)
		}
		if code, out := r.call(t, "POST", base+"/take", `{"by":"Sari"}`); code != 409 || !strings.Contains(out["error"].(string), "Budi") {
			t.Errorf("a colleague taking it: %d %v, want 409 naming the holder", code, out)
		}
		if code, _ := r.call(t, "POST", base+"/messages", `{"text":"Selamat pagi, ada yang bisa dibantu?","by":"Sari"}`); code != 409 {
			t.Errorf("a colleague answering someone else's conversation: %d, want 409", code)
		}
		if code, out := r.call(t, "POST", base+"/messages", `{"text":"  ","by":"Budi"}`); code != 400 {
			t.Errorf("an empty reply: %d %v, want 400", code, out)
		}
		if code, out := r.call(t, "POST", base+"/messages", `{"text":"Selamat pagi, ada yang bisa dibantu?","by":"Budi"}`); code != 200 {
			t.Fatalf("reply: %d %v", code, out)
		}
		if code, out := r.call(t, "POST", base+"/messages", `{"canned":"tunggu","by":"Budi"}`); code != 200 {
			t.Fatalf("canned reply: %d %v", code, out)
		}
		if code, _ := r.call(t, "POST", base+"/messages", `{"canned":"nope","by":"Budi"}`); code != 400 {
			t.Errorf("an unknown canned reply: %d, want 400", code)
		}

		code, out = r.call(t, "GET", base+"/messages", "")
		msgs, _ := out["messages"].([]any)
		var said []string
		for _, m := range msgs {
			m := m.(map[string]any)
			said = append(said, m["from"].(string)+": "+m["text"].(string))
			if m["at"] == nil {
				t.Errorf("a message without its time: %v", m)
			}
		}
		want := []string{"citizen: halo", "bot: Halo, selamat datang!", "staff: Selamat pagi, ada yang bisa dibantu?",
			"staff: Mohon tunggu sebentar, saya periksa dulu."}
		if code != 200 || !slices.Equal(said, want) {
			t.Errorf("transcript = %d %q, want %q", code, said, want)
		}
		if code, out := r.call(t, "GET", base+"/messages?after=3", ""); code != 200 || len(out["messages"].([]any)) != 1 {
			t.Errorf("messages after 3: %d %v", code, out)
		}

		if code, out := r.call(t, "POST", base+"/assign", `{"to":"Sari"}`); code != 200 || out["assignee"] != "Sari" {
			t.Errorf("hand it on: %d %v", code, out)
		}
		if code, out := r.call(t, "POST", base+"/end", `{"by":"Sari"}`); code != 200 || out["state"] != "ended" {
			t.Fatalf("end: %d %v", code, out)
		}
		if code, _ := r.call(t, "POST", base+"/messages", `{"text":"halo?","by":"Sari"}`); code != 409 {
			t.Errorf("a reply after the end: %d, want 409", code)
		}
		if code, out := r.call(t, "GET", "/api/admin/conversations?state=ended", ""); code != 200 || len(out["conversations"].([]any)) != 1 {
			t.Errorf("ended list: %d %v", code, out)
		}
		wantTold := []string{r.id + ":taken", r.id + ":line:3", r.id + ":line:4", r.id + ":ended"}
		if got := r.courier.events(); !slices.Equal(got, wantTold) {
			t.Errorf("the person was told %q, want %q", got, wantTold)
		}
		if code, _ := r.call(t, "POST", "/api/admin/conversations/nosuchid/take", ""); code != 404 {
			t.Errorf("an unknown conversation: %d, want 404", code)
		}
		if code, _ := r.call(t, "GET", "/api/admin/conversations?state=lost", ""); code != 400 {
			t.Errorf("an unknown state: %d, want 400", code)
		}
		if code, out := r.call(t, "GET", "/api/admin/canned?lang=en", ""); code != 200 || len(out["canned"].([]any)) == 0 {
			t.Errorf("canned replies: %d %v", code, out)
		}
	})
}

func TestTheConversationRoutesNeedTheToken(t *testing.T) {
	r := newHandoffRig(t, storetest.Mini(t))
	req := httptest.NewRequest("POST", "/api/admin/conversations/"+r.id+"/take", nil)
	rec := httptest.NewRecorder()
	r.mux.ServeHTTP(rec, req)
	if rec.Code != 401 {
		t.Errorf("take without a token: %d, want 401", rec.Code)
	}
	if ho, _ := r.store.Get(context.Background(), r.id); ho.State != domain.HandoffWaiting {
		t.Errorf("a request without a token took the conversation")
	}
}

func TestAConversationsLiveStreamShowsTheCitizensNewMessages(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		r := newHandoffRig(t, b)
		srv := httptest.NewServer(r.mux)
		defer srv.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second) // a hang fails, not a figure
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL+"/api/admin/conversations/"+r.id+"/stream", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Last-Event-ID", "2") // seen the bot's transcript already
		res, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		if ct := res.Header.Get("Content-Type"); res.StatusCode != 200 || ct != "text/event-stream" {
			t.Fatalf("stream: %d %s", res.StatusCode, ct)
		}
		// The stream is subscribed once its headers arrived: the message is seen live.
		if _, err := r.store.Append(context.Background(), r.id, bot.Line{From: bot.FromCitizen, Text: "KTP saya hilang", At: now}); err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(res.Body)
		var id string
		for sc.Scan() {
			line := sc.Text()
			if v, ok := strings.CutPrefix(line, "id: "); ok {
				id = v
			}
			if data, ok := strings.CutPrefix(line, "data: "); ok {
				var l bot.Line
				json.Unmarshal([]byte(data), &l)
				if l.Text == "halo" || l.Text == "Halo, selamat datang!" {
					t.Fatalf("the stream repeated a message before Last-Event-ID: %s", data)
				}
				if l.Text == "KTP saya hilang" && l.From == bot.FromCitizen && id == "3" {
					return
				}
				t.Fatalf("unexpected event %s (id %s)", data, id)
			}
		}
		t.Fatalf("the stream ended without the new message: %v", sc.Err())
	})
}
