package admin_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/layan-id/layan/admin"
	"github.com/layan-id/layan/domain"
	"github.com/layan-id/layan/store"
	"github.com/layan-id/layan/store/storetest"
)

var _ admin.Complaints = (*store.Complaints)(nil)

const token = "staff-token-2f8c1e9a7b3d4c6e5f0a1b2c3d4e5f60"

// now is the fixture's clock: 27 November 03:00 in Jakarta, still the 26th in UTC.
var now = time.Date(2026, 11, 26, 20, 0, 0, 0, time.UTC)

func jakarta(t testing.TB) *time.Location {
	loc, err := time.LoadLocation("Asia/Jakarta")
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// notifier records the complaints it was told about.
type notifier struct {
	mu  sync.Mutex
	got []*domain.Complaint
}

func (n *notifier) StatusChanged(ctx context.Context, c *domain.Complaint) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.got = append(n.got, c)
}

func (n *notifier) calls() []*domain.Complaint {
	n.mu.Lock()
	defer n.mu.Unlock()
	return slices.Clone(n.got)
}

// logBuffer is a log destination the server's goroutines may share with the test.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
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

// confirmations numbers the complaints the tests file.
var confirmations atomic.Int64

// fixture is the staff API on a real store, behind a real HTTP server on loopback.
type fixture struct {
	url    string
	cs     *store.Complaints
	told   *notifier
	logs   *logBuffer
	server *admin.Server
}

