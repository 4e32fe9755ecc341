package webchat_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/layan-id/layan/bot"
	"github.com/layan-id/layan/bot/webchat"
	"github.com/layan-id/layan/domain"
	"github.com/layan-id/layan/flows"
	"github.com/layan-id/layan/locales"
	"github.com/layan-id/layan/store"
	"github.com/layan-id/layan/store/storetest"
)

// Texts the tests recognise (from locales/*.yaml with Region "Kabupaten Contoh").
const (
	greetingID    = "Halo, selamat datang! Saya Layan, asisten layanan publik Kabupaten Contoh."
	menuPromptID  = "Silakan pilih layanan"
	langPromptID  = "Pilih bahasa:"
	englishChosen = "All right, from now on I will use English."
	notUnderstood = "Maaf, saya belum memahami pesan Anda."
	helpEN        = "How to use Layan:"
)

// harness is a web chat server on a real engine, router and store.
type harness struct {
	b       storetest.Backend
	server  *webchat.Server
	channel *webchat.Channel
	engine  *countingEngine
	mux     *http.ServeMux
}

// countingEngine is the real engine, counting the messages it really handled (not
// answered from the dedupe memory).
type countingEngine struct {
	*bot.Engine
	mu      sync.Mutex
	handled int
}

func (e *countingEngine) Handle(ctx context.Context, m bot.Message) (bot.Outcome, error) {
	out, err := e.Engine.Handle(ctx, m)
	if err == nil && !out.Duplicate {
		e.mu.Lock()
		e.handled++
		e.mu.Unlock()
	}
	return out, err
}

func (e *countingEngine) Handled() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.handled
}

// newHarness builds the harness; each with may register more flows on the router.
func newHarness(t testing.TB, b storetest.Backend, with ...func(*flows.Router)) *harness {
	t.Helper()
	texts, err := locales.Load("", map[string]any{"Region": "Kabupaten Contoh"})
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.DiscardHandler)
	router := flows.NewRouter(texts, log)
	region, err := flows.LoadRegion(locales.Content(""))
	if err != nil {
		t.Fatal(err)
	}
	router.RegisterComplaints(flows.ComplaintConfig{Store: b.Store.Complaints("WEB", time.UTC), Alerts: noAlerts{}, Region: region})
	for _, f := range with {
		f(router)
	}
	engine := &countingEngine{Engine: bot.NewEngine(bot.EngineConfig{
		Store:   b.Store.Conversations(30*time.Second, time.Hour).WithHistory(30), // as the service keeps recent messages
		Handler: router,
		Apology: router.Apology,
		Logger:  log,
		History: bot.HistoryLimits{Lines: 30, Age: 30 * 24 * time.Hour},
	})}
	chats := b.Store.WebChats()
	s, err := webchat.NewServer(engine, chats, texts, log)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	s.Register(mux)
	ctx, stop := context.WithCancel(context.Background())
	go s.Run(ctx)
	t.Cleanup(stop)
	select {
	case <-s.Ready():
	case <-time.After(5 * time.Second):
		t.Fatal("the web chat does not listen for pushes")
	}
	return &harness{b: b, server: s, channel: webchat.NewChannel(chats), engine: engine, mux: mux}
}

type noAlerts struct{}

func (noAlerts) NewComplaint(context.Context, *domain.Complaint)  {}
func (noAlerts) Reopened(context.Context, *domain.Complaint)      {}
func (noAlerts) StatusChanged(context.Context, *domain.Complaint) {}

// chatAnswer is what POST /api/chat answers, errors included.
type chatAnswer struct {
	Status  int
	Token   string      `json:"token"`
	Replies []bot.Reply `json:"replies"`
	Error   string      `json:"error"`
}

// texts returns the text of every reply.
func (a chatAnswer) texts() []string {
	var out []string
	for _, r := range a.Replies {
		out = append(out, r.Text)
	}
	return out
}

// says reports whether some reply starts with prefix.
func (a chatAnswer) says(prefix string) bool {
	return slices.ContainsFunc(a.Replies, func(r bot.Reply) bool { return strings.HasPrefix(r.Text, prefix) })
}

