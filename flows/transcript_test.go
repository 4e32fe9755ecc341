package flows_test

import (
	"cmp"
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/layan-id/layan/bot"
	"github.com/layan-id/layan/domain"
	"github.com/layan-id/layan/flows"
	"github.com/layan-id/layan/flows/faq"
	"github.com/layan-id/layan/locales"
	"github.com/layan-id/layan/notify"
	"github.com/layan-id/layan/store/storetest"
)

var update = flag.Bool("update", false, "rewrite the expected bot lines of flows/testdata/*.txt")

// TestTranscripts plays every conversation in testdata/*.txt through the real engine,
// router and store (miniredis), and compares what the bot says with the '<' lines.
//
// Transcript format: '>' lines are the person, '<' lines the bot, '#' lines comments.
// A reply's options follow its text as "<   N. Label {id}"; replies are separated by
// a lone '<'. News the service's notifier sent to other conversations and to the staff
// chat follows as "<< who: ..." lines. The person can also send:
//
//	> [sticker]  > [voice]  > [image]  > [bad_file]    a message of that kind
//	> [location LAT LON]                               a shared location pin
//	> [as NAME]                                        the following lines come from NAME
//	                                                   ("staff" is a staff member)
//	> [pick ID]                                        press the button with option ID
//	> [pick-with-text ID N]                            an option sent with a text of N letters
//	> [repeat X N]                                     text X repeated N times
//	> [quoted "..."]                                   a Go-quoted text (control characters)
//	> [redeliver]                                      the platform sends the last message again
//	> [empty]                                          a text of only white space
//
// Staff answer a person who asked for one (the newest open request) with:
//
//	> [staff take]  > [staff reply TEXT]  > [staff end]  > [staff release]
//	> [after DURATION]                                  the clock moves on, overdue requests are told
//	> [at 2026-11-28T10:00:00+07:00]                    the clock is set (office hours are Mon–Fri 08–16)
func TestTranscripts(t *testing.T) {
	files, err := filepath.Glob("testdata/*.txt")
	if err != nil || len(files) == 0 {
		t.Fatalf("no transcripts in testdata: %v", err)
	}
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".txt"), func(t *testing.T) {
			runTranscript(t, file)
		})
	}
}

// failOnError is a log handler that fails the test on any error logged (a missing
// text, a broken template, a failed turn).
type failOnError struct {
	slog.Handler
	t *testing.T
}

func (h failOnError) Enabled(_ context.Context, l slog.Level) bool { return l >= slog.LevelError }

func (h failOnError) Handle(ctx context.Context, r slog.Record) error {
	if r.Level >= slog.LevelError {
		h.t.Errorf("logged an error: %s", r.Message)
	}
	return nil
}

// harness is the engine with every flow, and the news the service's notifier sent
// to other conversations and to the staff chat.
type harness struct {
	engine *bot.Engine
	news   *notify.Notifier
	sent   *newsLog
	staff  string // the staff member's conversation key
	desk   *flows.Desk
	now    time.Time // the clock of the flows
	ids    int       // handoff ids given
	store  storetest.Backend
}

// staffChat is the chat of STAFF_NOTIFY in the transcripts.
const staffChat = "staff-chat"

// newsLog is the notifier's sender: it records each piece of news (the replies of one
// send) and whom it went to.
type newsLog struct {
	mu    sync.Mutex
	items []newsItem
}

type newsItem struct {
	to      bot.Recipient
	replies []bot.Reply
}

func (l *newsLog) CanSend(string) bool { return true }

func (l *newsLog) Send(_ context.Context, to bot.Recipient, replies ...bot.Reply) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.items = append(l.items, newsItem{to, replies})
	return nil
}

// told waits for the news of the last step and renders it, "<< who: line" for every
// line: news to people first, by chat, then the staff chat ("<< staff chat: ..."). The
// notifier sends in the background; this order makes a transcript read the same every
// run.
func (h *harness) told() []string {
	h.news.Wait()
	h.sent.mu.Lock()
	items := h.sent.items
	h.sent.items = nil
	h.sent.mu.Unlock()
	slices.SortStableFunc(items, func(a, b newsItem) int {
		return cmp.Or(cmp.Compare(boolRank(a.to.ChatID == staffChat), boolRank(b.to.ChatID == staffChat)),
			cmp.Compare(a.to.ChatID, b.to.ChatID), cmp.Compare(render(a.replies), render(b.replies)))
	})
	var lines []string
	for _, it := range items {
		who := it.to.ChatID
		if who == staffChat {
			who = "staff chat"
		}
		for _, line := range strings.Split(strings.TrimRight(render(it.replies), "\n"), "\n") {
			if line != "" {
				lines = append(lines, "<< "+who+": "+strings.TrimPrefix(line, "< "))
			}
		}
	}
	return lines
}