func newFixture(t *testing.T, b storetest.Backend, adminToken string) *fixture {
	t.Helper()
	f := &fixture{cs: b.Store.Complaints("BTG", jakarta(t)), told: &notifier{}, logs: &logBuffer{}}
	f.server = admin.New(admin.Config{
		Token: adminToken, Complaints: f.cs, Notifier: f.told,
		Now:      func() time.Time { return now },
		Logger:   slog.New(slog.NewTextHandler(f.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Location: jakarta(t),
	})
	mux := http.NewServeMux()
	f.server.Register(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	f.url = srv.URL
	return f
}

// complaint is a new complaint as the citizen's flow files it.
func complaint(at time.Time, desc string) *domain.Complaint {
	return &domain.Complaint{
		Status: domain.StatusReceived, Category: "jalan", Agency: "pupr", Description: desc,
		Reporter:  domain.Reporter{Channel: "telegram", ChatID: "777", Key: "telegram:777", Lang: "id"},
		CreatedAt: at, UpdatedAt: at,
		History: []domain.Event{{At: at, Status: domain.StatusReceived, By: "citizen"}},
	}
}

// file files c through the store and takes it through the statuses given.
func (f *fixture) file(t *testing.T, c *domain.Complaint, through ...domain.Status) *domain.Complaint {
	t.Helper()
	// Fixtures of one backend share its store: each confirmation needs its own key.
	got, _, err := f.cs.Create(context.Background(), c, fmt.Sprintf("test-confirm-%d", confirmations.Add(1)))
	if err != nil {
		t.Fatal(err)
	}
	for _, to := range through {
		got, err = f.cs.Update(context.Background(), got.ID, func(c *domain.Complaint) error {
			return c.Transition(to, "telegram:1", "catatan "+string(to), c.UpdatedAt.Add(time.Minute))
		})
		if err != nil {
			t.Fatalf("take %s to %s: %v", c.ID, to, err)
		}
	}
	return got
}

// fileAt files a plain complaint created at the given minute before now.
func (f *fixture) fileAt(t *testing.T, minutesAgo int, through ...domain.Status) *domain.Complaint {
	t.Helper()
	at := now.Add(-time.Duration(minutesAgo) * time.Minute)
	return f.file(t, complaint(at, fmt.Sprintf("jalan berlubang nomor %d", minutesAgo)), through...)
}

type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) errorText(t *testing.T) string {
	t.Helper()
	var e struct{ Error string }
	if err := json.Unmarshal(r.body, &e); err != nil || e.Error == "" {
		t.Fatalf("answer %d is not a JSON error: %q", r.status, r.body)
	}
	return e.Error
}

// call sends a request with the given Authorization header ("" for none).
func (f *fixture) call(t *testing.T, method, path, auth, body string) response {
	t.Helper()
	req, err := http.NewRequest(method, f.url+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{status: res.StatusCode, header: res.Header, body: b}
}

// serve sends a request with the right token to mux in this process, from a client
// at 192.0.2.1.
func (f *fixture) serve(t *testing.T, mux http.Handler, method, path, body string) response {
	t.Helper()
	return serveAs(mux, "192.0.2.1:40000", method, path, "Bearer "+token, body)
}

// serveAs sends a request to h in this process, from remote, with the given
// Authorization header ("" for none).
func serveAs(h http.Handler, remote, method, path, auth, body string) response {
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	req.RemoteAddr = remote
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return response{status: rec.Code, header: rec.Header(), body: rec.Body.Bytes()}
}

// staff sends a request with the right token.
func (f *fixture) staff(t *testing.T, method, path, body string) response {
	t.Helper()
	return f.call(t, method, path, "Bearer "+token, body)
}

func decode[T any](t *testing.T, r response) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(r.body, &v); err != nil {
		t.Fatalf("answer %d: %v in %q", r.status, err, r.body)
	}
	return v
}

type page struct {
	Complaints []*domain.Complaint `json:"complaints"`
	Page       int                 `json:"page"`
	PageSize   int                 `json:"page_size"`
	Total      int64               `json:"total"`
}

func ids(cs []*domain.Complaint) []string {
	out := []string{}
	for _, c := range cs {
		out = append(out, c.ID)
	}
	return out
}

func TestOnlyTheRightTokenGetsIn(t *testing.T) {
	cases := []struct {
		name   string
		token  string // configured
		auth   string // presented
		wantOK bool
		want   int // when not OK
	}{
		{name: "a request without a token is refused", token: token, auth: "", want: 401},
		{name: "a wrong token is refused", token: token, auth: "Bearer not-the-token", want: 401},
		{name: "the start of the right token is refused", token: token, auth: "Bearer " + token[:12], want: 401},
		{name: "the right token with more after it is refused", token: token, auth: "Bearer " + token + "x", want: 401},
		{name: "the right token without the Bearer scheme is refused", token: token, auth: token, want: 401},
		{name: "the right token in the Basic scheme is refused", token: token, auth: "Basic " + token, want: 401},
		{name: "an empty bearer token is refused", token: token, auth: "Bearer ", want: 401},
		{name: "the right token gets in", token: token, auth: "Bearer " + token, wantOK: true},
		{name: "the scheme may be written in any case", token: token, auth: "bearer " + token, wantOK: true},
		{name: "a disabled API has no routes for an empty token", token: "", auth: "Bearer ", want: 404},
		{name: "a disabled API has no routes for any token", token: "", auth: "Bearer " + token, want: 404},
		{name: "a disabled API has no routes without a token", token: "", auth: "", want: 404},
	}
	routes := []struct {
		method, path, body string
	}{
		{"GET", "/api/admin/complaints", ""},
		{"GET", "/api/admin/complaints/{id}", ""},
		{"POST", "/api/admin/complaints/{id}/status", `{"status":"diverifikasi"}`},
		{"GET", "/api/admin/complaints.csv", ""},
	}
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				f := newFixture(t, b, tc.token)
				for _, rt := range routes {
					c := f.fileAt(t, 5)
					path := strings.Replace(rt.path, "{id}", c.ID, 1)
					res := f.call(t, rt.method, path, tc.auth, rt.body)
					if tc.wantOK {
						if res.status != http.StatusOK {
							t.Errorf("%s %s = %d %s, want 200", rt.method, rt.path, res.status, res.body)
						}
						continue
					}
					if res.status != tc.want {
						t.Errorf("%s %s = %d %s, want %d", rt.method, rt.path, res.status, res.body, tc.want)
					}
					if got, _ := f.cs.Get(context.Background(), c.ID); got.Status != domain.StatusReceived {
						t.Errorf("%s %s changed the complaint to %s", rt.method, rt.path, got.Status)
					}
					if tc.want != http.StatusUnauthorized {
						continue
					}
					if string(res.body) != `{"error":"unauthorized"}`+"\n" {
						t.Errorf("%s %s body %q, want no detail", rt.method, rt.path, res.body)
					}
					if h := res.header.Get("WWW-Authenticate"); h != "Bearer" {
						t.Errorf("%s %s WWW-Authenticate %q", rt.method, rt.path, h)
					}
				}
				if len(f.told.calls()) != 0 && !tc.wantOK {
					t.Errorf("the citizen was told of %d changes", len(f.told.calls()))
				}
				// Refused requests are summed up once a minute
				// (TestWrongTokensAreThrottledAndSummedUp), not logged one by one.
				logs := f.logs.String()
				if n := strings.Count(logs, "\n"); n != 0 && !tc.wantOK {
					t.Errorf("%d lines logged for %d refused requests at once:\n%s", n, len(routes), logs)
				}
				presented := tc.auth
				if _, credentials, ok := strings.Cut(tc.auth, " "); ok {
					presented = credentials
				}
				if strings.TrimSpace(presented) != "" && strings.Contains(logs, presented) {
					t.Errorf("the log shows the presented token:\n%s", logs)
				}
			})
		}
	})
}