// do sends a request to the server and decodes its JSON answer.
func (h *harness) do(t testing.TB, method, path, token string, body []byte) chatAnswer {
	t.Helper()
	req := httptest.NewRequest(method, path, bytes.NewReader(body))
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("X-Chat-Token", token)
	}
	rec := httptest.NewRecorder()
	h.mux.ServeHTTP(rec, req)
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("%s %s: Content-Type %q, want JSON; body %q", method, path, ct, rec.Body.String())
	}
	a := chatAnswer{Status: rec.Code}
	if err := json.Unmarshal(rec.Body.Bytes(), &a); err != nil {
		t.Fatalf("%s %s: answer is not JSON: %v; body %q", method, path, err, rec.Body.String())
	}
	if rec.Code >= 400 && a.Error == "" {
		t.Errorf("%s %s: status %d without an \"error\" field: %q", method, path, rec.Code, rec.Body.String())
	}
	return a
}

// send posts one chat message (a JSON object) and expects 200.
func (h *harness) send(t testing.TB, token string, msg map[string]string) chatAnswer {
	t.Helper()
	body, _ := json.Marshal(msg)
	a := h.do(t, "POST", "/api/chat", token, body)
	if a.Status != http.StatusOK {
		t.Fatalf("POST /api/chat %v: status %d (%s), want 200", msg, a.Status, a.Error)
	}
	if token != "" && a.Token != token {
		t.Fatalf("POST /api/chat answered token %q, want the same token back", a.Token)
	}
	return a
}

// start opens a new conversation with "halo" and returns its token.
func (h *harness) start(t testing.TB) string {
	t.Helper()
	a := h.send(t, "", map[string]string{"text": "halo", "id": "start"})
	if !a.says(greetingID) {
		t.Fatalf("a new conversation was not greeted: %q", a.texts())
	}
	return a.Token
}

