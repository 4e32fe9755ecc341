package whatsapp

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.mau.fi/whatsmeow"
	"go.mau.fi/whatsmeow/proto/waE2E"
	"go.mau.fi/whatsmeow/types"
	"go.mau.fi/whatsmeow/types/events"

	"github.com/layan-id/layan/bot"
)

// fakeClient stands in for *whatsmeow.Client: it records what the channel does and
// answers as told. No test reaches WhatsApp.
type fakeClient struct {
	mu        sync.Mutex
	sent      []sentMessage
	reads     []types.MessageID
	presences []types.ChatPresence
	sendErrs  []error // returned by the next SendMessage calls, in order
	download  func(whatsmeow.DownloadableMessage) ([]byte, error)
	uploads   []upload
	uploadErr error
}

type sentMessage struct {
	to    types.JID
	text  string
	image *waE2E.ImageMessage // a photo
}

var _ Client = (*fakeClient)(nil)

func (f *fakeClient) SendMessage(_ context.Context, to types.JID, m *waE2E.Message, _ ...whatsmeow.SendRequestExtra) (whatsmeow.SendResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.sendErrs) > 0 {
		err := f.sendErrs[0]
		f.sendErrs = f.sendErrs[1:]
		if err != nil {
			return whatsmeow.SendResponse{}, err
		}
	}
	f.sent = append(f.sent, sentMessage{to: to, text: m.GetConversation(), image: m.GetImageMessage()})
	return whatsmeow.SendResponse{ID: fmt.Sprintf("OUT%d", len(f.sent))}, nil
}

func (f *fakeClient) MarkRead(_ context.Context, ids []types.MessageID, _ time.Time, _, _ types.JID, _ ...types.ReceiptType) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reads = append(f.reads, ids...)
	return nil
}

func (f *fakeClient) SendChatPresence(_ context.Context, _ types.JID, p types.ChatPresence, _ types.ChatPresenceMedia) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.presences = append(f.presences, p)
	return nil
}

func (f *fakeClient) Download(_ context.Context, d whatsmeow.DownloadableMessage) ([]byte, error) {
	if f.download == nil {
		return nil, errors.New("fake: no download configured")
	}
	return f.download(d)
}

// Upload records what it is given and answers as WhatsApp's media servers would,
// with the hashes of the bytes (whatsmeow encrypts them before uploading).
func (f *fakeClient) Upload(_ context.Context, data []byte, kind whatsmeow.MediaType) (whatsmeow.UploadResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.uploadErr != nil {
		return whatsmeow.UploadResponse{}, f.uploadErr
	}
	f.uploads = append(f.uploads, upload{data: data, kind: kind})
	sum := sha256.Sum256(data)
	n := len(f.uploads)
	return whatsmeow.UploadResponse{
		URL: fmt.Sprintf("https://mmg.whatsapp.net/o1/v/t62/%d", n), DirectPath: fmt.Sprintf("/o1/v/t62/%d", n),
		MediaKey: []byte("media-key-32-bytes-long-00000000"), FileSHA256: sum[:], FileEncSHA256: []byte("enc"), FileLength: uint64(len(data)),
	}, nil
}

type upload struct {
	data []byte
	kind whatsmeow.MediaType
}

func (f *fakeClient) texts() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, s := range f.sent {
		out = append(out, s.text)
	}
	return out
}

// fakeLIDs is a LID map.
type fakeLIDs map[string]string // phone digits → LID digits

func (l fakeLIDs) GetLIDForPN(_ context.Context, pn types.JID) (types.JID, error) {
	if lid, ok := l[pn.User]; ok {
		return types.NewJID(lid, types.HiddenUserServer), nil
	}
	return types.EmptyJID, nil
}

func (l fakeLIDs) GetPNForLID(_ context.Context, lid types.JID) (types.JID, error) {
	for pn, id := range l {
		if id == lid.User {
			return types.NewJID(pn, types.DefaultUserServer), nil
		}
	}
	return types.EmptyJID, nil
}

// fakeEngine records the messages it is given and answers as told.
type fakeEngine struct {
	mu     sync.Mutex
	got    []bot.Message
	errs   []error // returned by the next Handle calls, in order
	out    bot.Outcome
	during func(bot.Message) // called inside Handle
}

func (e *fakeEngine) Handle(_ context.Context, m bot.Message) (bot.Outcome, error) {
	e.mu.Lock()
	e.got = append(e.got, m)
	var err error
	if len(e.errs) > 0 {
		err, e.errs = e.errs[0], e.errs[1:]
	}
	during, out := e.during, e.out
	e.mu.Unlock()
	if during != nil {
		during(m)
	}
	if err != nil {
		return bot.Outcome{}, err
	}
	out.To.Channel, out.To.ChatID = m.Channel, m.ChatID // as the engine answers
	return out, nil
}

func (e *fakeEngine) messages() []bot.Message {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]bot.Message(nil), e.got...)
}

// fakeSender records what is handed to it.
type fakeSender struct {
	mu     sync.Mutex
	ch     bot.Channel
	limits bot.Limits
	sends  []senderCall
	sent   chan senderCall
}

type senderCall struct {
	chat    string
	lang    string
	replies []bot.Reply
}

func newFakeSender() *fakeSender { return &fakeSender{sent: make(chan senderCall, 16)} }

func (s *fakeSender) Register(ch bot.Channel, l bot.Limits) {
	s.mu.Lock()
	s.ch, s.limits = ch, l
	s.mu.Unlock()
}

func (s *fakeSender) Send(ctx context.Context, to bot.Recipient, replies ...bot.Reply) error {
	call := senderCall{chat: to.ChatID, lang: to.Lang, replies: replies}
	s.mu.Lock()
	s.sends = append(s.sends, call)
	s.mu.Unlock()
	s.sent <- call
	return nil
}