func TestListingComplaints(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		f := newFixture(t, b, token)
		oldest := f.fileAt(t, 30)
		verified := f.fileAt(t, 20, domain.StatusVerified)
		newest := f.fileAt(t, 10)

		cases := []struct {
			name  string
			query string
			want  []string
			total int64
			page  int
		}{
			{"without a status every complaint is listed, newest first", "", []string{newest.ID, verified.ID, oldest.ID}, 3, 1},
			{"with a status only that status is listed", "?status=diterima", []string{newest.ID, oldest.ID}, 2, 1},
			{"another status lists its own complaints", "?status=diverifikasi", []string{verified.ID}, 1, 1},
			{"a status nobody has lists nothing", "?status=ditolak", []string{}, 0, 1},
			{"an empty status means every status", "?status=&page=", []string{newest.ID, verified.ID, oldest.ID}, 3, 1},
			{"a page after the last is empty but keeps the total", "?page=2", []string{}, 3, 2},
			{"page 1 may be asked for by number", "?page=1&status=diterima", []string{newest.ID, oldest.ID}, 2, 1},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				res := f.staff(t, "GET", "/api/admin/complaints"+tc.query, "")
				if res.status != http.StatusOK {
					t.Fatalf("= %d %s", res.status, res.body)
				}
				if !bytes.Contains(res.body, []byte(`"complaints":[`)) {
					t.Errorf("complaints is not a JSON array: %s", res.body)
				}
				p := decode[page](t, res)
				if got := ids(p.Complaints); !slices.Equal(got, tc.want) {
					t.Errorf("ids %v, want %v", got, tc.want)
				}
				if p.Total != tc.total || p.Page != tc.page || p.PageSize != admin.PageSize {
					t.Errorf("page %d of size %d, total %d; want page %d of %d, total %d",
						p.Page, p.PageSize, p.Total, tc.page, admin.PageSize, tc.total)
				}
			})
		}

		bad := []struct {
			name, query, mention string
		}{
			{"an unknown status is refused, naming the known ones", "?status=open", "diterima, diverifikasi, diproses, selesai, ditolak, dibuka_kembali"},
			{"a status's display name is unknown", "?status=Sudah+dicek", "dibuka_kembali"},
			{"page 0 is refused", "?page=0", "page"},
			{"a negative page is refused", "?page=-1", "page"},
			{"a page that is not a number is refused", "?page=dua", "page"},
			{"a fractional page is refused", "?page=1.5", "page"},
			{"a page beyond any store is refused", "?page=99999999999999999999", "page"},
			{"a page past the largest is refused", fmt.Sprintf("?page=%d", admin.MaxPage+1), "page"},
		}
		for _, tc := range bad {
			t.Run(tc.name, func(t *testing.T) {
				res := f.staff(t, "GET", "/api/admin/complaints"+tc.query, "")
				if res.status != http.StatusBadRequest {
					t.Fatalf("= %d %s, want 400", res.status, res.body)
				}
				if msg := res.errorText(t); !strings.Contains(msg, tc.mention) {
					t.Errorf("error %q does not mention %q", msg, tc.mention)
				}
			})
		}
	})
}

func TestPagingWalksEveryComplaintOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		f := newFixture(t, b, token)
		const filed = admin.PageSize + 5
		for i := range filed {
			f.fileAt(t, i+1)
		}
		seen := map[string]bool{}
		var order []time.Time
		for pageNo, want := range map[int]int{1: admin.PageSize, 2: 5, 3: 0} {
			p := decode[page](t, f.staff(t, "GET", fmt.Sprintf("/api/admin/complaints?page=%d", pageNo), ""))
			if len(p.Complaints) != want || p.Total != filed || p.Page != pageNo {
				t.Errorf("page %d: %d complaints of %d (page %d), want %d of %d", pageNo, len(p.Complaints), p.Total, p.Page, want, filed)
			}
			for _, c := range p.Complaints {
				if seen[c.ID] {
					t.Errorf("%s is on two pages", c.ID)
				}
				seen[c.ID] = true
				if pageNo == 1 {
					order = append(order, c.CreatedAt)
				}
			}
		}
		if len(seen) != filed {
			t.Errorf("the pages hold %d complaints, %d were filed", len(seen), filed)
		}
		if !slices.IsSortedFunc(order, func(a, b time.Time) int { return b.Compare(a) }) {
			t.Errorf("page 1 is not newest first: %v", order)
		}
	})
}