// keys counts the keys the store holds under its prefix.
func (h *harness) keys(t testing.TB) int {
	t.Helper()
	ctx := context.Background()
	rdb := h.b.Store.Client()
	n := 0
	iter := rdb.Scan(ctx, 0, h.b.Store.Prefix()+"*", 1000).Iterator()
	for iter.Next(ctx) {
		n++
	}
	if err := iter.Err(); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestChatAPI(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		h := newHarness(t, b)

		t.Run("a first message without a token starts a conversation with a greeting and the menu", func(t *testing.T) {
			a := h.send(t, "", map[string]string{"text": "halo"})
			if len(a.Token) < 22 {
				t.Errorf("token %q has %d characters, want at least 22 (128 bits in base64url)", a.Token, len(a.Token))
			}
			if strings.Trim(a.Token, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") != "" {
				t.Errorf("token %q is not base64url", a.Token)
			}
			if !a.says(greetingID) {
				t.Errorf("replies %q do not greet", a.texts())
			}
			menu := a.Replies[len(a.Replies)-1]
			if !strings.HasPrefix(menu.Text, menuPromptID) {
				t.Fatalf("last reply %q is not the menu", menu.Text)
			}
			want := bot.Option{ID: "language", Label: "Ganti bahasa"}
			if !slices.Contains(menu.Options, want) {
				t.Errorf("menu options %v do not offer %v", menu.Options, want)
			}
			for _, o := range menu.Options {
				if o.ID == "" || o.Label == "" {
					t.Errorf("menu option %+v lacks an id or a label", o)
				}
			}
		})

		t.Run("two new conversations get different tokens", func(t *testing.T) {
			a := h.send(t, "", map[string]string{"text": "halo"})
			b := h.send(t, "", map[string]string{"text": "halo"})
			if a.Token == b.Token {
				t.Errorf("both conversations got token %q", a.Token)
			}
		})

		t.Run("a page that knows the person's language opens the conversation in it", func(t *testing.T) {
			a := h.send(t, "", map[string]string{"option": "lang:en"})
			if !a.says("Hello and welcome!") {
				t.Errorf("replies %q are not an English greeting", a.texts())
			}
		})

		t.Run("the same token continues the conversation", func(t *testing.T) {
			token := h.start(t)
			if a := h.send(t, token, map[string]string{"option": "language"}); !a.says(langPromptID) {
				t.Fatalf("picking the language entry answered %q, want the language prompt", a.texts())
			}
			a := h.send(t, token, map[string]string{"option": "lang:en"})
			if !a.says(englishChosen) {
				t.Errorf("picking English answered %q", a.texts())
			}
			if a := h.send(t, token, map[string]string{"text": "help"}); !a.says(helpEN) {
				t.Errorf("after choosing English, help answered %q", a.texts())
			}
		})

		t.Run("an unknown or forged token is refused and creates nothing", func(t *testing.T) {
			real := h.start(t)
			for _, token := range []string{
				"forged-token-that-was-never-issued",
				webchat.ChatID(real), // the conversation id is not a token
				real + "x",
			} {
				before := h.keys(t)
				body, _ := json.Marshal(map[string]string{"text": "halo", "id": "f1"})
				if a := h.do(t, "POST", "/api/chat", token, body); a.Status != http.StatusUnauthorized {
					t.Errorf("POST with token %q: status %d, want 401", token, a.Status)
				}
				if a := h.do(t, "GET", "/api/chat/inbox", token, nil); a.Status != http.StatusUnauthorized {
					t.Errorf("GET inbox with token %q: status %d, want 401", token, a.Status)
				}
				if after := h.keys(t); after != before {
					t.Errorf("a refused token %q changed the store: %d keys, then %d", token, before, after)
				}
			}
		})

		t.Run("bad requests are refused with a JSON error and change nothing", func(t *testing.T) {
			token := h.start(t)
			if a := h.send(t, token, map[string]string{"option": "language", "id": "to-lang"}); !a.says(langPromptID) {
				t.Fatalf("picking the language entry answered %q", a.texts())
			}
			long := []byte(`{"text":"` + strings.Repeat("a", webchat.MaxBody+1) + `"}`)
			for _, tc := range []struct {
				name   string
				body   []byte
				status int
			}{
				{"a body over 16 KiB", long, http.StatusRequestEntityTooLarge},
				{"a small message padded past 16 KiB", []byte(`{"text":"2"}` + strings.Repeat(" ", webchat.MaxBody)), http.StatusRequestEntityTooLarge},
				{"an object followed by a stray bracket", []byte(`{"text":"2"}]`), http.StatusBadRequest},
				{"malformed JSON", []byte(`{"text": "2"`), http.StatusBadRequest},
				{"a JSON array", []byte(`["2"]`), http.StatusBadRequest},
				{"two JSON objects", []byte(`{"text":"2"}{"text":"2"}`), http.StatusBadRequest},
				{"neither text nor option", []byte(`{}`), http.StatusBadRequest},
				{"an empty body", []byte(``), http.StatusBadRequest},
				{"an option id over 128 bytes", []byte(`{"option":"` + strings.Repeat("x", 129) + `"}`), http.StatusBadRequest},
				{"a message id over 128 bytes", []byte(`{"text":"2","id":"` + strings.Repeat("x", 129) + `"}`), http.StatusBadRequest},
			} {
				for _, withToken := range []bool{true, false} {
					tok := ""
					if withToken {
						tok = token
					}
					before := h.keys(t)
					if a := h.do(t, "POST", "/api/chat", tok, tc.body); a.Status != tc.status {
						t.Errorf("%s (token sent: %v): status %d (%q), want %d", tc.name, withToken, a.Status, a.Error, tc.status)
					}
					if after := h.keys(t); after != before {
						t.Errorf("%s (token sent: %v) changed the store: %d keys, then %d", tc.name, withToken, before, after)
					}
				}
			}
			// The language prompt is still waiting for its answer.
			if a := h.send(t, token, map[string]string{"text": "2", "id": "answer"}); !a.says(englishChosen) {
				t.Errorf("after the bad requests, answering the language prompt with 2 said %q", a.texts())
			}
		})

		t.Run("a redelivered message is answered the same and handled once", func(t *testing.T) {
			token := h.start(t)
			handled := h.engine.Handled()
			// "6" at the menu opens the language prompt; handled again, "6" at the
			// language prompt would be "not understood".
			first := h.send(t, token, map[string]string{"text": "6", "id": "m-6"})
			if !first.says(langPromptID) {
				t.Fatalf("6 at the menu answered %q, want the language prompt", first.texts())
			}
			again := h.send(t, token, map[string]string{"text": "6", "id": "m-6"})
			if !slices.EqualFunc(first.Replies, again.Replies, replyEqual) {
				t.Errorf("the redelivered message answered %q, the first time %q", again.texts(), first.texts())
			}
			if again.says(notUnderstood) {
				t.Errorf("the redelivered message was handled a second time: %q", again.texts())
			}
			if n := h.engine.Handled() - handled; n != 1 {
				t.Errorf("the engine handled the message %d times, want once", n)
			}
			if a := h.send(t, token, map[string]string{"text": "2", "id": "m-2"}); !a.says(englishChosen) {
				t.Errorf("the next message, 2, answered %q, want English chosen", a.texts())
			}
		})

		t.Run("the same message id in another conversation is a different message", func(t *testing.T) {
			a, b := h.start(t), h.start(t)
			h.send(t, a, map[string]string{"text": "6", "id": "same"})
			if got := h.send(t, b, map[string]string{"text": "help", "id": "same"}); !got.says("Cara memakai Layan") {
				t.Errorf("conversation b, message id used by a: answered %q, want help", got.texts())
			}
		})
	})
}

