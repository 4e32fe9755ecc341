package telegram_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/layan-id/layan/bot"
	"github.com/layan-id/layan/bot/telegram"
	"github.com/layan-id/layan/store/storetest"
)

// testToken looks like a real token: digits, a colon, letters. Its colon is escaped
// in some URL forms, which the redaction must also catch.
const testToken = "6000000001:AAH-secretTOKENvalue_xyz"

// call is one request the fake Bot API received.
type call struct {
	Method string
	Params url.Values
	At     time.Time
}

// markup decodes the reply_markup parameter.
func (c call) markup(t testing.TB) map[string]any {
	t.Helper()
	raw := c.Params.Get("reply_markup")
	if raw == "" {
		return nil
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(raw), &m); err != nil {
		t.Fatalf("reply_markup %q is not JSON: %v", raw, err)
	}
	return m
}

// fakeAPI is a Bot API server for tests: it answers the methods the channel uses,
// records every call, and lets a test script answers per method.
type fakeAPI struct {
	*httptest.Server
	mu       sync.Mutex
	calls    []call
	answers  map[string][]answer // method → scripted answers, used in order, the last repeated
	updates  []string            // raw updates not yet confirmed, served as Telegram does
	files    map[string]string   // file path ("photos/<file id>.jpg") → content
	msgID    atomic.Int64
	onSend   func(call)    // called for every sendMessage, after recording it
	sendWait chan struct{} // when set, sendMessage waits on it
}

// answer is a scripted reply: an HTTP status and a body.
type answer struct {
	Status int
	Body   string
}

func newFakeAPI(t testing.TB) *fakeAPI {
	f := &fakeAPI{answers: map[string][]answer{}, files: map[string]string{}}
	f.Server = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.Close)
	return f
}

// endpoint is the printf pattern for telegram.Config.Endpoint.
func (f *fakeAPI) endpoint() string { return f.URL + "/bot%s/%s" }

// script makes method answer with the given answers, in order (the last repeats).
func (f *fakeAPI) script(method string, as ...answer) {
	f.mu.Lock()
	f.answers[method] = as
	f.mu.Unlock()
}

// addFile makes a file downloadable by its file id.
func (f *fakeAPI) addFile(fileID, content string) {
	f.mu.Lock()
	f.files["photos/"+fileID+".jpg"] = content
	f.mu.Unlock()
}

// queueUpdates adds updates for getUpdates, which serves them like Telegram: every
// update from the offset on, until a call with a higher offset confirms them.
func (f *fakeAPI) queueUpdates(raws ...string) {
	f.mu.Lock()
	f.updates = append(f.updates, raws...)
	f.mu.Unlock()
}

func updateID(raw string) int {
	var u struct {
		ID int `json:"update_id"`
	}
	json.Unmarshal([]byte(raw), &u)
	return u.ID
}

// callsOf returns the recorded calls of one method.
func (f *fakeAPI) callsOf(method string) []call {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []call
	for _, c := range f.calls {
		if c.Method == method {
			out = append(out, c)
		}
	}
	return out
}

func (f *fakeAPI) allCalls() []call {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]call(nil), f.calls...)
}

func (f *fakeAPI) serve(w http.ResponseWriter, r *http.Request) {
	if rest, ok := strings.CutPrefix(r.URL.Path, "/file/bot"+testToken+"/"); ok {
		f.mu.Lock()
		body, found := f.files[rest]
		f.calls = append(f.calls, call{Method: "download " + rest, At: time.Now()})
		f.mu.Unlock()
		if !found {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "image/jpeg")
		io.WriteString(w, body)
		return
	}
	path, ok := strings.CutPrefix(r.URL.Path, "/bot")
	tok, method, ok2 := strings.Cut(path, "/")
	if !ok || !ok2 || tok != testToken {
		w.WriteHeader(http.StatusUnauthorized)
		io.WriteString(w, `{"ok":false,"error_code":401,"description":"Unauthorized"}`)
		return
	}
	r.ParseForm()
	c := call{Method: method, Params: r.PostForm, At: time.Now()}
	if strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/") && r.ParseMultipartForm(32<<20) == nil {
		// An upload: its fields, and each file as "upload:<name>:<size>".
		c.Params = url.Values{}
		for k, v := range r.MultipartForm.Value {
			c.Params[k] = v
		}
		for k, fs := range r.MultipartForm.File {
			c.Params.Set(k, fmt.Sprintf("upload:%s:%d", fs[0].Filename, fs[0].Size))
		}
	}
	f.mu.Lock()
	f.calls = append(f.calls, c)
	scripted := f.answers[method]
	var a *answer
	if len(scripted) > 0 {
		a = &scripted[0]
		if len(scripted) > 1 {
			f.answers[method] = scripted[1:]
		}
	}
	var batch []string
	if method == "getUpdates" && a == nil {
		offset, _ := strconv.Atoi(c.Params.Get("offset"))
		kept := f.updates[:0]
		for _, u := range f.updates {
			if updateID(u) >= offset {
				kept = append(kept, u)
			}
		}
		f.updates = kept
		batch = append(batch, kept...)
	}
	onSend, wait := f.onSend, f.sendWait
	f.mu.Unlock()

	if method == "sendMessage" {
		if wait != nil {
			<-wait
		}
		if onSend != nil {
			onSend(c)
		}
	}
	if a != nil {
		w.WriteHeader(a.Status)
		io.WriteString(w, a.Body)
		return
	}
	switch method {
	case "getMe":
		io.WriteString(w, `{"ok":true,"result":{"id":6000000001,"is_bot":true,"first_name":"Layan","username":"LayanTestBot"}}`)
	case "sendMessage", "sendPhoto", "sendDocument":
		chat, _ := strconv.ParseInt(c.Params.Get("chat_id"), 10, 64)
		res, _ := json.Marshal(map[string]any{
			"message_id": f.msgID.Add(1), "date": time.Now().Unix(),
			"chat": map[string]any{"id": chat, "type": "private"}, "text": c.Params.Get("text"),
		})
		fmt.Fprintf(w, `{"ok":true,"result":%s}`, res)
	case "getUpdates":
		fmt.Fprintf(w, `{"ok":true,"result":[%s]}`, strings.Join(batch, ","))
	case "getFile":
		id := c.Params.Get("file_id")
		fmt.Fprintf(w, `{"ok":true,"result":{"file_id":%q,"file_unique_id":"u1","file_size":9,"file_path":"photos/%s.jpg"}}`, id, id)
	default:
		io.WriteString(w, `{"ok":true,"result":true}`)
	}
}