func TestGettingOneComplaint(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		f := newFixture(t, b, token)
		c := f.fileAt(t, 60, domain.StatusVerified, domain.StatusInProgress)

		t.Run("a complaint comes with its full history", func(t *testing.T) {
			res := f.staff(t, "GET", "/api/admin/complaints/"+c.ID, "")
			if res.status != http.StatusOK || !strings.HasPrefix(res.header.Get("Content-Type"), "application/json") {
				t.Fatalf("= %d %s %s", res.status, res.header.Get("Content-Type"), res.body)
			}
			got := decode[domain.Complaint](t, res)
			want, _ := f.cs.Get(context.Background(), c.ID)
			gotJSON, _ := json.Marshal(got)
			wantJSON, _ := json.Marshal(want)
			if !bytes.Equal(gotJSON, wantJSON) {
				t.Errorf("got %s\nwant %s", gotJSON, wantJSON)
			}
			if len(got.History) != 3 || got.History[2].Status != domain.StatusInProgress || got.History[2].By != "telegram:1" {
				t.Errorf("history %+v", got.History)
			}
		})
		notFound := []struct{ name, path string }{
			{"an unknown id is not found", "/api/admin/complaints/BTG-261127-9999"},
			{"an id shaped like the export's name is an id, not the export", "/api/admin/complaints/complaints.csv"},
			{"an id with an escaped slash is not found", "/api/admin/complaints/BTG%2F1"},
		}
		for _, tc := range notFound {
			t.Run(tc.name, func(t *testing.T) {
				res := f.staff(t, "GET", tc.path, "")
				if res.status != http.StatusNotFound || string(res.body) != `{"error":"complaint not found"}`+"\n" {
					t.Errorf("= %d %s", res.status, res.body)
				}
			})
		}
		t.Run("the export's path is not taken for an id", func(t *testing.T) {
			res := f.staff(t, "GET", "/api/admin/complaints.csv", "")
			if res.status != http.StatusOK || res.header.Get("Content-Type") != "text/csv; charset=utf-8" {
				t.Errorf("= %d %s", res.status, res.header.Get("Content-Type"))
			}
		})
	})
}