func TestInbox(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		h := newHarness(t, b)
		ctx := context.Background()

		t.Run("a pushed reply is fetched once, then the inbox is empty", func(t *testing.T) {
			token := h.start(t)
			if err := h.channel.Send(ctx, bot.Recipient{Channel: webchat.ChannelName, ChatID: webchat.ChatID(token)}, bot.Reply{Text: "Pengumuman"}); err != nil {
				t.Fatal(err)
			}
			a := h.do(t, "GET", "/api/chat/inbox", token, nil)
			if a.Status != http.StatusOK || len(a.Replies) != 1 || a.Replies[0].Text != "Pengumuman" {
				t.Fatalf("inbox: status %d, replies %q; want 200 and [Pengumuman]", a.Status, a.texts())
			}
			a = h.do(t, "GET", "/api/chat/inbox", token, nil)
			if a.Status != http.StatusOK || a.Replies == nil || len(a.Replies) != 0 {
				t.Errorf("second look at the inbox: status %d, replies %v; want 200 and []", a.Status, a.Replies)
			}
		})

		t.Run("pushed replies keep their order and their options", func(t *testing.T) {
			token := h.start(t)
			want := []bot.Reply{
				{Text: "Pengumuman 1"},
				{Text: "Pengumuman 2", Options: []bot.Option{{ID: "menu", Label: "Menu"}}},
			}
			for _, r := range want {
				if err := h.channel.Send(ctx, bot.Recipient{Channel: webchat.ChannelName, ChatID: webchat.ChatID(token)}, r); err != nil {
					t.Fatal(err)
				}
			}
			if a := h.do(t, "GET", "/api/chat/inbox", token, nil); !slices.EqualFunc(a.Replies, want, replyEqual) {
				t.Errorf("inbox: %+v, want %+v", a.Replies, want)
			}
		})

		t.Run("the inbox without a token is refused", func(t *testing.T) {
			if a := h.do(t, "GET", "/api/chat/inbox", "", nil); a.Status != http.StatusUnauthorized {
				t.Errorf("status %d, want 401", a.Status)
			}
		})

		t.Run("a second conversation cannot read the first one's inbox", func(t *testing.T) {
			first, second := h.start(t), h.start(t)
			if err := h.channel.Send(ctx, bot.Recipient{Channel: webchat.ChannelName, ChatID: webchat.ChatID(first)}, bot.Reply{Text: "Untuk yang pertama"}); err != nil {
				t.Fatal(err)
			}
			if a := h.do(t, "GET", "/api/chat/inbox", second, nil); a.Status != http.StatusOK || len(a.Replies) != 0 {
				t.Errorf("second conversation's inbox: status %d, replies %q; want 200 and nothing", a.Status, a.texts())
			}
			if a := h.do(t, "GET", "/api/chat/inbox", first, nil); len(a.Replies) != 1 {
				t.Errorf("the first conversation lost its reply to the second's look: %q", a.texts())
			}
		})
	})
}