// fakeTexts is a catalog of the channel's own texts in two languages.
type fakeTexts struct{}

var testTexts = map[string]string{
	"id/whatsapp.reply_with_number":  "Balas dengan angka.",
	"en/whatsapp.reply_with_number":  "Reply with a number.",
	"id/whatsapp.share_location":     "Untuk berbagi lokasi: ketuk 📎 lalu Lokasi.",
	"en/whatsapp.share_location":     "To share a location: tap 📎, then Location.",
	"id/whatsapp.alert.logged_out":   "WhatsApp Layan keluar.",
	"id/whatsapp.alert.replaced":     "Sesi WhatsApp Layan dipakai program lain.",
	"id/whatsapp.alert.banned":       "Nomor WhatsApp Layan diblokir sementara.",
	"id/whatsapp.alert.banned_until": "Nomor WhatsApp Layan diblokir sementara sampai {{.Date}}.",
	"id/whatsapp.alert.outdated":     "Perbarui Layan.",
	"id/whatsapp.alert.recovered":    "WhatsApp Layan tersambung kembali.",
	"en/whatsapp.alert.recovered":    "Layan's WhatsApp is back.",
}

func (fakeTexts) Text(lang, key string, data map[string]any) (string, error) {
	if lang == "" {
		lang = "id"
	}
	s, ok := testTexts[lang+"/"+key]
	if !ok {
		s, ok = testTexts["id/"+key]
	}
	if !ok {
		return "[" + key + "]", fmt.Errorf("no text %q", key)
	}
	if d, ok := data["Date"].(string); ok {
		s = strings.ReplaceAll(s, "{{.Date}}", d)
	}
	return s, nil
}

// fakeLock is a connection lock held by whoever it says.
type fakeLock struct {
	mu     sync.Mutex
	holder string
	renew  bool // what RenewConnLock answers
	err    error
}

func (l *fakeLock) TakeConnLock(_ context.Context, token string, _ time.Duration) (bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.err != nil {
		return false, l.err
	}
	if l.holder == "" {
		l.holder = token
	}
	return l.holder == token, nil
}

func (l *fakeLock) RenewConnLock(_ context.Context, token string, _ time.Duration) (bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.renew && l.holder == token, l.err
}

func (l *fakeLock) DropConnLock(_ context.Context, token string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.holder == token {
		l.holder = ""
	}
	return nil
}

// fakeMedia keeps what it is given in memory, refusing what is not a PNG; it opens
// the photos in dir as kept ones.
type fakeMedia struct{ dir string }

func (m fakeMedia) Open(name string) (*os.File, error) {
	if m.dir == "" || filepath.Base(name) != name {
		return nil, fs.ErrNotExist
	}
	return os.Open(filepath.Join(m.dir, name))
}

func (fakeMedia) Save(r io.Reader) (string, string, error) {
	b, err := io.ReadAll(r)
	if err != nil {
		return "", "", err
	}
	if !strings.HasPrefix(string(b), "\x89PNG") {
		return "", "", fmt.Errorf("fake: not a PNG: %w", bot.ErrFileRefused)
	}
	return "photo.png", "image/png", nil
}

// logBuffer collects log lines for assertions.
type logBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

type harness struct {
	c      *Channel
	client *fakeClient
	engine *fakeEngine
	sender *fakeSender
	alerts chan Alert
	logs   *logBuffer
	lock   *fakeLock
}

// newHarness returns a channel on fakes, attached to a fake client as if connected.
func newHarness(t *testing.T, media bot.MediaStore) *harness {
	t.Helper()
	h := &harness{
		client: &fakeClient{}, engine: &fakeEngine{}, sender: newFakeSender(),
		alerts: make(chan Alert, 8), logs: &logBuffer{}, lock: &fakeLock{renew: true},
	}
	if media == nil {
		media = fakeMedia{}
	}
	c, err := New(Config{
		DataDir: t.TempDir(), Lock: h.lock, Media: media,
		Logger: slog.New(slog.NewTextHandler(h.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Alert:  func(_ context.Context, a Alert) { h.alerts <- a },
	}, h.engine, h.sender, fakeTexts{})
	if err != nil {
		t.Fatal(err)
	}
	h.c = c
	c.attach(h.client, fakeLIDs{})
	c.onConnected(context.Background())
	return h
}

// --- building events by hand ---

const (
	phone    = "6281234567890"
	lid      = "123456789012345"
	msgID    = "3EB0C767D26A1B2C3D4E"
	otherPhn = "6285712345678"
)

var when = time.Date(2026, 11, 27, 9, 30, 0, 0, time.UTC)

func pn(user string) types.JID     { return types.NewJID(user, types.DefaultUserServer) }
func lidJID(u string) types.JID    { return types.NewJID(u, types.HiddenUserServer) }
func str(s string) *string         { return &s }
func u64(n uint64) *uint64         { return &n }
func f64(f float64) *float64       { return &f }
func boolp(b bool) *bool           { return &b }
func text(s string) *waE2E.Message { return &waE2E.Message{Conversation: str(s)} }

// direct is a message a person sent the bot in a direct chat, by phone number.
func direct(m *waE2E.Message) *events.Message {
	return &events.Message{
		Info: types.MessageInfo{
			MessageSource: types.MessageSource{Chat: pn(phone), Sender: pn(phone), AddressingMode: types.AddressingModePN},
			ID:            msgID, Timestamp: when, PushName: "Budi", Type: "text",
		},
		Message: m,
	}
}

// with changes a built event.
func with(e *events.Message, f func(*events.Message)) *events.Message {
	f(e)
	return e
}