func TestStatusChanges(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		f := newFixture(t, b, token)
		c := f.fileAt(t, 60)
		other := f.fileAt(t, 50)
		path := "/api/admin/complaints/" + c.ID + "/status"

		steps := []struct {
			name   string
			body   string
			want   domain.Status
			by     string
			note   string
			others int // complaints left in diterima
		}{
			{"a verification records who, when and the note", `{"status":"diverifikasi","note":"sudah dicek ke lokasi","by":"Budi (Dinas PU)"}`,
				domain.StatusVerified, "Budi (Dinas PU)", "sudah dicek ke lokasi", 1},
			{"a change without a name is recorded as the API, and unknown fields are ignored", `{"status":"diproses","urgent":true}`,
				domain.StatusInProgress, admin.DefaultBy, "", 1},
			{"finishing with a note closes the complaint", `{"status":"selesai","note":"  lubang sudah ditambal  ","by":"Siti"}`,
				domain.StatusDone, "Siti", "lubang sudah ditambal", 1},
			{"a finished complaint can be reopened by staff within the window", `{"status":"dibuka_kembali","note":"warga bilang belum beres"}`,
				domain.StatusReopened, admin.DefaultBy, "warga bilang belum beres", 1},
		}
		for i, tc := range steps {
			t.Run(tc.name, func(t *testing.T) {
				res := f.staff(t, "POST", path, tc.body)
				if res.status != http.StatusOK {
					t.Fatalf("= %d %s", res.status, res.body)
				}
				got := decode[domain.Complaint](t, res)
				last := got.History[len(got.History)-1]
				if got.Status != tc.want || len(got.History) != i+2 {
					t.Errorf("status %s with %d events, want %s with %d", got.Status, len(got.History), tc.want, i+2)
				}
				if !last.At.Equal(now) || last.Status != tc.want || last.By != tc.by || last.Note != tc.note {
					t.Errorf("last event %+v, want at %v by %q note %q", last, now, tc.by, tc.note)
				}
				if stored, _ := f.cs.Get(context.Background(), c.ID); stored.Status != tc.want || len(stored.History) != len(got.History) {
					t.Errorf("the store holds %s with %d events", stored.Status, len(stored.History))
				}
				told := f.told.calls()
				if len(told) != i+1 || told[i].ID != c.ID || told[i].Status != tc.want {
					t.Errorf("the citizen was told %d times (%v), want once more about %s", len(told), ids(told), tc.want)
				}
				byStatus := decode[page](t, f.staff(t, "GET", "/api/admin/complaints?status="+string(tc.want), ""))
				if !slices.Equal(ids(byStatus.Complaints), []string{c.ID}) {
					t.Errorf("the %s list holds %v", tc.want, ids(byStatus.Complaints))
				}
				received := decode[page](t, f.staff(t, "GET", "/api/admin/complaints?status=diterima", ""))
				if !slices.Equal(ids(received.Complaints), []string{other.ID}) {
					t.Errorf("the diterima list holds %v, want only %s", ids(received.Complaints), other.ID)
				}
			})
		}
		t.Run("a rejection with its reason is accepted", func(t *testing.T) {
			res := f.staff(t, "POST", "/api/admin/complaints/"+other.ID+"/status", `{"status":"ditolak","note":"bukan wewenang kabupaten"}`)
			if got := decode[domain.Complaint](t, res); res.status != http.StatusOK || got.Status != domain.StatusRejected {
				t.Errorf("= %d %s", res.status, res.body)
			}
			if n := len(f.told.calls()); n != len(steps)+1 {
				t.Errorf("the citizen was told %d times", n)
			}
		})
		if logs := f.logs.String(); !strings.Contains(logs, "admin API: complaint changed") {
			t.Errorf("no change was logged:\n%s", logs)
		}
	})
}

