package telegram_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/layan-id/layan/bot"
	"github.com/layan-id/layan/bot/telegram"
	"github.com/layan-id/layan/domain"
	"github.com/layan-id/layan/flows"
	"github.com/layan-id/layan/flows/faq"
	"github.com/layan-id/layan/locales"
	"github.com/layan-id/layan/store/storetest"
)

// The end-to-end test runs the real channel, engine, router, FAQ and complaint flows
// against telegram-test-api, a Telegram Bot API emulator from npm, installed by
// `npm ci --prefix bot/telegram/e2e` and started from bot/telegram/e2e/server.js.
//
// The emulator's client API (read from node_modules/telegram-test-api/lib):
//
//	POST /sendMessage   a message object with botToken, from, chat, text (or location,
//	                    photo ...): the person writes
//	POST /sendCommand   the same with entities of type bot_command
//	POST /sendCallback  {botToken, from, message, data}: the person presses a button
//	POST /getUpdates    {token, chatId}: the bot's messages to that chat not yet read,
//	                    as [{message: {chat_id, text, reply_markup}, ...}]
//
// On the bot side it answers getMe, getUpdates (ignoring offset and timeout),
// sendMessage, answerCallbackQuery, setWebhook and deleteWebhook; setMyCommands gets a
// 500. With a webhook set it POSTs each update there, without Telegram's secret header:
// a small front in this test adds the header, as Telegram does.

const e2eToken = "7000000002:E2E-layan_token"

func TestEndToEndWithTheBotAPIEmulator(t *testing.T) {
	api := startEmulator(t)
	b := e2eBackend(t)
	engine := e2eEngine(t, b)

	t.Run("long polling: a person walks the menu, asks a question, files a complaint and checks it", func(t *testing.T) {
		stop := runChannel(t, api, b, engine, nil, nil)
		defer stop()
		walk(t, &person{api: api, id: 424201, name: "Siti"})
	})

	t.Run("webhook: the same conversation arrives through the webhook", func(t *testing.T) {
		front := newFrontDoor(t)
		stop := runChannel(t, api, b, engine, func(c *telegram.Config) {
			c.WebhookURL = front.URL + telegram.WebhookPath
			c.WebhookSecret = "e2e-webhook-secret_4b227777d4dd1fc61c6f884f"
		}, front)
		defer stop()
		walk(t, &person{api: api, id: 424202, name: "Budi"})
		if front.posts.Load() == 0 {
			t.Error("the emulator delivered nothing through the webhook")
		}
	})

	t.Run("back to polling: the webhook is deleted and updates are polled again", func(t *testing.T) {
		stop := runChannel(t, api, b, engine, nil, nil)
		defer stop()
		p := &person{api: api, id: 424203, name: "Tom"}
		p.command(t, "/start")
		got := p.expect(t, "the menu", hasButton("complaint"))
		if !containsText(got, "Halo, selamat datang!") {
			t.Errorf("no greeting in %q", texts(got))
		}
	})
}