// fakeTexts renders "<lang>:<key>" for every key, so tests see which was asked for.
type fakeTexts struct{}

func (fakeTexts) Text(lang, key string, _ map[string]any) (string, error) {
	return lang + ":" + key, nil
}

// syncBuffer is a log sink safe for concurrent writers and a reading test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// recordingHandler is a bot.Handler that remembers every turn and answers each
// with one reply naming what it got.
type recordingHandler struct {
	mu    sync.Mutex
	msgs  []bot.Message
	reply func(m bot.Message) []bot.Reply
	fail  func(m bot.Message) error
}

func (h *recordingHandler) Handle(ctx context.Context, t *bot.Turn) error {
	if h.fail != nil {
		if err := h.fail(t.Msg); err != nil {
			return err
		}
	}
	h.mu.Lock()
	h.msgs = append(h.msgs, t.Msg)
	h.mu.Unlock()
	if h.reply != nil {
		for _, r := range h.reply(t.Msg) {
			t.Say(r)
		}
		return nil
	}
	t.Say(bot.Reply{Text: "got " + string(t.Msg.Kind) + " " + t.Msg.Text + t.Msg.Option})
	return nil
}

func (h *recordingHandler) handled() []bot.Message {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]bot.Message(nil), h.msgs...)
}

// failingStore wraps a conversation store and fails Acquire while fail is set,
// counting the failures.
type failingStore struct {
	bot.ConversationStore
	fail   atomic.Bool
	failed atomic.Int32
}

func (s *failingStore) Acquire(ctx context.Context, key, msgID string) (*bot.Claim, error) {
	if s.fail.Load() {
		s.failed.Add(1)
		return nil, fmt.Errorf("store: redis is down")
	}
	return s.ConversationStore.Acquire(ctx, key, msgID)
}

// rig is a channel on a fake Bot API, a real engine and store, and a recording handler.
type rig struct {
	api     *fakeAPI
	ch      *telegram.Channel
	handler *recordingHandler
	conv    *failingStore
	backend storetest.Backend
	logs    *syncBuffer
	sender  *bot.Sender
	blocked chan string
	mux     *http.ServeMux
}

func newRig(t testing.TB, b storetest.Backend, edit func(*telegram.Config)) *rig {
	t.Helper()
	r := &rig{api: newFakeAPI(t), handler: &recordingHandler{}, backend: b, logs: &syncBuffer{}, blocked: make(chan string, 10)}
	log := slog.New(slog.NewTextHandler(r.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	r.conv = &failingStore{ConversationStore: b.Store.Conversations(30*time.Second, time.Hour)}
	engine := bot.NewEngine(bot.EngineConfig{
		Store: r.conv, Handler: r.handler, Logger: log,
		Apology: func(string) bot.Reply { return bot.Reply{Text: "maaf"} },
	})
	r.sender = bot.NewSender(log)
	limits := bot.Limits{Attempts: 2, Backoff: 10 * time.Millisecond}
	cfg := telegram.Config{
		Token: testToken, Endpoint: r.api.endpoint(), Logger: log, Limits: &limits,
		PollInterval: 20 * time.Millisecond, MaxBackoff: 50 * time.Millisecond, ClaimAfter: time.Minute,
		QueueWait: 50 * time.Millisecond,
		Blocked:   func(_ context.Context, key string) { r.blocked <- key },
	}
	if edit != nil {
		edit(&cfg)
	}
	ch, err := telegram.New(cfg, engine, r.sender, b.Store.Telegram(), fakeTexts{})
	if err != nil {
		t.Fatal(err)
	}
	r.ch = ch
	r.mux = http.NewServeMux()
	ch.Register(r.mux)
	return r
}

// run starts the channel, stops it when the test ends, and waits until the channel
// is connected.
func (r *rig) run(t testing.TB) {
	t.Helper()
	r.start(t)
	waitFor(t, 5*time.Second, "the channel to connect", func() bool { return r.ch.Me() != nil })
}

// start starts the channel and stops it when owner ends.
func (r *rig) start(owner testing.TB) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { r.ch.Run(ctx); close(done) }()
	owner.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			owner.Error("Run did not return within 20 s of its context ending")
		}
	})
}

// waitFor polls cond until it holds or the time is up.
func waitFor(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