func boolRank(b bool) int {
	if b {
		return 1
	}
	return 0
}

// transcriptTime is the fixed time of every transcript, so ticket numbers and dates
// are stable: 27 November 2026, 09:00 in Jakarta.
var transcriptTime = time.Date(2026, 11, 27, 2, 0, 0, 0, time.UTC)

func newHarness(t *testing.T) *harness {
	t.Helper()
	texts, err := locales.Load("", map[string]any{"Region": "Kabupaten Contoh"})
	if err != nil {
		t.Fatal(err)
	}
	b := storetest.Mini(t)
	log := slog.New(failOnError{slog.DiscardHandler, t})
	content := locales.Content("")
	matcher, err := faq.Load(content)
	if err != nil {
		t.Fatal(err)
	}
	region, err := flows.LoadRegion(content)
	if err != nil {
		t.Fatal(err)
	}
	jakarta, _ := time.LoadLocation("Asia/Jakarta")
	h := &harness{staff: "test:staff", now: transcriptTime, sent: &newsLog{}, store: b}
	// As the service assembles it: the router, the engine on it, the notifier on the
	// engine, then the flows that send news through the notifier.
	router := flows.NewRouter(texts, log)
	h.engine = bot.NewEngine(bot.EngineConfig{
		Store:   b.Store.Conversations(30*time.Second, time.Hour),
		Handler: router,
		Apology: router.Apology,
		Logger:  log,
		History: bot.HistoryLimits{Lines: 20},
	})
	h.news, err = notify.New(notify.Config{
		Engine: h.engine, Sender: h.sent, Texts: texts, Location: jakarta, Logger: log,
		Staff: bot.Recipient{Channel: "test", ChatID: staffChat},
	})
	if err != nil {
		t.Fatal(err)
	}
	// News the flows started (a complaint's change told to its reporter) ends before
	// the store closes: a test that does not wait for it must not see it fail after.
	t.Cleanup(h.news.Wait)
	router.RegisterFAQ(matcher, b.Store.FAQStats())
	router.RegisterComplaints(flows.ComplaintConfig{
		Store: b.Store.Complaints("TST", jakarta), Alerts: h.news, Region: region, Location: jakarta,
		Staff:    func(key string) bool { return key == h.staff },
		Accounts: h.staffAccounts,
		Audit:    b.Store.Audit(),
		Now:      func() time.Time { return h.now },
	})
	tourism, err := flows.LoadTourism(content)
	if err != nil {
		t.Fatal(err)
	}
	router.RegisterTourism(tourism)
	places, err := flows.LoadGazetteer(content, region.BBox, tourism.Attractions)
	if err != nil {
		t.Fatal(err)
	}
	router.RegisterPlaces(places)
	router.RegisterSubscriptions(b.Store.Broadcasts(), region.Topics)
	router.RegisterStaffBroadcasts(b.Store.Broadcasts(), region.Topics, func(key string) bool { return key == h.staff },
		jakarta, func() time.Time { return transcriptTime })
	hours, err := region.Hours("", jakarta)
	if err != nil {
		t.Fatal(err)
	}
	h.desk = router.RegisterHandoff(flows.HandoffConfig{
		Store: b.Store.Handoffs(), Courier: h.news, Hours: hours, Location: jakarta, Region: &region.BBox,
		Staff: func(key string) bool { return key == h.staff || key == "test:colleague" }, NewID: func() string { h.ids++; return fmt.Sprintf("ho%d", h.ids) },
		Now: func() time.Time { return h.now },
	})
	return h
}