// walk is one person's conversation, the same in every mode.
func walk(t *testing.T, p *person) {
	t.Helper()
	p.command(t, "/start")
	got := p.expect(t, "the greeting and the menu", hasButton("faq"))
	if !containsText(got, "Halo, selamat datang! Saya Layan, asisten layanan publik Kabupaten Contoh.") {
		t.Fatalf("no greeting in %q", texts(got))
	}
	menu := got[len(got)-1]
	if labels := menu.buttons(); labels["faq"] != "Tanya layanan" || labels["complaint"] != "Buat pengaduan" {
		t.Errorf("menu buttons %v", labels)
	}

	p.press(t, menu, "faq")
	p.expect(t, "the question prompt", hasText("Silakan ketik pertanyaan Anda"))

	p.say(t, map[string]any{"text": "ktp ku ilang gmn"})
	got = p.expect(t, "the KTP answer and the feedback question", hasButton("faq:yes"))
	if !containsText(got, "Untuk mengganti KTP-el yang hilang") {
		t.Fatalf("no KTP answer in %q", texts(got))
	}
	p.press(t, got[len(got)-1], "faq:yes")
	p.expect(t, "thanks for the feedback", hasAnyText(feedbackThanks(t)...))

	// A complaint, started by the command from Telegram's menu.
	p.command(t, "/lapor")
	got = p.expect(t, "the categories", hasButton("cat:jalan"))
	p.press(t, got[len(got)-1], "cat:jalan")
	p.expect(t, "the description prompt", hasText("Ceritakan masalahnya"))
	p.say(t, map[string]any{"text": "Jalan desa berlubang besar di depan SD, sudah dua minggu, motor sering jatuh"})
	got = p.expect(t, "the location question", hasText("Di mana lokasinya?"))
	if kb := got[len(got)-1].replyKeyboard(); len(kb) == 0 || kb[0]["request_location"] != true {
		t.Errorf("the location question has no share-location button: %v", got[len(got)-1].Markup)
	}
	p.say(t, map[string]any{"location": map[string]any{"latitude": -6.91, "longitude": 109.73}})
	got = p.expect(t, "the photo question", hasButton("photos:done"))
	p.say(t, map[string]any{"caption": "lubangnya", "photo": []map[string]any{
		{"file_id": "e2e-small", "file_unique_id": "s", "width": 90, "height": 67, "file_size": 1500},
		{"file_id": "e2e-large", "file_unique_id": "l", "width": 1280, "height": 960, "file_size": 95000},
	}})
	got = p.expect(t, "the photo receipt", hasText("Foto 1 dari 3"))
	p.press(t, got[len(got)-1], "photos:done")
	got = p.expect(t, "the confidentiality question", hasButton("conf:no"))
	p.press(t, got[len(got)-1], "conf:no")
	got = p.expect(t, "the summary", hasButton("confirm"))
	if !containsText(got, "• Foto: 1") || !containsText(got, "-6.910000, 109.730000") {
		t.Errorf("the summary lacks the photo or the place: %q", texts(got))
	}
	p.press(t, got[len(got)-1], "confirm")
	got = p.expect(t, "the ticket", hasText("nomor tiket"))
	ticket := regexp.MustCompile(`E2E-\d{6}-\d{4}`).FindString(strings.Join(texts(got), "\n"))
	if ticket == "" {
		t.Fatalf("no ticket number in %q", texts(got))
	}

	p.command(t, "/status")
	got = p.expect(t, "the person's complaints", hasText(ticket))
	if !containsText(got, "Diterima") {
		t.Errorf("status of %s not shown as received: %q", ticket, texts(got))
	}
}

// --- the person, through the emulator's client API ---

type person struct {
	api  string
	id   int64
	name string
	seen []botMessage // everything received so far
}

// botMessage is a message the bot sent, as the emulator keeps it.
type botMessage struct {
	Text   string         `json:"text"`
	ChatID any            `json:"chat_id"`
	Markup map[string]any `json:"reply_markup"`
}

// buttons maps the inline buttons' callback data to their labels.
func (m botMessage) buttons() map[string]string {
	out := map[string]string{}
	rows, _ := m.Markup["inline_keyboard"].([]any)
	for _, row := range rows {
		for _, b := range row.([]any) {
			b := b.(map[string]any)
			data, _ := b["callback_data"].(string)
			out[data], _ = b["text"].(string)
		}
	}
	return out
}

// replyKeyboard returns the first row of a reply keyboard.
func (m botMessage) replyKeyboard() []map[string]any {
	rows, _ := m.Markup["keyboard"].([]any)
	if len(rows) == 0 {
		return nil
	}
	var out []map[string]any
	for _, b := range rows[0].([]any) {
		out = append(out, b.(map[string]any))
	}
	return out
}

func (p *person) user() map[string]any {
	return map[string]any{"id": p.id, "is_bot": false, "first_name": p.name, "username": strings.ToLower(p.name), "language_code": "id"}
}

func (p *person) chat() map[string]any {
	return map[string]any{"id": p.id, "type": "private", "first_name": p.name}
}

func (p *person) post(t *testing.T, path string, body map[string]any) {
	t.Helper()
	b, _ := json.Marshal(body)
	resp, err := http.Post(p.api+path, "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatalf("POST %s: %v", path, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(resp.Body)
		t.Fatalf("POST %s: status %d: %s", path, resp.StatusCode, msg)
	}
}

// say sends a message with the given fields (text, location, photo ...).
func (p *person) say(t *testing.T, fields map[string]any) {
	t.Helper()
	m := map[string]any{"botToken": e2eToken, "from": p.user(), "chat": p.chat(), "date": time.Now().Unix()}
	for k, v := range fields {
		m[k] = v
	}
	p.post(t, "/sendMessage", m)
}

// command sends a bot command as Telegram clients do.
func (p *person) command(t *testing.T, text string) {
	t.Helper()
	p.post(t, "/sendCommand", map[string]any{
		"botToken": e2eToken, "from": p.user(), "chat": p.chat(), "date": time.Now().Unix(), "text": text,
		"entities": []map[string]any{{"offset": 0, "length": len(strings.Fields(text)[0]), "type": "bot_command"}},
	})
}