func TestRefusedStatusChangesChangeNothing(t *testing.T) {
	cases := []struct {
		name    string
		from    []domain.Status // how far the complaint has come
		body    string
		want    int
		mention []string
	}{
		{"an illegal transition is a conflict that says why and what is allowed", nil,
			`{"status":"selesai","note":"sudah"}`, 409, []string{"diterima", "selesai", "diverifikasi, ditolak"}},
		{"the same status again is a conflict", nil,
			`{"status":"diterima","note":"lagi"}`, 409, []string{"from diterima to diterima"}},
		{"a rejected complaint cannot change any more", []domain.Status{domain.StatusRejected},
			`{"status":"diproses","note":"coba lagi"}`, 409, []string{"ditolak", "cannot change any more"}},
		{"an illegal finish without a note is a conflict before it is a missing note", nil,
			`{"status":"selesai"}`, 409, []string{"from diterima to selesai"}},
		{"a rejection without its reason is a bad request", nil,
			`{"status":"ditolak"}`, 400, []string{"note", "reason"}},
		{"a rejection whose reason is only spaces is a bad request", nil,
			`{"status":"ditolak","note":" \n\t "}`, 400, []string{"reason"}},
		{"finishing without a note is a bad request", []domain.Status{domain.StatusVerified, domain.StatusInProgress},
			`{"status":"selesai","by":"Siti"}`, 400, []string{"note"}},
		{"JSON cut short is a bad request", nil, `{"status":"diverifikasi"`, 400, []string{"JSON"}},
		{"JSON with garbage after it is a bad request", nil, `{"status":"diverifikasi"} ok`, 400, []string{"JSON"}},
		{"two JSON objects are a bad request", nil, `{"status":"diverifikasi"}{"status":"ditolak"}`, 400, []string{"JSON"}},
		{"a JSON array is a bad request", nil, `["diverifikasi"]`, 400, []string{"JSON"}},
		{"a status that is not a string is a bad request", nil, `{"status":2}`, 400, []string{"JSON"}},
		{"an empty body is a bad request", nil, ``, 400, []string{"JSON"}},
		{"JSON null has no status", nil, `null`, 400, []string{"status"}},
		{"a missing status is a bad request", nil, `{"note":"sudah dicek"}`, 400, []string{"diterima, diverifikasi"}},
		{"an unknown status is a bad request naming the known ones", nil,
			`{"status":"closed"}`, 400, []string{"diterima, diverifikasi, diproses, selesai, ditolak, dibuka_kembali"}},
		{"a body over 16 KiB is too large", nil,
			`{"status":"ditolak","note":"` + strings.Repeat("a", admin.MaxBody) + `"}`, 413, []string{"16 KiB"}},
		{"staff may not write as the citizen", nil, `{"status":"diverifikasi","by":"citizen"}`, 400, []string{"citizen"}},
		{"staff may not write as the system", nil, `{"status":"diverifikasi","by":" system "}`, 400, []string{"system"}},
		{"a name longer than 64 characters is refused", nil,
			`{"status":"diverifikasi","by":"` + strings.Repeat("é", admin.MaxBy+1) + `"}`, 400, []string{"64"}},
		{"a name over two lines is refused", nil, `{"status":"diverifikasi","by":"Budi\nSiti"}`, 400, []string{"one line"}},
	}
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		f := newFixture(t, b, token)
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				c := f.fileAt(t, 60, tc.from...)
				res := f.staff(t, "POST", "/api/admin/complaints/"+c.ID+"/status", tc.body)
				if res.status != tc.want {
					t.Fatalf("= %d %s, want %d", res.status, res.body, tc.want)
				}
				msg := res.errorText(t)
				for _, m := range tc.mention {
					if !strings.Contains(msg, m) {
						t.Errorf("error %q does not mention %q", msg, m)
					}
				}
				after, _ := f.cs.Get(context.Background(), c.ID)
				if after.Status != c.Status || len(after.History) != len(c.History) {
					t.Errorf("the complaint changed: %s with %d events", after.Status, len(after.History))
				}
				if n := len(f.told.calls()); n != 0 {
					t.Errorf("the citizen was told %d times", n)
				}
			})
		}
		t.Run("an unknown id is not found", func(t *testing.T) {
			res := f.staff(t, "POST", "/api/admin/complaints/BTG-261127-9999/status", `{"status":"diverifikasi"}`)
			if res.status != http.StatusNotFound || res.errorText(t) != "complaint not found" {
				t.Errorf("= %d %s", res.status, res.body)
			}
		})
		t.Run("a status change needs POST", func(t *testing.T) {
			c := f.fileAt(t, 1)
			res := f.staff(t, "PUT", "/api/admin/complaints/"+c.ID+"/status", `{"status":"diverifikasi"}`)
			if res.status != http.StatusMethodNotAllowed {
				t.Errorf("= %d %s", res.status, res.body)
			}
		})
	})
}

func TestAStatusChangeWorksWithoutANotifier(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		cs := b.Store.Complaints("BTG", jakarta(t))
		c, _, err := cs.Create(context.Background(), complaint(now, "lampu jalan mati"), "x")
		if err != nil {
			t.Fatal(err)
		}
		mux := http.NewServeMux()
		admin.New(admin.Config{Token: token, Complaints: cs}).Register(mux)
		req := httptest.NewRequest("POST", "/api/admin/complaints/"+c.ID+"/status", strings.NewReader(`{"status":"diverifikasi"}`))
		req.Header.Set("Authorization", "Bearer "+token)
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			t.Errorf("= %d %s", rec.Code, rec.Body)
		}
	})
}

// readCSV checks the export's BOM and returns its records.
func readCSV(t *testing.T, res response, comma rune) [][]string {
	t.Helper()
	body, ok := bytes.CutPrefix(res.body, []byte("\xEF\xBB\xBF"))
	if !ok {
		t.Fatalf("the export does not start with a UTF-8 BOM: % x", res.body[:min(8, len(res.body))])
	}
	if !utf8.Valid(body) {
		t.Error("the export is not valid UTF-8")
	}
	r := csv.NewReader(bytes.NewReader(body))
	r.Comma = comma
	records, err := r.ReadAll()
	if err != nil {
		t.Fatalf("the export is not valid CSV: %v\n%s", err, body)
	}
	return records
}

var header = []string{"id", "status", "category", "description", "address", "latitude", "longitude", "photos",
	"confidential", "channel", "created_at", "updated_at", "rating", "last_note", "agency", "due", "overdue"}

