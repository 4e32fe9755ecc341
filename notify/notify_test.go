package notify_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/layan-id/layan/bot"
	"github.com/layan-id/layan/domain"
	"github.com/layan-id/layan/locales"
	"github.com/layan-id/layan/notify"
	"github.com/layan-id/layan/store"
	"github.com/layan-id/layan/store/storetest"
)

func texts(t *testing.T) *locales.Catalog {
	t.Helper()
	c, err := locales.Load("", map[string]any{"Region": "Kabupaten Contoh"})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// phone is a chat channel as a person reads it: each reply's text, then, under
// options, the channel's own hint to answer by number in the recipient's language;
// outside a messaging window (closed) the template that stands in for the replies.
type phone struct {
	name   string
	texts  *locales.Catalog
	closed bool

	mu  sync.Mutex
	got map[string][]string // chat → what the person read
}

func newPhone(name string, texts *locales.Catalog) *phone {
	return &phone{name: name, texts: texts, got: map[string][]string{}}
}

func (p *phone) Name() string { return p.name }

func (p *phone) Send(ctx context.Context, to bot.Recipient, r bot.Reply) error {
	line := r.Text
	if len(r.Options) > 0 {
		hint, _ := p.texts.Text(to.Lang, "whatsapp.reply_with_number", nil)
		line += " | " + hint
	}
	if tm := to.Template; p.closed && tm != nil {
		if !tm.Claim() {
			return nil
		}
		line = fmt.Sprintf("template %s in %q: %v", tm.Purposes[0], to.Lang, tm.Params)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.got[to.ChatID] = append(p.got[to.ChatID], line)
	return nil
}

func (p *phone) read(chat string) []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.got[chat]...)
}

// offline is a channel this replica cannot send on now.
type offline struct{ phone }

func (o *offline) Ready() bool { return false }

// engine answers an event with news in the person's language and the options to
// rate; it fails the first fails calls, as a busy chat does.
type engine struct {
	lang  string
	fails int
	block chan struct{} // when not nil, Handle waits for it to close

	mu    sync.Mutex
	calls int
	seen  map[string]bool
}

func (e *engine) Handle(ctx context.Context, m bot.Message) (bot.Outcome, error) {
	if e.block != nil {
		<-e.block
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.calls++
	if e.calls <= e.fails {
		return bot.Outcome{}, errors.New("bot: wait for conversation: context deadline exceeded")
	}
	to := bot.Recipient{Channel: m.Channel, ChatID: m.ChatID, Lang: e.lang}
	if e.seen[m.ID] {
		return bot.Outcome{Duplicate: true, To: to}, nil
	}
	if e.seen == nil {
		e.seen = map[string]bool{}
	}
	e.seen[m.ID] = true
	return bot.Outcome{To: to, Replies: []bot.Reply{
		{Text: "news of " + m.Text},
		{Text: "rate", Options: []bot.Option{{ID: "rate:1", Label: "1"}, {ID: "rate:5", Label: "5"}}},
	}}, nil
}

func complaint(status domain.Status) *domain.Complaint {
	return &domain.Complaint{
		ID: "ADU-261127-0001", Status: status, Category: "jalan", Description: "Jalan berlubang di depan SD",
		Reporter:  domain.Reporter{Channel: "whatsapp", ChatID: "6281200000001", Key: "whatsapp:6281200000001"},
		CreatedAt: time.Date(2026, 11, 27, 2, 0, 0, 0, time.UTC),
		History:   []domain.Event{{Status: domain.StatusReceived}, {Status: status}},
	}
}

func quiet() *slog.Logger { return slog.New(slog.DiscardHandler) }

func newNotifier(t *testing.T, cfg notify.Config) *notify.Notifier {
	t.Helper()
	if cfg.Logger == nil {
		cfg.Logger = quiet()
	}
	n, err := notify.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestComplaintNewsReachesTheReporterInTheirLanguage(t *testing.T) {
	catalog := texts(t)
	for _, lang := range []string{"en", "id"} {
		t.Run(lang, func(t *testing.T) {
			wa := newPhone("whatsapp", catalog)
			sender := bot.NewSender(quiet())
			sender.Register(wa, bot.Limits{})
			n := newNotifier(t, notify.Config{Engine: &engine{lang: lang}, Sender: sender, Texts: catalog})
			n.StatusChanged(context.Background(), complaint(domain.StatusDone))
			n.Wait()
			hint, _ := catalog.Text(lang, "whatsapp.reply_with_number", nil)
			want := []string{"news of complaint:ADU-261127-0001:2", "rate | " + hint}
			if got := wa.read("6281200000001"); strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Errorf("the reporter read %q, want %q", got, want)
			}
		})
	}
	t.Run("outside the window, as the template with the status in their language", func(t *testing.T) {
		wa := newPhone("whatsapp", catalog)
		wa.closed = true
		sender := bot.NewSender(quiet())
		sender.Register(wa, bot.Limits{})
		n := newNotifier(t, notify.Config{Engine: &engine{lang: "en"}, Sender: sender, Texts: catalog})
		n.StatusChanged(context.Background(), complaint(domain.StatusDone))
		n.Wait()
		status, _ := catalog.Text("en", "complaint.status.selesai", nil)
		want := fmt.Sprintf(`template complaint_status in "en": map[status:%s ticket:ADU-261127-0001]`, status)
		if got := wa.read("6281200000001"); len(got) != 1 || got[0] != want {
			t.Errorf("the reporter read %q, want once %q", got, want)
		}
	})
}

func TestNewsWaitsForABusyChatAndIsToldOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		catalog := texts(t)
		wa := newPhone("whatsapp", catalog)
		sender := bot.NewSender(quiet())
		sender.Register(wa, bot.Limits{})
		e := &engine{lang: "id", fails: 2}
		n := newNotifier(t, notify.Config{Engine: e, Sender: sender, Texts: catalog})
		c := complaint(domain.StatusVerified)
		n.StatusChanged(context.Background(), c)
		n.StatusChanged(context.Background(), c) // the same change told twice: once to the person
		n.Wait()
		if got := wa.read("6281200000001"); len(got) != 2 || got[0] != "news of complaint:ADU-261127-0001:2" {
			t.Errorf("the reporter read %q, want the news once", got)
		}
	})
}