// staffDoes carries out a [staff ...], [after ...] or [at ...] line; it reports false
// for any other line.
func (h *harness) staffDoes(t *testing.T, said string) bool {
	t.Helper()
	ctx := context.Background()
	cmd, arg, _ := strings.Cut(strings.Trim(said, "[]"), " ")
	switch {
	case !strings.HasPrefix(said, "[") || !strings.HasSuffix(said, "]"):
		return false
	case cmd == "after":
		d, err := time.ParseDuration(arg)
		if err != nil {
			t.Fatalf("bad [after %s]", arg)
		}
		h.now = h.now.Add(d)
		if _, err := h.desk.Expire(ctx); err != nil {
			t.Fatal(err)
		}
		return true
	case cmd == "at":
		at, err := time.Parse(time.RFC3339, arg)
		if err != nil {
			t.Fatalf("bad [at %s]", arg)
		}
		h.now = at
		return true
	case cmd != "staff":
		return false
	}
	var newest *domain.Handoff
	for _, st := range []domain.HandoffState{domain.HandoffWaiting, domain.HandoffActive} {
		list, err := h.desk.Queue(ctx, st, 100)
		if err != nil {
			t.Fatal(err)
		}
		for _, ho := range list {
			if newest == nil || !ho.Since.Before(newest.Since) {
				newest = ho
			}
		}
	}
	if newest == nil {
		t.Fatalf("%s: nobody waits for staff", said)
	}
	verb, text, _ := strings.Cut(arg, " ")
	var err error
	switch verb {
	case "take":
		_, err = h.desk.Take(ctx, newest.ID, "Budi")
	case "reply":
		_, err = h.desk.Reply(ctx, newest.ID, "Budi", text)
	case "end":
		_, err = h.desk.End(ctx, newest.ID, "Budi")
	case "release":
		_, err = h.desk.Assign(ctx, newest.ID, "")
	default:
		t.Fatalf("unknown %s", said)
	}
	if err != nil {
		t.Fatalf("%s: %v", said, err)
	}
	return true
}

