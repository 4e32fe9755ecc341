package telegram_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/layan-id/layan/bot"
	"github.com/layan-id/layan/bot/telegram"
	"github.com/layan-id/layan/bot/telegram/telegramtest"
	"github.com/layan-id/layan/domain"
	"github.com/layan-id/layan/flows"
	"github.com/layan-id/layan/flows/faq"
	"github.com/layan-id/layan/locales"
	"github.com/layan-id/layan/store/storetest"
)

// The end-to-end test runs the real channel, engine, router, FAQ and complaint flows
// against telegram-test-api, a Telegram Bot API emulator from npm (see telegramtest).
// With a webhook set the emulator POSTs each update there, without Telegram's secret
// header: a small front in this test adds the header, as Telegram does.

const e2eToken = "7000000002:E2E-layan_token"

func TestEndToEndWithTheBotAPIEmulator(t *testing.T) {
	api := telegramtest.Start(t).URL
	b := e2eBackend(t)
	engine := e2eEngine(t, b)

	t.Run("long polling: a person walks the menu, asks a question, files a complaint and checks it", func(t *testing.T) {
		stop := runChannel(t, api, b, engine, nil, nil)
		defer stop()
		walk(t, &telegramtest.Person{API: api, Token: e2eToken, ID: 424201, Name: "Siti"})
	})

	t.Run("webhook: the same conversation arrives through the webhook", func(t *testing.T) {
		front := newFrontDoor(t)
		stop := runChannel(t, api, b, engine, func(c *telegram.Config) {
			c.WebhookURL = front.URL + telegram.WebhookPath
			c.WebhookSecret = "e2e-webhook-secret_4b227777d4dd1fc61c6f884f"
		}, front)
		defer stop()
		walk(t, &telegramtest.Person{API: api, Token: e2eToken, ID: 424202, Name: "Budi"})
		if front.posts.Load() == 0 {
			t.Error("the emulator delivered nothing through the webhook")
		}
	})

	t.Run("back to polling: the webhook is deleted and updates are polled again", func(t *testing.T) {
		stop := runChannel(t, api, b, engine, nil, nil)
		defer stop()
		p := &telegramtest.Person{API: api, Token: e2eToken, ID: 424203, Name: "Tom"}
		p.Command(t, "/start")
		got := p.Expect(t, "the menu", telegramtest.HasButton("complaint"))
		if !telegramtest.ContainsText(got, "Halo, selamat datang!") {
			t.Errorf("no greeting in %q", telegramtest.Texts(got))
		}
	})
}

// walk is one person's conversation, the same in every mode.
func walk(t *testing.T, p *telegramtest.Person) {
	t.Helper()
	p.Command(t, "/start")
	got := p.Expect(t, "the greeting and the menu", telegramtest.HasButton("faq"))
	if !telegramtest.ContainsText(got, "Halo, selamat datang! Saya Layan, asisten layanan publik Kabupaten Contoh.") {
		t.Fatalf("no greeting in %q", telegramtest.Texts(got))
	}
	menu := got[len(got)-1]
	if labels := menu.Buttons(); labels["faq"] != "Tanya layanan" || labels["complaint"] != "Buat pengaduan" {
		t.Errorf("menu buttons %v", labels)
	}

	p.Press(t, menu, "faq")
	p.Expect(t, "the question prompt", telegramtest.HasText("Silakan ketik pertanyaan Anda"))

	p.Say(t, map[string]any{"text": "ktp ku ilang gmn"})
	got = p.Expect(t, "the KTP answer and the feedback question", telegramtest.HasButton("faq:yes"))
	if !telegramtest.ContainsText(got, "Untuk mengganti KTP-el yang hilang") {
		t.Fatalf("no KTP answer in %q", telegramtest.Texts(got))
	}
	p.Press(t, got[len(got)-1], "faq:yes")
	p.Expect(t, "thanks for the feedback", telegramtest.HasAnyText(feedbackThanks(t)...))

	// A complaint, started by the command from Telegram's menu.
	p.Command(t, "/lapor")
	got = p.Expect(t, "the categories", telegramtest.HasButton("cat:jalan"))
	p.Press(t, got[len(got)-1], "cat:jalan")
	p.Expect(t, "the description prompt", telegramtest.HasText("Ceritakan masalahnya"))
	p.Say(t, map[string]any{"text": "Jalan desa berlubang besar di depan SD, sudah dua minggu, motor sering jatuh"})
	got = p.Expect(t, "the location question", telegramtest.HasText("Di mana lokasinya?"))
	if kb := got[len(got)-1].ReplyKeyboard(); len(kb) == 0 || kb[0]["request_location"] != true {
		t.Errorf("the location question has no share-location button: %v", got[len(got)-1].Markup)
	}
	p.Say(t, map[string]any{"location": map[string]any{"latitude": -6.91, "longitude": 109.73}})
	got = p.Expect(t, "the photo question", telegramtest.HasButton("photos:done"))
	p.Say(t, map[string]any{"caption": "lubangnya", "photo": []map[string]any{
		{"file_id": "e2e-small", "file_unique_id": "s", "width": 90, "height": 67, "file_size": 1500},
		{"file_id": "e2e-large", "file_unique_id": "l", "width": 1280, "height": 960, "file_size": 95000},
	}})
	got = p.Expect(t, "the photo receipt", telegramtest.HasText("Foto 1 dari 3"))
	p.Press(t, got[len(got)-1], "photos:done")
	got = p.Expect(t, "the confidentiality question", telegramtest.HasButton("conf:no"))
	p.Press(t, got[len(got)-1], "conf:no")
	got = p.Expect(t, "the summary", telegramtest.HasButton("confirm"))
	if !telegramtest.ContainsText(got, "• Foto: 1") || !telegramtest.ContainsText(got, "-6.910000, 109.730000") {
		t.Errorf("the summary lacks the photo or the place: %q", telegramtest.Texts(got))
	}
	p.Press(t, got[len(got)-1], "confirm")
	got = p.Expect(t, "the ticket", telegramtest.HasText("nomor tiket"))
	ticket := regexp.MustCompile(`E2E-\d{6}-\d{4}`).FindString(strings.Join(telegramtest.Texts(got), "\n"))
	if ticket == "" {
		t.Fatalf("no ticket number in %q", telegramtest.Texts(got))
	}

	p.Command(t, "/status")
	got = p.Expect(t, "the person's complaints", telegramtest.HasText(ticket))
	if !telegramtest.ContainsText(got, "Diterima") {
		t.Errorf("status of %s not shown as received: %q", ticket, telegramtest.Texts(got))
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

// --- set-up ---

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