func TestNewsThatCannotBePreparedIsGivenUpAndLogged(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		catalog := texts(t)
		wa := newPhone("whatsapp", catalog)
		sender := bot.NewSender(quiet())
		sender.Register(wa, bot.Limits{})
		e := &engine{fails: 1000}
		var logs strings.Builder
		var mu sync.Mutex
		log := slog.New(slog.NewTextHandler(lockedWriter{&mu, &logs}, nil))
		n := newNotifier(t, notify.Config{Engine: e, Sender: sender, Texts: catalog, Logger: log})
		n.StatusChanged(context.Background(), complaint(domain.StatusVerified))
		n.Wait()
		if got := wa.read("6281200000001"); len(got) != 0 {
			t.Errorf("the reporter read %q from a failed event", got)
		}
		mu.Lock()
		defer mu.Unlock()
		if e.calls != 5 || !strings.Contains(logs.String(), "complaint news not prepared") {
			t.Errorf("tried %d times and logged %q, want 5 tries and the error", e.calls, logs.String())
		}
	})
}

type lockedWriter struct {
	mu *sync.Mutex
	b  *strings.Builder
}

func (w lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

// A replica that cannot send on WhatsApp leaves the news in the outbox with the
// person's language and the template; the replica that can sends it as it would have.
// Entries queued before the language was kept go in the default language.
func TestTheOutboxKeepsTheLanguageForTheReplicaThatCanSend(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		catalog := texts(t)
		ctx := context.Background()
		outbox := b.Store.Outbox()

		standby := bot.NewSender(quiet())
		standby.Register(&offline{*newPhone("whatsapp", catalog)}, bot.Limits{})
		other := newNotifier(t, notify.Config{Engine: &engine{lang: "en"}, Sender: standby, Texts: catalog, Outbox: outbox})
		other.StatusChanged(ctx, complaint(domain.StatusDone))
		other.Wait()
		old := store.Queued{ChatID: "6281200000002", Replies: []bot.Reply{{Text: "Berita lama", Options: []bot.Option{{ID: "ok", Label: "Oke"}}}}}
		if err := outbox.Put(ctx, "whatsapp", old); err != nil {
			t.Fatal(err)
		}

		wa := newPhone("whatsapp", catalog)
		holder := bot.NewSender(quiet())
		holder.Register(wa, bot.Limits{})
		n := newNotifier(t, notify.Config{Engine: &engine{}, Sender: holder, Texts: catalog, Outbox: outbox, Channels: []string{"telegram", "whatsapp"}})
		n.DrainOutbox(ctx)
		if got, want := wa.read("6281200000001"), []string{"news of complaint:ADU-261127-0001:2", "rate | Reply with a number."}; strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("the English reporter read %q, want %q", got, want)
		}
		if got, want := wa.read("6281200000002"), []string{"Berita lama | Balas dengan angka."}; strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("news queued without a language read %q, want %q", got, want)
		}
		if left, _ := outbox.Queue("whatsapp").Queued(ctx); left != 0 {
			t.Errorf("the outbox still holds %d messages after the drain", left)
		}
	})
}