func TestTheCSVExportOpensInASpreadsheet(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		f := newFixture(t, b, token)
		tricky := complaint(now, "=1+1, jalan rusak\nparah sekali")
		tricky.Confidential = true
		tricky.Location = &domain.Location{Lat: -6.9123, Lon: 109.7301}
		tricky.Address = "@Jl. Jend. Sudirman No. 1, \"depan\" alun-alun"
		tricky.Photos = []string{"a.jpg", "b.jpg"}
		tricky = f.file(t, tricky)

		const indonesian = "Sampah menumpuk di dekat pasar — warga resah; “tolong” segera diangkut. Kafé ꦧꦠꦁ"
		plain := complaint(now.Add(-time.Hour), indonesian)
		plain.Category = "sampah"
		plain.Address = "+62 812 0000, depan masjid"
		plain.Reporter.Channel = "whatsapp"
		plain = f.file(t, plain, domain.StatusVerified)
		plain, err := f.cs.Update(context.Background(), plain.ID, func(c *domain.Complaint) error {
			if err := c.Transition(domain.StatusDone, "Siti", "-sudah diangkut truk DLH", now.Add(-30*time.Minute)); err != nil {
				return err
			}
			c.Rating = 5
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}

		res := f.staff(t, "GET", "/api/admin/complaints.csv", "")
		if res.status != http.StatusOK {
			t.Fatalf("= %d %s", res.status, res.body)
		}
		t.Run("the answer is a UTF-8 CSV attachment named after the region's date", func(t *testing.T) {
			if ct := res.header.Get("Content-Type"); ct != "text/csv; charset=utf-8" {
				t.Errorf("Content-Type %q", ct)
			}
			if cd := res.header.Get("Content-Disposition"); cd != `attachment; filename="complaints-20261127.csv"` {
				t.Errorf("Content-Disposition %q", cd)
			}
		})
		records := readCSV(t, res, ',')
		t.Run("the first row names the columns", func(t *testing.T) {
			if !slices.Equal(records[0], header) {
				t.Errorf("header %q", records[0])
			}
			if len(records) != 3 {
				t.Fatalf("%d rows, want the header and 2 complaints", len(records))
			}
		})
		if len(records) != 3 {
			t.FailNow()
		}
		row := func(rec []string) map[string]string {
			m := map[string]string{}
			for i, h := range header {
				m[h] = rec[i]
			}
			return m
		}
		first, second := row(records[1]), row(records[2])
		rowCases := []struct {
			name   string
			row    map[string]string
			column string
			want   string
		}{
			{"a formula in a description is defused and its comma and newline survive", first, "description", "'=1+1, jalan rusak\nparah sekali"},
			{"an address starting with @ is defused and its quotes survive", first, "address", `'@Jl. Jend. Sudirman No. 1, "depan" alun-alun`},
			{"a negative latitude stays a number", first, "latitude", "-6.9123"},
			{"the longitude is written in full", first, "longitude", "109.7301"},
			{"photos are counted", first, "photos", "2"},
			{"a confidential complaint says so", first, "confidential", "true"},
			{"a confidential complaint hides its channel", first, "channel", ""},
			{"times are local to the region", first, "created_at", "2026-11-27 03:00"},
			{"a complaint without a rating has an empty rating", first, "rating", ""},
			{"a complaint without notes has an empty last note", first, "last_note", ""},
			{"the ticket id is the first column", first, "id", tricky.ID},
			{"Indonesian text is intact", second, "description", indonesian},
			{"an open complaint shows its channel", second, "channel", "whatsapp"},
			{"a complaint without a location has empty coordinates", second, "latitude", ""},
			{"the status is the status id", second, "status", "selesai"},
			{"the rating is given", second, "rating", "5"},
			{"an address starting with + is defused", second, "address", "'+62 812 0000, depan masjid"},
			{"the last note is the latest one, defused", second, "last_note", "'-sudah diangkut truk DLH"},
			{"the update time is the latest change's", second, "updated_at", "2026-11-27 02:30"},
			{"the creation time is the filing's", second, "created_at", "2026-11-27 02:00"},
			{"no photos count as zero", second, "photos", "0"},
			{"an open complaint is not confidential", second, "confidential", "false"},
		}
		for _, tc := range rowCases {
			t.Run(tc.name, func(t *testing.T) {
				if got := tc.row[tc.column]; got != tc.want {
					t.Errorf("%s = %q, want %q", tc.column, got, tc.want)
				}
			})
		}
		t.Run("fields with commas, quotes and newlines are quoted", func(t *testing.T) {
			for _, raw := range []string{`"'=1+1, jalan rusak` + "\r\n" + `parah sekali"`, `"'@Jl. Jend. Sudirman No. 1, ""depan"" alun-alun"`} {
				if !bytes.Contains(res.body, []byte(raw)) {
					t.Errorf("the export does not hold %q", raw)
				}
			}
		})
		t.Run("a semicolon-separated export is there for spreadsheets that want one", func(t *testing.T) {
			res := f.staff(t, "GET", "/api/admin/complaints.csv?sep=semicolon", "")
			records := readCSV(t, res, ';')
			if len(records) != 3 || !slices.Equal(records[0], header) || records[2][3] != indonesian {
				t.Errorf("records %q", records)
			}
		})
		t.Run("an unknown separator is a bad request", func(t *testing.T) {
			res := f.staff(t, "GET", "/api/admin/complaints.csv?sep=tab", "")
			if res.status != http.StatusBadRequest || !strings.Contains(res.errorText(t), "semicolon") {
				t.Errorf("= %d %s", res.status, res.body)
			}
		})
	})
}