func TestStream(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		h := newHarness(t, b)
		srv := httptest.NewServer(h.mux)
		t.Cleanup(srv.Close)

		t.Run("a reply pushed while the stream is open arrives as an event", func(t *testing.T) {
			token := h.start(t)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			events := openStream(t, ctx, srv.URL, token)
			if err := h.channel.Send(ctx, bot.Recipient{Channel: webchat.ChannelName, ChatID: webchat.ChatID(token)}, bot.Reply{Text: "Pengumuman"}); err != nil {
				t.Fatal(err)
			}
			got := nextEvent(t, ctx, events)
			if len(got.Replies) != 1 || got.Replies[0].Text != "Pengumuman" {
				t.Errorf("event %+v, want the reply Pengumuman", got)
			}
			if err := h.channel.Send(ctx, bot.Recipient{Channel: webchat.ChannelName, ChatID: webchat.ChatID(token)}, bot.Reply{Text: "Pengumuman lagi"}); err != nil {
				t.Fatal(err)
			}
			if got := nextEvent(t, ctx, events); len(got.Replies) != 1 || got.Replies[0].Text != "Pengumuman lagi" {
				t.Errorf("second event %+v, want the reply Pengumuman lagi", got)
			}
			// What the stream delivered is marked so (right after the event is out), so
			// a plain look at the inbox does not give it again.
			for {
				rs, _, err := h.b.Store.WebChats().Pending(ctx, webchat.ChatID(token), store.FromDelivered, 10)
				if err != nil {
					t.Fatal(err)
				}
				if len(rs) == 0 {
					break
				}
				if ctx.Err() != nil {
					t.Fatalf("the inbox still offers %d replies after the stream delivered them", len(rs))
				}
				time.Sleep(5 * time.Millisecond)
			}
			if a := h.do(t, "GET", "/api/chat/inbox", token, nil); len(a.Replies) != 0 {
				t.Errorf("the inbox still holds %q after the stream delivered it", a.texts())
			}
		})

		t.Run("a reply pushed while the page was closed arrives when the stream opens", func(t *testing.T) {
			token := h.start(t)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if err := h.channel.Send(ctx, bot.Recipient{Channel: webchat.ChannelName, ChatID: webchat.ChatID(token)}, bot.Reply{Text: "Selagi Anda pergi"}); err != nil {
				t.Fatal(err)
			}
			events := openStream(t, ctx, srv.URL, token)
			if got := nextEvent(t, ctx, events); len(got.Replies) != 1 || got.Replies[0].Text != "Selagi Anda pergi" {
				t.Errorf("event %+v, want the reply pushed before", got)
			}
		})

		t.Run("a stream without a known token is refused", func(t *testing.T) {
			for _, token := range []string{"", "forged"} {
				req, _ := http.NewRequest("GET", srv.URL+"/api/chat/inbox", nil)
				req.Header.Set("Accept", "text/event-stream")
				if token != "" {
					req.Header.Set("X-Chat-Token", token)
				}
				res, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				res.Body.Close()
				if res.StatusCode != http.StatusUnauthorized {
					t.Errorf("token %q: status %d, want 401", token, res.StatusCode)
				}
			}
		})
	})
}

func TestTwoTabsEachGetEveryPushedReplyOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		h := newHarness(t, b)
		srv := httptest.NewServer(h.mux)
		t.Cleanup(srv.Close)
		token := h.start(t)
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		tabs := []<-chan string{openStream(t, ctx, srv.URL, token), openStream(t, ctx, srv.URL, token)}

		const n, last = 40, "Pengumuman terakhir"
		var want []string
		for i := range n {
			want = append(want, fmt.Sprintf("Pengumuman %d", i+1))
		}
		want = append(want, last)
		go func() { // pushed while both tabs read
			for _, text := range want {
				if err := h.channel.Send(ctx, bot.Recipient{Channel: webchat.ChannelName, ChatID: webchat.ChatID(token)}, bot.Reply{Text: text}); err != nil {
					t.Error(err)
					return
				}
			}
		}()
		var wg sync.WaitGroup
		for i, events := range tabs {
			wg.Go(func() {
				var got []string
				for !slices.Contains(got, last) {
					select {
					case data, ok := <-events:
						if !ok {
							t.Errorf("tab %d: the stream ended after %d replies", i+1, len(got))
							return
						}
						var ev struct{ Replies []bot.Reply }
						if err := json.Unmarshal([]byte(data), &ev); err != nil {
							t.Errorf("tab %d: event %q: %v", i+1, data, err)
							return
						}
						for _, r := range ev.Replies {
							got = append(got, r.Text)
						}
					case <-ctx.Done():
						t.Errorf("tab %d got %d of the %d replies before the deadline", i+1, len(got), len(want))
						return
					}
				}
				if !slices.Equal(got, want) {
					t.Errorf("tab %d showed %d replies, want each of the %d once, in order:\n got %q\nwant %q", i+1, len(got), len(want), got, want)
				}
			})
		}
		wg.Wait()
		if a := h.do(t, "GET", "/api/chat/inbox", token, nil); len(a.Replies) != 0 {
			t.Errorf("after the tabs showed them, a plain look at the inbox gives %d replies again", len(a.Replies))
		}
	})
}