func runTranscript(t *testing.T, file string) {
	src, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	h := newHarness(t)
	e := h.engine
	var out strings.Builder
	var last bot.Message
	user := "user-1"
	n := 0
	for _, line := range strings.Split(strings.TrimRight(string(src), "\n"), "\n") {
		switch {
		case strings.HasPrefix(line, "<"):
			continue // expectations are regenerated below
		case !strings.HasPrefix(line, ">"):
			out.WriteString(line + "\n")
			continue
		}
		out.WriteString(line + "\n")
		n++
		said := strings.TrimSpace(strings.TrimPrefix(line, ">"))
		if who, ok := strings.CutPrefix(said, "[as "); ok {
			user = strings.TrimSuffix(who, "]") // the following lines are this person's
			continue
		}
		if h.staffDoes(t, said) {
			for _, l := range h.told() {
				out.WriteString(strings.TrimRight(l, " ") + "\n")
			}
			continue
		}
		msg := person(t, said, n)
		msg.ChatID, msg.UserID = user, user
		if msg.ID == "" {
			msg = last
		}
		last = msg
		res, err := e.Handle(context.Background(), msg)
		if err != nil {
			t.Fatalf("%s: message %d: %v", file, n, err)
		}
		if !res.Duplicate {
			out.WriteString(render(res.Replies))
		}
		for _, l := range h.told() {
			out.WriteString(strings.TrimRight(l, " ") + "\n")
		}
	}
	got := out.String()
	if *update {
		if err := os.WriteFile(file, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if got != string(src) {
		t.Errorf("transcript %s differs (run go test ./flows -update and review the diff):\n%s", file, diff(string(src), got))
	}
	if strings.Contains(got, "<no value>") || strings.Contains(got, "[") && strings.Contains(got, "< [") {
		t.Errorf("transcript %s shows a missing text or field", file)
	}
}

// person turns a '>' line into a message; a [redeliver] returns a message without ID.
func person(t *testing.T, s string, n int) bot.Message {
	m := bot.Message{Channel: "test", ChatID: "chat-1", UserID: "user-1", ID: strconv.Itoa(n), Kind: bot.KindText, Text: s, Time: time.Now()}
	if !strings.HasPrefix(s, "[") || !strings.HasSuffix(s, "]") {
		return m
	}
	cmd, arg, _ := strings.Cut(strings.Trim(s, "[]"), " ")
	m.Text = ""
	switch cmd {
	case "sticker", "voice", "bad_file", "media_full":
		m.Kind = bot.Kind(cmd)
	case "image":
		m.Kind, m.Media = bot.KindImage, &bot.Media{Ref: fmt.Sprintf("photo-%d.jpg", n), MIME: "image/jpeg"}
	case "location":
		m.Kind = bot.KindLocation
		var lat, lon float64
		if _, err := fmt.Sscan(arg, &lat, &lon); err != nil {
			t.Fatalf("bad [location %s]: want [location LAT LON]", arg)
		}
		m.Location = &domain.Location{Lat: lat, Lon: lon}
	case "pick":
		m.Kind, m.Option = bot.KindOption, arg
	case "pick-with-text":
		id, count, _ := strings.Cut(arg, " ")
		c, err := strconv.Atoi(count)
		if err != nil {
			t.Fatalf("bad [pick-with-text %s]", arg)
		}
		m.Kind, m.Option, m.Text = bot.KindOption, id, strings.Repeat("a", c)
	case "repeat":
		x, count, _ := strings.Cut(arg, " ")
		c, err := strconv.Atoi(count)
		if err != nil {
			t.Fatalf("bad [repeat %s]", arg)
		}
		m.Text = strings.Repeat(x, c)
	case "quoted":
		q, err := strconv.Unquote(arg)
		if err != nil {
			t.Fatalf("bad [quoted %s]: %v", arg, err)
		}
		m.Text = q
	case "answer":
		// [answer ho1 TEXT]: a reply to the bot's message about handoff ho1 (a reply
		// in the Telegram staff group).
		id, text, _ := strings.Cut(arg, " ")
		m.InReplyTo, m.Text = flows.HandoffAbout(id), text
	case "empty":
		m.Text = "   "
	case "redeliver":
		return bot.Message{}
	default:
		t.Fatalf("unknown directive %s", s)
	}
	return m
}

func render(replies []bot.Reply) string {
	var b strings.Builder
	for i, r := range replies {
		if i > 0 {
			b.WriteString("<\n")
		}
		if r.Media != nil {
			fmt.Fprintf(&b, "< (photo %s)\n", r.Media.Ref)
		}
		for _, l := range strings.Split(r.Text, "\n") {
			b.WriteString(strings.TrimRight("< "+l, " ") + "\n")
		}
		for j, o := range r.Options {
			fmt.Fprintf(&b, "<   %d. %s {%s}\n", j+1, o.Label, o.ID)
		}
	}
	return b.String()
}

func diff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := 0; i < len(w) || i < len(g); i++ {
		var a, b string
		if i < len(w) {
			a = w[i]
		}
		if i < len(g) {
			b = g[i]
		}
		if a != b {
			return fmt.Sprintf("line %d\nwant: %q\ngot:  %q", i+1, a, b)
		}
	}
	return ""
}

// A staff command that changes a complaint is in the audit log: the account, the
// action, the ticket, and the chat it was typed in; one that changes nothing is not.
func TestStaffCommandsAreAudited(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	cs := h.store.Store.Complaints("TST", time.UTC)
	c, _, err := cs.Create(ctx, &domain.Complaint{Status: domain.StatusReceived, Category: "jalan", Agency: "pupr",
		Reporter: domain.Reporter{Channel: "test", ChatID: "user-1", Key: "test:user-1"}, CreatedAt: h.now,
		History: []domain.Event{{At: h.now, Status: domain.StatusReceived, By: "citizen"}}}, "audit")
	if err != nil {
		t.Fatal(err)
	}
	for i, m := range []struct{ user, text string }{
		{"staff", "/disposisi " + c.ID + " dlh"},
		{"viewer", "/tolak " + c.ID + " bukan jalan kabupaten"}, // refused: not audited
		{"officer-dlh", "/catatan " + c.ID + " cek lokasi besok"},
	} {
		if _, err := h.engine.Handle(ctx, bot.Message{Channel: "test", ChatID: "group-9", UserID: m.user, ID: fmt.Sprint("audit-", i),
			Kind: bot.KindText, Text: m.text, Time: h.now}); err != nil {
			t.Fatal(err)
		}
	}
	entries, _, err := h.store.Store.Audit().List(ctx, domain.AuditQuery{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range entries {
		got = append(got, fmt.Sprintf("%s %s %s %s %s %s", e.Account, e.Role, e.Action, e.Target, e.Detail, e.From))
	}
	want := []string{
		"dewi officer complaint.note " + c.ID + "  test:group-9",
		"test:staff admin complaint.dispose " + c.ID + " agency=dlh test:group-9",
	}
	if !slices.Equal(got, want) {
		t.Errorf("audit log:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// staffAccounts are the staff of the transcripts: "[as staff]" is a STAFF_IDS admin;
// "[as officer]" an officer of pupr, "[as officer-dlh]" of dlh, "[as viewer]" a
// viewer (chat identities linked to accounts).
func (h *harness) staffAccounts(_ context.Context, key string) (domain.StaffAccount, bool) {
	switch key {
	case h.staff:
		return domain.StaffAccount{Name: key, Role: domain.RoleAdmin}, true
	case "test:officer":
		return domain.StaffAccount{Name: "budi", Role: domain.RoleOfficer, Agency: "pupr"}, true
	case "test:officer-dlh":
		return domain.StaffAccount{Name: "dewi", Role: domain.RoleOfficer, Agency: "dlh"}, true
	case "test:viewer":
		return domain.StaffAccount{Name: "eko", Role: domain.RoleViewer}, true
	}
	return domain.StaffAccount{}, false
}
