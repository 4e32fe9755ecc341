package staffweb_test

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/png"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/layan-id/layan/bot"
	"github.com/layan-id/layan/broadcast"
	"github.com/layan-id/layan/domain"
	"github.com/layan-id/layan/flows/faq"
	"github.com/layan-id/layan/knowledge"
	"github.com/layan-id/layan/locales"
	"github.com/layan-id/layan/staffweb"
	"github.com/layan-id/layan/store"
	"github.com/layan-id/layan/store/storetest"
)

// password is every test account's password.
const password = "kata-sandi-panjang"

// The test accounts, one of each role; two officers of different agencies.
var accounts = []domain.StaffAccount{
	{Name: "sari", Role: domain.RoleAdmin},
	{Name: "budi", Role: domain.RoleOfficer, Agency: "pupr"},
	{Name: "dewi", Role: domain.RoleOfficer, Agency: "dlh"},
	{Name: "eko", Role: domain.RoleBroadcaster},
	{Name: "ani", Role: domain.RoleViewer},
}

var agencies = []domain.Agency{{Code: "pupr", Name: "Dinas PUPR"}, {Code: "dlh", Name: "Dinas Lingkungan Hidup"}}

// routing is where each category goes, as region.yaml says.
var routing = map[string]string{"jalan": "pupr", "sampah": "dlh"}

// harness is the workspace over a real store, with its logs kept.
type harness struct {
	t          *testing.T
	b          storetest.Backend
	cs         *store.Complaints
	bcs        *store.Broadcasts
	media      *store.Media
	srv        *httptest.Server
	handler    http.Handler
	logs       *syncBuffer
	told       *recorder
	desk       *fakeDesk
	bodies     *syncBuffer // every answer any client read
	audited    *auditLog
	kb         *knowledge.Base
	road, bins *domain.Complaint
	secret     *domain.Complaint // confidential
	photo      string
}

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

// recorder records the news citizens were told: the last entry of the history of
// each change, as "id:status" or "id:message:text".
type recorder struct {
	mu      sync.Mutex
	changes []string
}

func (r *recorder) StatusChanged(_ context.Context, c *domain.Complaint) {
	r.mu.Lock()
	defer r.mu.Unlock()
	e := c.History[len(c.History)-1]
	if e.Kind == domain.EventMessage {
		r.changes = append(r.changes, c.ID+":message:"+e.Note)
		return
	}
	r.changes = append(r.changes, c.ID+":"+string(c.Status))
}

func (r *recorder) seen() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.changes...)
}