func TestAStreamThatReconnectsResumesWhereItWas(t *testing.T) {
	h := newHarness(t, storetest.Mini(t))
	srv := httptest.NewServer(h.mux)
	t.Cleanup(srv.Close)
	token := h.start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	send := func(text string) {
		if err := h.channel.Send(ctx, bot.Recipient{Channel: webchat.ChannelName, ChatID: webchat.ChatID(token)}, bot.Reply{Text: text}); err != nil {
			t.Fatal(err)
		}
	}
	// Tab B saw the first reply (event id 1), then lost its connection; tab A, still
	// open, showed the next two.
	send("Satu")
	openStream(t, ctx, srv.URL, token)
	send("Dua")
	send("Tiga")
	for {
		if rs, _, _ := h.b.Store.WebChats().Pending(ctx, webchat.ChatID(token), store.FromDelivered, 10); len(rs) == 0 {
			break
		}
		if ctx.Err() != nil {
			t.Fatal("tab A never showed the replies")
		}
		time.Sleep(5 * time.Millisecond)
	}
	req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL+"/api/chat/inbox", nil)
	req.Header.Set("Accept", "text/event-stream")
	req.Header.Set("X-Chat-Token", token)
	req.Header.Set("Last-Event-ID", "1")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	sc := bufio.NewScanner(res.Body)
	var got []string
	for len(got) < 2 && sc.Scan() {
		if data, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
			var ev struct{ Replies []bot.Reply }
			json.Unmarshal([]byte(data), &ev)
			for _, r := range ev.Replies {
				got = append(got, r.Text)
			}
		}
	}
	if !slices.Equal(got, []string{"Dua", "Tiga"}) {
		t.Errorf("tab B, back with Last-Event-ID 1, got %q, want [Dua Tiga]", got)
	}
}

func TestStreamKeepsAnIdleConnectionAlive(t *testing.T) {
	h := newHarness(t, storetest.Mini(t))
	h.server.Heartbeat = 10 * time.Millisecond
	srv := httptest.NewServer(h.mux)
	t.Cleanup(srv.Close)
	token := h.start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	lines := openStreamLines(t, ctx, srv.URL, token)
	select {
	case line, ok := <-lines:
		if !ok || !strings.HasPrefix(line, ":") {
			t.Errorf("first line of an idle stream %q, want a comment", line)
		}
	case <-ctx.Done():
		t.Fatal("an idle stream sent nothing")
	}
}

// openStream opens the live stream of token and returns its data events.
func openStream(t *testing.T, ctx context.Context, url, token string) <-chan string {
	t.Helper()
	lines := openStreamLines(t, ctx, url, token)
	events := make(chan string, 16)
	go func() {
		defer close(events)
		for line := range lines {
			if data, ok := strings.CutPrefix(line, "data: "); ok {
				events <- data
			}
		}
	}()
	return events
}

