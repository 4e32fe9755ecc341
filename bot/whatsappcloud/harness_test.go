package whatsappcloud

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/layan-id/layan/bot"
	"github.com/layan-id/layan/locales"
	"github.com/layan-id/layan/store/storetest"
)

const (
	testToken  = "EAAG-unit-test-token-abcdef"
	testPhone  = "109876543210"
	testSecret = "unit-app-secret"
	testVerify = "unit-verify-token"
)

// graphFake answers the Graph API in memory (no network, so synctest can run
// through waits), recording the messages sent. answer, when set, decides the answer
// to each message: status code and body.
type graphFake struct {
	mu     sync.Mutex
	sent   []map[string]any
	reads  []string
	answer func(n int, m map[string]any) (int, string)
	n      int
}

func (g *graphFake) RoundTrip(r *http.Request) (*http.Response, error) {
	resp := func(code int, body string) (*http.Response, error) {
		return &http.Response{StatusCode: code, Body: io.NopCloser(strings.NewReader(body)), Header: http.Header{}, Request: r}, nil
	}
	if r.Header.Get("Authorization") != "Bearer "+testToken {
		return resp(401, `{"error":{"message":"Invalid OAuth access token","type":"OAuthException","code":190}}`)
	}
	switch {
	case r.Method == "POST" && strings.HasSuffix(r.URL.Path, "/"+testPhone+"/messages"):
		var m map[string]any
		json.NewDecoder(r.Body).Decode(&m)
		g.mu.Lock()
		defer g.mu.Unlock()
		if m["status"] == "read" {
			g.reads = append(g.reads, m["message_id"].(string))
			return resp(200, `{"success":true}`)
		}
		g.n++
		if g.answer != nil {
			if code, body := g.answer(g.n, m); code != 200 {
				return resp(code, body)
			}
		}
		g.sent = append(g.sent, m)
		return resp(200, fmt.Sprintf(`{"messages":[{"id":"wamid.out.%d"}]}`, g.n))
	case r.Method == "GET" && strings.HasSuffix(r.URL.Path, "/"+testPhone):
		return resp(200, `{"id":"`+testPhone+`"}`)
	case r.Method == "GET" && strings.HasPrefix(r.URL.Path, "/file/"):
		return resp(200, "\x89PNG")
	case r.Method == "GET":
		return resp(200, `{"url":"https://lookaside.example/file/x","mime_type":"image/jpeg","file_size":4}`)
	}
	return resp(404, `{}`)
}

func (g *graphFake) messages() []map[string]any {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]map[string]any(nil), g.sent...)
}

// echo is an engine that answers every message with what it understood.
type echo struct {
	mu   sync.Mutex
	seen []bot.Message
}

func (e *echo) Handle(_ context.Context, m bot.Message) (bot.Outcome, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.seen = append(e.seen, m)
	return bot.Outcome{Replies: []bot.Reply{{Text: "ok " + string(m.Kind)}}, To: bot.Recipient{Channel: m.Channel, ChatID: m.ChatID}}, nil
}

// savedMedia pretends to keep what people send; it opens the photos in dir as kept
// ones.
type savedMedia struct {
	n   int
	dir string
}

func (s *savedMedia) Open(name string) (*os.File, error) {
	if s.dir == "" || filepath.Base(name) != name {
		return nil, fs.ErrNotExist
	}
	return os.Open(filepath.Join(s.dir, name))
}

func (s *savedMedia) Save(r io.Reader) (string, string, error) {
	io.Copy(io.Discard, r)
	s.n++
	return fmt.Sprintf("photo%d.png", s.n), "image/png", nil
}

type harness struct {
	ch      *Channel
	graph   *graphFake
	engine  *echo
	sender  *bot.Sender
	store   Store
	alerts  chan Alert
	blocked chan string
}

func newHarness(t *testing.T, templates *Templates, now func() time.Time) *harness {
	t.Helper()
	return newHarnessOn(t, storetest.Mini(t).Store.WhatsAppCloud(), templates, now)
}

func newHarnessOn(t *testing.T, st Store, templates *Templates, now func() time.Time) *harness {
	t.Helper()
	texts, err := locales.Load("", nil)
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{graph: &graphFake{}, engine: &echo{}, alerts: make(chan Alert, 4), blocked: make(chan string, 4)}
	h.sender = bot.NewSender(nil)
	h.store = st
	if now == nil {
		now = time.Now
	}
	h.ch, err = New(Config{
		Token: testToken, PhoneID: testPhone, AppSecret: testSecret, VerifyToken: testVerify,
		API: "https://graph.example/v23.0", Store: h.store, Media: &savedMedia{}, Templates: templates,
		HTTPClient: &http.Client{Transport: h.graph}, Now: now, Logger: slog.New(slog.DiscardHandler),
		Alert:   func(_ context.Context, a Alert) { h.alerts <- a },
		Blocked: func(_ context.Context, key string) { h.blocked <- key },
	}, h.engine, h.sender, texts)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// memStore is a Store in memory, for tests in a synctest bubble (no network).
type memStore struct {
	Store // what is not needed panics
	mu    sync.Mutex
	last  map[string]time.Time
}

func (m *memStore) NoteInbound(_ context.Context, waID string, at, _ time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.last == nil {
		m.last = map[string]time.Time{}
	}
	m.last[waID] = at
	return nil
}

func (m *memStore) LastInbound(_ context.Context, waID string) (time.Time, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	t, ok := m.last[waID]
	return t, ok, nil
}