// press presses the button of msg whose callback data is data.
func (p *person) press(t *testing.T, msg botMessage, data string) {
	t.Helper()
	if _, ok := msg.buttons()[data]; !ok {
		t.Fatalf("no button %q on %q (buttons %v)", data, msg.Text, msg.buttons())
	}
	p.post(t, "/sendCallback", map[string]any{
		"botToken": e2eToken, "from": p.user(), "data": data, "date": time.Now().Unix(),
		"message": map[string]any{"from": p.user(), "chat": p.chat()},
	})
}

// expect reads the bot's new messages to the person until one satisfies done, and
// returns those read in this call.
func (p *person) expect(t *testing.T, what string, done func(botMessage) bool) []botMessage {
	t.Helper()
	var got []botMessage
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		b, _ := json.Marshal(map[string]any{"token": e2eToken, "chatId": p.id})
		resp, err := http.Post(p.api+"/getUpdates", "application/json", bytes.NewReader(b))
		if err != nil {
			t.Fatalf("read the bot's messages: %v", err)
		}
		var page struct {
			Result []struct {
				Message botMessage `json:"message"`
			} `json:"result"`
		}
		err = json.NewDecoder(resp.Body).Decode(&page)
		resp.Body.Close()
		if err != nil {
			t.Fatalf("read the bot's messages: %v", err)
		}
		for _, r := range page.Result {
			got = append(got, r.Message)
			p.seen = append(p.seen, r.Message)
			if done(r.Message) {
				return got
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("waited 20 s for %s; the bot said %q", what, texts(got))
	return nil
}

func hasButton(data string) func(botMessage) bool {
	return func(m botMessage) bool { _, ok := m.buttons()[data]; return ok }
}

func hasText(s string) func(botMessage) bool {
	return func(m botMessage) bool { return strings.Contains(m.Text, s) }
}

// hasAnyText matches a message holding one of ss (a sentence the bot words in several
// ways).
func hasAnyText(ss ...string) func(botMessage) bool {
	return func(m botMessage) bool {
		return slices.ContainsFunc(ss, func(s string) bool { return strings.Contains(m.Text, s) })
	}
}

// feedbackThanks is every wording of the bot's thanks for FAQ feedback, in Indonesian.
func feedbackThanks(t *testing.T) []string {
	texts, err := locales.Load("", map[string]any{"Region": "Kabupaten Contoh"})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, key := range []string{"faq.thanks", "faq.thanks_2", "faq.thanks_3"} {
		if s, err := texts.Text("id", key, nil); err == nil {
			out = append(out, s)
		}
	}
	if len(out) == 0 {
		t.Fatal("no faq.thanks text")
	}
	return out
}

func containsText(ms []botMessage, s string) bool {
	for _, m := range ms {
		if strings.Contains(m.Text, s) {
			return true
		}
	}
	return false
}

func texts(ms []botMessage) []string {
	var out []string
	for _, m := range ms {
		out = append(out, m.Text)
	}
	return out
}

// --- set-up ---

// startEmulator starts telegram-test-api on a free loopback port and returns its URL.
// Without Node or the npm package it skips on a developer's machine and fails in CI.
func startEmulator(t *testing.T) string {
	t.Helper()
	node, err := exec.LookPath("node")
	if err == nil {
		_, err = os.Stat(filepath.Join("e2e", "node_modules", "telegram-test-api", "package.json"))
	}
	if err != nil {
		msg := "the Telegram Bot API emulator is not installed (" + err.Error() + "): install Node.js 18 or newer, then run `npm ci --prefix bot/telegram/e2e`"
		if os.Getenv("CI") == "" {
			t.Skip(msg)
		}
		t.Fatal(msg + " (CI must run this test)")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	ln.Close()

	cmd := exec.Command(node, "server.js", port, "--exit-with-stdin")
	cmd.Dir = "e2e"
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatalf("start the emulator: %v", err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		stdin.Close() // server.js stops when its input ends
		select {
		case <-exited:
		case <-time.After(5 * time.Second):
			cmd.Process.Kill()
			<-exited
		}
		if t.Failed() {
			t.Logf("emulator output:\n%s", out)
		}
	})
	base := "http://127.0.0.1:" + port
	deadline := time.Now().Add(15 * time.Second)
	for {
		resp, err := http.Post(base+"/bot"+e2eToken+"/getMe", "application/json", nil)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return base
			}
		}
		select {
		case <-exited:
			t.Fatalf("the emulator exited:\n%s", out)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("the emulator did not answer within 15 s:\n%s", out)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// e2eBackend is the real Redis when LAYAN_TEST_REDIS_URL is set (CI), else miniredis.
func e2eBackend(t testing.TB) storetest.Backend {
	bs := storetest.Backends(t)
	return bs[len(bs)-1]
}

// e2eEngine is Layan's engine with the real router, FAQ and complaint flows.
func e2eEngine(t testing.TB, b storetest.Backend) *bot.Engine {
	t.Helper()
	texts, err := locales.Load("", map[string]any{"Region": "Kabupaten Contoh"})
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.DiscardHandler)
	router := flows.NewRouter(texts, log)
	matcher, err := faq.Load(locales.Content(""))
	if err != nil {
		t.Fatal(err)
	}
	router.RegisterFAQ(matcher, b.Store.FAQStats())
	region, err := flows.LoadRegion(locales.Content(""))
	if err != nil {
		t.Fatal(err)
	}
	router.RegisterComplaints(flows.ComplaintConfig{
		Store: b.Store.Complaints("E2E", time.UTC), Alerts: noAlerts{}, Region: region,
	})
	return bot.NewEngine(bot.EngineConfig{
		Store: b.Store.Conversations(30*time.Second, time.Hour), Handler: router,
		Apology: router.Apology, Logger: log,
	})
}

type noAlerts struct{}

func (noAlerts) NewComplaint(context.Context, *domain.Complaint)  {}
func (noAlerts) Reopened(context.Context, *domain.Complaint)      {}
func (noAlerts) StatusChanged(context.Context, *domain.Complaint) {}

// runChannel runs a Telegram channel on the emulator and returns the function that
// stops it. In webhook mode it serves the channel's mux on a loopback server behind
// the front door.
func runChannel(t *testing.T, api string, b storetest.Backend, engine *bot.Engine, edit func(*telegram.Config), front *frontDoor) (stop func()) {
	t.Helper()
	logs := &syncBuffer{}
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	texts, err := locales.Load("", map[string]any{"Region": "Kabupaten Contoh"})
	if err != nil {
		t.Fatal(err)
	}
	cfg := telegram.Config{
		Token: e2eToken, Endpoint: api + "/bot%s/%s", Logger: log,
		PollInterval: 100 * time.Millisecond, QueueWait: 200 * time.Millisecond,
	}
	if edit != nil {
		edit(&cfg)
	}
	ch, err := telegram.New(cfg, engine, bot.NewSender(log), b.Store.Telegram(), texts)
	if err != nil {
		t.Fatal(err)
	}
	if front != nil {
		mux := http.NewServeMux()
		ch.Register(mux)
		front.target.Store(httptest.NewServer(mux))
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { ch.Run(ctx); close(done) }()
	// The emulator, unlike Telegram, does not pass on what arrived before a webhook
	// was set (or deleted): the person speaks once the channel receives.
	waitFor(t, 10*time.Second, "the channel to receive updates", ch.Receiving)
	return func() {
		cancel()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			t.Error("Run did not return within 20 s of its context ending")
		}
		if front != nil {
			if srv := front.target.Swap(nil); srv != nil {
				srv.Close()
			}
		}
		assertNoToken(t, "the channel's logs", logs.String())
		if t.Failed() {
			t.Logf("channel logs:\n%s", logs)
		}
	}
}

// frontDoor stands where Telegram's servers would: it adds the secret header that
// Telegram sends (the emulator does not) and forwards to the channel's webhook.
type frontDoor struct {
	*httptest.Server
	target atomic.Pointer[httptest.Server] // the channel's server
	posts  atomic.Int64
}

func newFrontDoor(t *testing.T) *frontDoor {
	f := &frontDoor{}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.posts.Add(1)
		target := f.target.Load()
		if target == nil {
			http.Error(w, "no channel", http.StatusServiceUnavailable)
			return
		}
		body, _ := io.ReadAll(r.Body)
		req, _ := http.NewRequestWithContext(r.Context(), r.Method, target.URL+r.URL.Path, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Telegram-Bot-Api-Secret-Token", "e2e-webhook-secret_4b227777d4dd1fc61c6f884f")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		w.WriteHeader(resp.StatusCode)
		io.Copy(w, resp.Body)
	}))
	t.Cleanup(f.Close)
	return f
}