// openStreamLines opens the live stream of token and returns its lines; the stream is
// subscribed when it returns (the server answers only after subscribing).
func openStreamLines(t *testing.T, ctx context.Context, url, token string) <-chan string {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, "GET", url+"/api/chat/inbox", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", "text/event-stream")
	req.Header.Set("X-Chat-Token", token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != "text/event-stream" {
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		t.Fatalf("stream: status %d, Content-Type %q, body %q", res.StatusCode, res.Header.Get("Content-Type"), b)
	}
	lines := make(chan string, 16)
	go func() {
		defer close(lines)
		defer res.Body.Close()
		sc := bufio.NewScanner(res.Body)
		for sc.Scan() {
			if sc.Text() == "" {
				continue
			}
			select {
			case lines <- sc.Text():
			case <-ctx.Done():
				return
			}
		}
	}()
	t.Cleanup(func() { res.Body.Close() })
	return lines
}

// nextEvent waits for the next data event and decodes it.
func nextEvent(t *testing.T, ctx context.Context, events <-chan string) (ev struct {
	Replies []bot.Reply `json:"replies"`
}) {
	t.Helper()
	select {
	case data, ok := <-events:
		if !ok {
			t.Fatal("the stream ended before an event arrived")
		}
		if err := json.Unmarshal([]byte(data), &ev); err != nil {
			t.Fatalf("event %q is not JSON: %v", data, err)
		}
		return ev
	case <-ctx.Done():
		t.Fatal("no event arrived before the deadline")
	}
	return ev
}

func TestPage(t *testing.T) {
	h := newHarness(t, storetest.Mini(t))
	for _, tc := range []struct {
		name, acceptLanguage string
		want                 []string
	}{
		{"the page is in Indonesian by default", "", []string{`<html lang="id">`, ">Kirim<", `placeholder="Tulis pesan…"`, "Layan — Kabupaten Contoh", ">Percakapan baru<"}},
		{"the page is in Indonesian for an Indonesian browser", "id-ID,id;q=0.9,en;q=0.8", []string{`<html lang="id">`, ">Kirim<"}},
		{"the page is in English for an English browser", "en-SG,en;q=0.9", []string{`<html lang="en">`, ">Send<", `placeholder="Type a message…"`, ">New conversation<"}},
		{"the page falls back to Indonesian for a language it lacks", "fr-FR,fr;q=0.9", []string{`<html lang="id">`, ">Kirim<"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest("GET", "/", nil)
			if tc.acceptLanguage != "" {
				req.Header.Set("Accept-Language", tc.acceptLanguage)
			}
			rec := httptest.NewRecorder()
			h.mux.ServeHTTP(rec, req)
			if rec.Code != http.StatusOK || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/html") {
				t.Fatalf("status %d, Content-Type %q", rec.Code, rec.Header().Get("Content-Type"))
			}
			body := rec.Body.String()
			for _, w := range tc.want {
				if !strings.Contains(body, w) {
					t.Errorf("page lacks %q", w)
				}
			}
			if rec.Header().Get("Content-Security-Policy") == "" {
				t.Error("page has no Content-Security-Policy")
			}
		})
	}

	for _, tc := range []struct{ path, contentType string }{
		{"/static/app.js", "javascript"},
		{"/static/style.css", "text/css"},
	} {
		t.Run("the page's file "+tc.path+" is served", func(t *testing.T) {
			rec := httptest.NewRecorder()
			h.mux.ServeHTTP(rec, httptest.NewRequest("GET", tc.path, nil))
			if rec.Code != http.StatusOK || !strings.Contains(rec.Header().Get("Content-Type"), tc.contentType) || rec.Body.Len() == 0 {
				t.Errorf("status %d, Content-Type %q, %d bytes", rec.Code, rec.Header().Get("Content-Type"), rec.Body.Len())
			}
		})
	}

	t.Run("an unknown page is not found", func(t *testing.T) {
		rec := httptest.NewRecorder()
		h.mux.ServeHTTP(rec, httptest.NewRequest("GET", "/nowhere", nil))
		if rec.Code != http.StatusNotFound {
			t.Errorf("status %d, want 404", rec.Code)
		}
	})
}

func replyEqual(a, b bot.Reply) bool {
	return a.Text == b.Text && slices.Equal(a.Options, b.Options) && a.AskLocation == b.AskLocation && (a.Media == nil) == (b.Media == nil)
}

func TestOneConversationMayHoldOnlyAFewLiveStreams(t *testing.T) {
	h := newHarness(t, storetest.Mini(t))
	srv := httptest.NewServer(h.mux)
	t.Cleanup(srv.Close)
	token := h.start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for range webchat.MaxStreams {
		openStream(t, ctx, srv.URL, token)
	}
	req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL+"/api/chat/inbox", nil)
	req.Header.Set("X-Chat-Token", token)
	req.Header.Set("Accept", "text/event-stream")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusTooManyRequests {
		t.Errorf("stream %d answered %d, want 429", webchat.MaxStreams+1, res.StatusCode)
	}
}