// staffChat records the staff chat.
func staffChat(t *testing.T, catalog *locales.Catalog) (*phone, *bot.Sender) {
	tg := newPhone("telegram", catalog)
	sender := bot.NewSender(quiet())
	sender.Register(tg, bot.Limits{})
	return tg, sender
}

// overdue is a complaint store whose complaints are all past their deadline (the
// claims and the digest are tested in notify_sla_test.go).
type overdue []*domain.Complaint

func (o overdue) ClaimOverdue(context.Context, time.Time) ([]*domain.Complaint, error) { return o, nil }
func (o overdue) ClaimDigest(context.Context, string) (bool, error)                    { return false, nil }
func (o overdue) Inbox(context.Context, domain.InboxQuery, time.Time) (domain.InboxPage, error) {
	return domain.InboxPage{}, nil
}

func TestStaffHearOfComplaintsInTheirChat(t *testing.T) {
	catalog := texts(t)
	tg, sender := staffChat(t, catalog)
	jakarta, _ := time.LoadLocation("Asia/Jakarta")
	late := complaint(domain.StatusReceived)
	late.Phase, late.Due = domain.PhaseVerify, time.Date(2026, 12, 2, 0, 0, 0, 0, jakarta)
	n := newNotifier(t, notify.Config{Engine: &engine{}, Sender: sender, Texts: catalog, Location: jakarta,
		Staff: bot.Recipient{Channel: "telegram", ChatID: "-100123"}, Complaints: overdue{late}})
	ctx := context.Background()
	n.NewComplaint(ctx, complaint(domain.StatusReceived))
	n.Reopened(ctx, complaint(domain.StatusReopened))
	n.CheckSLA(ctx)
	n.Staff(ctx, "ho1", "Warga menunggu petugas: ho1")
	n.StaffNews(ctx, "whatsapp_logged_out", "WhatsApp Layan keluar.")
	n.Wait()
	got := strings.Join(tg.read("-100123"), "\n")
	for _, want := range []string{
		"Pengaduan baru ADU-261127-0001 [Jalan rusak]: Jalan berlubang di depan SD",
		"Pengaduan ADU-261127-0001 [Jalan rusak] dibuka kembali oleh pelapor.",
		"Perhatian: pengaduan ADU-261127-0001 [Jalan rusak] melewati batas waktu verifikasi dan disposisi (01-12-2026).",
		"Warga menunggu petugas: ho1",
		"WhatsApp Layan keluar.",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("the staff chat read:\n%s\nwant %q in it", got, want)
		}
	}
}

func TestWithoutAStaffChatAlertsGoToTheLogOnly(t *testing.T) {
	catalog := texts(t)
	tg, sender := staffChat(t, catalog)
	var logs strings.Builder
	var mu sync.Mutex
	n := newNotifier(t, notify.Config{Engine: &engine{}, Sender: sender, Texts: catalog,
		Logger: slog.New(slog.NewTextHandler(lockedWriter{&mu, &logs}, nil))})
	n.NewComplaint(context.Background(), complaint(domain.StatusReceived))
	n.Wait()
	if len(tg.got) != 0 {
		t.Errorf("sent %v with no staff chat", tg.got)
	}
	mu.Lock()
	defer mu.Unlock()
	if !strings.Contains(logs.String(), "complaint=ADU-261127-0001") || strings.Contains(logs.String(), "berlubang") {
		t.Errorf("the log reads %q: want the ticket, never the description", logs.String())
	}
}

// Run stops when its context ends, but not before the news in flight has gone out.
func TestRunWaitsForTheNewsInFlight(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		catalog := texts(t)
		wa := newPhone("whatsapp", catalog)
		sender := bot.NewSender(quiet())
		sender.Register(wa, bot.Limits{})
		e := &engine{lang: "id", block: make(chan struct{})}
		n := newNotifier(t, notify.Config{Engine: e, Sender: sender, Texts: catalog})
		ctx, cancel := context.WithCancel(context.Background())
		stopped := make(chan struct{})
		go func() { n.Run(ctx); close(stopped) }()
		n.StatusChanged(ctx, complaint(domain.StatusVerified))
		cancel()
		synctest.Wait()
		select {
		case <-stopped:
			t.Fatal("Run returned while news was still being prepared")
		default:
		}
		close(e.block)
		<-stopped
		if got := wa.read("6281200000001"); len(got) != 2 {
			t.Errorf("the reporter read %q, want the news", got)
		}
	})
}