func jakarta(t testing.TB) *time.Location {
	loc, err := time.LoadLocation("Asia/Jakarta")
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func newHarness(t *testing.T, b storetest.Backend) *harness {
	t.Helper()
	ctx := context.Background()
	texts, err := locales.Load("", nil)
	if err != nil {
		t.Fatal(err)
	}
	matcher, err := faq.Load(locales.Content(""))
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{t: t, b: b, kb: knowledge.New(faq.NewLive(matcher), b.Store.FAQBase(), b.Store.FAQStats(), nil), cs: b.Store.Complaints("BTG", jakarta(t)), bcs: b.Store.Broadcasts(),
		logs: &syncBuffer{}, told: &recorder{}, desk: newFakeDesk(), bodies: &syncBuffer{}, audited: &auditLog{}}
	for _, acc := range accounts {
		if err := b.Store.Staff().Add(ctx, acc, password); err != nil {
			t.Fatal(err)
		}
	}
	if h.media, err = store.NewMedia(t.TempDir()); err != nil {
		t.Fatal(err)
	}
	var img bytes.Buffer
	png.Encode(&img, image.NewRGBA(image.Rect(0, 0, 16, 9)))
	if h.photo, _, err = h.media.Save(&img); err != nil {
		t.Fatal(err)
	}
	h.road = h.file(&domain.Complaint{Category: "jalan", Description: "Jalan berlubang besar di depan SD Negeri 2",
		Address: "Jl. Pemuda 10", Location: &domain.Location{Lat: -6.9123, Lon: 109.7301}, Photos: []string{h.photo},
		Reporter: domain.Reporter{Channel: "webchat", ChatID: "chat-of-the-road-reporter", Key: "webchat:chat-of-the-road-reporter"}})
	h.bins = h.file(&domain.Complaint{Category: "sampah", Description: "Sampah menumpuk di pasar",
		Reporter: domain.Reporter{Channel: "telegram", ChatID: "5550001", Key: "telegram:5550001"}})
	h.secret = h.file(&domain.Complaint{Category: "jalan", Description: "Pungutan liar di jembatan", Confidential: true,
		Reporter: domain.Reporter{Channel: "whatsapp", ChatID: "6281234567890", Key: "whatsapp:6281234567890"}})
	srv, err := staffweb.New(staffweb.Config{
		Texts: texts, Accounts: b.Store.Staff(), Sessions: b.Store.StaffSessions(), Location: jakarta(t),
		Logger: slog.New(slog.NewTextHandler(h.logs, &slog.HandlerOptions{Level: slog.LevelDebug})), MinPassword: store.MinPasswordLength,
		Complaints: &staffweb.ComplaintsConfig{
			Store: h.cs, Photos: h.media, Notifier: h.told,
			Agencies: agencies, Categories: []string{"jalan", "sampah"},
		},
		Broadcasts: &staffweb.BroadcastsConfig{Store: h.bcs, NextRun: broadcast.New(broadcast.Config{Location: jakarta(t)}).NextRun,
			Topics: []string{"wisata", "pengumuman"}, Channels: []string{"webchat", "telegram"}},
		Handoffs:  &staffweb.HandoffsConfig{Desk: h.desk},
		Knowledge: h.kb,
		Records:   &staffweb.RecordsConfig{Reports: h.cs, Audit: b.Store.Audit(), Agencies: agencies},
		Audit:     h.audited.add,
	})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	srv.Register(mux)
	h.handler = mux
	h.srv = httptest.NewServer(mux)
	t.Cleanup(h.srv.Close)
	return h
}

// file files a complaint as the chat does, routed to its category's agency.
func (h *harness) file(c *domain.Complaint) *domain.Complaint {
	h.t.Helper()
	c.Agency = routing[c.Category]
	now := time.Now()
	c.Status, c.CreatedAt, c.UpdatedAt = domain.StatusReceived, now, now
	c.History = []domain.Event{{At: now, Status: domain.StatusReceived, By: "citizen"}}
	got, _, err := h.cs.Create(context.Background(), c, "test:"+c.Description)
	if err != nil {
		h.t.Fatal(err)
	}
	return got
}

// client is one browser: its cookies, and the CSRF token of its session.
type client struct {
	h    *harness
	c    *http.Client
	csrf string
}

func (h *harness) client() *client {
	jar, _ := cookiejar.New(nil)
	return &client{h: h, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}}
}

// answer is a response as a test reads it.
type answer struct {
	status int
	header http.Header
	body   string
}

func (a answer) location() string { return a.header.Get("Location") }