func TestOneClientCannotStartConversationsWithoutEnd(t *testing.T) {
	h := newHarness(t, storetest.Mini(t))
	token := h.start(t)
	refused := 0
	for range 40 {
		if a := h.do(t, "POST", "/api/chat", "", []byte(`{"text":"halo"}`)); a.Status == http.StatusTooManyRequests {
			refused++
		}
	}
	if refused == 0 {
		t.Error("40 new conversations from one address in a moment were all accepted")
	}
	// A conversation already going is not held up by the flood from its address.
	if a := h.send(t, token, map[string]string{"text": "menu"}); a.Status != http.StatusOK {
		t.Errorf("an existing conversation got %d during the flood", a.Status)
	}
}

// historyAnswer is what GET /api/chat/history answers.
type historyAnswer struct {
	Messages []struct {
		From    string       `json:"from"`
		Text    string       `json:"text"`
		Options []bot.Option `json:"options"`
		At      time.Time    `json:"at"`
	} `json:"messages"`
	Lang  string `json:"lang"`
	Error string `json:"error"`
}

func (h *harness) history(t testing.TB, token string) (int, historyAnswer) {
	t.Helper()
	req := httptest.NewRequest("GET", "/api/chat/history", nil)
	if token != "" {
		req.Header.Set("X-Chat-Token", token)
	}
	rec := httptest.NewRecorder()
	h.mux.ServeHTTP(rec, req)
	var a historyAnswer
	if err := json.Unmarshal(rec.Body.Bytes(), &a); err != nil {
		t.Fatalf("GET /api/chat/history: answer is not JSON: %v; body %q", err, rec.Body.String())
	}
	return rec.Code, a
}

func TestHistory(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		h := newHarness(t, b)
		token := h.start(t)
		h.send(t, token, map[string]string{"text": "halo", "id": "again"})

		t.Run("a reopened page gets both sides of the conversation, oldest first", func(t *testing.T) {
			code, a := h.history(t, token)
			if code != http.StatusOK {
				t.Fatalf("status %d (%s), want 200", code, a.Error)
			}
			var lines []string
			for _, m := range a.Messages {
				lines = append(lines, m.From+": "+m.Text)
				if m.At.IsZero() {
					t.Errorf("message %q has no time", m.Text)
				}
			}
			if len(a.Messages) < 3 || a.Messages[0].From != "citizen" || a.Messages[0].Text != "halo" ||
				a.Messages[1].From != "bot" || !strings.HasPrefix(a.Messages[1].Text, greetingID) {
				t.Fatalf("history starts %q, want the person's halo then the greeting", lines)
			}
			last := a.Messages[len(a.Messages)-1]
			if last.From != "bot" || last.Text == "" {
				t.Errorf("history ends with %q, want the bot's answer to the second halo", lines)
			}
			withMenu := false
			for _, m := range a.Messages {
				withMenu = withMenu || len(m.Options) > 0
			}
			if !withMenu {
				t.Errorf("no message of the history keeps its buttons: %q", lines)
			}
		})

		t.Run("the second halo of a greeted person is answered as a greeting", func(t *testing.T) {
			a := h.send(t, token, map[string]string{"text": "halo", "id": "third"})
			if a.says(notUnderstood) {
				t.Errorf("halo got %q, want a greeting", a.texts())
			}
		})

		t.Run("reading the history changes nothing", func(t *testing.T) {
			_, a1 := h.history(t, token)
			_, a2 := h.history(t, token)
			if len(a1.Messages) != len(a2.Messages) {
				t.Errorf("history grew from %d to %d messages by being read", len(a1.Messages), len(a2.Messages))
			}
		})

		t.Run("a new conversation has an empty history", func(t *testing.T) {
			other := h.send(t, "", map[string]string{"option": "lang:en", "id": "x"}).Token
			_, a := h.history(t, other)
			for _, m := range a.Messages {
				if m.Text == "halo" {
					t.Errorf("another conversation's history shows %q", m.Text)
				}
			}
		})

		t.Run("an unknown or missing token gets 401", func(t *testing.T) {
			for _, tok := range []string{"", "not-a-token"} {
				if code, a := h.history(t, tok); code != http.StatusUnauthorized || a.Error == "" {
					t.Errorf("token %q: status %d %q, want 401 with an error", tok, code, a.Error)
				}
			}
		})
	})
}