func TestTheCSVExportHoldsEveryComplaint(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		f := newFixture(t, b, token)
		const filed = 450 // more than two of the export's reads
		for i := range filed {
			f.fileAt(t, i+1)
		}
		records := readCSV(t, f.staff(t, "GET", "/api/admin/complaints.csv", ""), ',')
		if len(records) != filed+1 {
			t.Fatalf("%d rows, want the header and %d complaints", len(records), filed)
		}
		var got, created []string
		for _, r := range records[1:] {
			got, created = append(got, r[0]), append(created, r[10])
		}
		if !slices.IsSortedFunc(created, func(a, b string) int { return strings.Compare(b, a) }) {
			t.Error("the export is not newest first")
		}
		slices.Sort(got)
		if len(slices.Compact(got)) != filed {
			t.Error("the export holds a complaint twice")
		}
	})
}

// broken is a store that does not answer.
type broken struct{}

var errDown = errors.New("dial tcp 127.0.0.1:6379: connection refused")

func (broken) Inbox(context.Context, domain.InboxQuery, time.Time) (domain.InboxPage, error) {
	return domain.InboxPage{}, errDown
}
func (broken) MarkDuplicate(context.Context, string, string, string, time.Time, func(dup, orig *domain.Complaint) error) (*domain.Complaint, *domain.Complaint, error) {
	return nil, nil, errDown
}
func (broken) Get(context.Context, string) (*domain.Complaint, error) { return nil, errDown }
func (broken) Update(context.Context, string, func(*domain.Complaint) error) (*domain.Complaint, error) {
	return nil, errDown
}

func TestAStoreThatDoesNotAnswerIsA503(t *testing.T) {
	logs := &logBuffer{}
	told := &notifier{}
	mux := http.NewServeMux()
	admin.New(admin.Config{Token: token, Complaints: broken{}, Notifier: told, Logger: slog.New(slog.NewTextHandler(logs, nil))}).Register(mux)
	cases := []struct{ name, method, path, body string }{
		{"the list", "GET", "/api/admin/complaints", ""},
		{"one complaint", "GET", "/api/admin/complaints/BTG-261127-0001", ""},
		{"a status change", "POST", "/api/admin/complaints/BTG-261127-0001/status", `{"status":"diverifikasi"}`},
		{"the export", "GET", "/api/admin/complaints.csv", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name+" says the service is busy", func(t *testing.T) {
			req := httptest.NewRequest(tc.method, tc.path, strings.NewReader(tc.body))
			req.Header.Set("Authorization", "Bearer "+token)
			rec := httptest.NewRecorder()
			mux.ServeHTTP(rec, req)
			if rec.Code != http.StatusServiceUnavailable || !strings.Contains(rec.Body.String(), "busy") {
				t.Errorf("= %d %s", rec.Code, rec.Body)
			}
			if strings.Contains(rec.Body.String(), "6379") {
				t.Errorf("the answer shows the internal error: %s", rec.Body)
			}
		})
	}
	if n := strings.Count(logs.String(), "level=ERROR"); n != len(cases) {
		t.Errorf("%d errors logged for %d failures:\n%s", n, len(cases), logs)
	}
	if len(told.calls()) != 0 {
		t.Error("the citizen was told of a change that did not happen")
	}
}