func (c *client) do(method, path string, form url.Values, header map[string]string) answer {
	c.h.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, c.h.srv.URL+path, body)
	if err != nil {
		c.h.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	res, err := c.c.Do(req)
	if err != nil {
		c.h.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	c.h.bodies.Write(b)
	for _, ck := range res.Cookies() {
		c.h.bodies.Write([]byte(ck.Name + "=" + ck.Value + "\n")) // a cookie is shown to the client too
	}
	if m := csrfField.FindStringSubmatch(string(b)); m != nil {
		c.csrf = m[1]
	}
	return answer{status: res.StatusCode, header: res.Header, body: string(b)}
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func (c *client) get(path string) answer { return c.do("GET", path, nil, nil) }

// post sends a form with the session's CSRF token (taken from the last page).
func (c *client) post(path string, form url.Values) answer {
	if form == nil {
		form = url.Values{}
	}
	if form.Get("csrf") == "" && c.csrf != "" {
		form.Set("csrf", c.csrf)
	}
	return c.do("POST", path, form, nil)
}

// signIn signs in as name and loads the first page, so that the client holds its
// CSRF token.
func (h *harness) signIn(name string) *client {
	h.t.Helper()
	c := h.client()
	a := c.do("POST", "/staff/login", url.Values{"username": {name}, "password": {password}}, nil)
	if a.status != http.StatusSeeOther || a.location() != "/staff/" {
		h.t.Fatalf("sign in as %s: %d %s\n%s", name, a.status, a.location(), a.body)
	}
	if home := c.get("/staff/"); home.status != http.StatusOK {
		h.t.Fatalf("first page after signing in as %s: %d", name, home.status)
	}
	return c
}

// auditLog keeps what the workspace told the audit log.
type auditLog struct {
	mu      sync.Mutex
	entries []string // account role action target detail status
}

func (a *auditLog) add(r *http.Request, e staffweb.AuditEntry) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.entries = append(a.entries, fmt.Sprintf("%s %s %s %s %s %d", e.Account.Name, e.Account.Role, e.Action, e.Target, e.Detail, e.Status))
}

func (a *auditLog) all() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]string(nil), a.entries...)
}

// fakeDesk is the staff side of talking to a person, with one conversation waiting.
type fakeDesk struct {
	mu      sync.Mutex
	ho      *domain.Handoff
	lines   []bot.Line
	replies []string
}

func newFakeDesk() *fakeDesk {
	return &fakeDesk{ho: &domain.Handoff{ID: "h1", Channel: "webchat", Lang: "id", State: domain.HandoffWaiting,
		Since: time.Now(), LastText: "Saya butuh bantuan soal KTP"},
		lines: []bot.Line{{From: bot.FromCitizen, Text: "Saya butuh bantuan soal KTP", At: time.Now()}}}
}

func (d *fakeDesk) Queue(_ context.Context, st domain.HandoffState, _ int) ([]*domain.Handoff, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.ho.State == st {
		c := *d.ho
		return []*domain.Handoff{&c}, nil
	}
	return nil, nil
}

func (d *fakeDesk) Get(_ context.Context, id string) (*domain.Handoff, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if id != d.ho.ID {
		return nil, domain.ErrNotFound
	}
	c := *d.ho
	return &c, nil
}

func (d *fakeDesk) Transcript(_ context.Context, id string, after int64) ([]bot.Line, int64, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if id != d.ho.ID {
		return nil, 0, domain.ErrNotFound
	}
	return append([]bot.Line(nil), d.lines[after:]...), int64(len(d.lines)), nil
}

func (d *fakeDesk) Take(_ context.Context, id, who string) (*domain.Handoff, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	switch {
	case id != d.ho.ID:
		return nil, domain.ErrNotFound
	case d.ho.State == domain.HandoffEnded:
		return nil, domain.ErrHandoffEnded
	case d.ho.State == domain.HandoffActive && d.ho.Assignee != who:
		return nil, domain.ErrHandoffHeld
	}
	d.ho.State, d.ho.Assignee = domain.HandoffActive, who
	c := *d.ho
	return &c, nil
}

func (d *fakeDesk) Reply(ctx context.Context, id, who, text string) (*domain.Handoff, error) {
	ho, err := d.Take(ctx, id, who)
	if err != nil {
		return nil, err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.replies = append(d.replies, who+":"+text)
	d.lines = append(d.lines, bot.Line{From: bot.FromStaff, Text: text, By: who, At: time.Now()})
	return ho, nil
}

func (d *fakeDesk) End(_ context.Context, id, who string) (*domain.Handoff, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if id != d.ho.ID {
		return nil, domain.ErrNotFound
	}
	d.ho.State, d.ho.EndedBy = domain.HandoffEnded, who
	c := *d.ho
	return &c, nil
}
