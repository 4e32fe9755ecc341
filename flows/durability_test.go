package flows_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/layan-id/layan/bot"
	"github.com/layan-id/layan/domain"
	"github.com/layan-id/layan/flows"
	"github.com/layan-id/layan/locales"
	"github.com/layan-id/layan/store"
)

// The durability tests crash a real redis-server (SIGKILL) under the real engine, router
// and complaint flows, and start it again on the same data directory, as the README's
// production settings have it: AOF on, fsync on every write.
//
//	go test -race -run Durab -v ./flows/
//
// They need redis-server on PATH: without it they are skipped, unless CI is set.

// aofAlways are the persistence settings the README asks of production.
var aofAlways = []string{"--appendonly", "yes", "--appendfsync", "always", "--save", ""}

// Shorter than production (app.go: 10 s and 30 s) so that a conversation whose turn a
// crash cut off is free again within seconds; the relation between them is the same.
const (
	rigTimeout = time.Second
	rigLockTTL = 3 * time.Second
)

// ticketPattern finds the ticket numbers a reply tells a citizen.
var ticketPattern = regexp.MustCompile(`\bUJI-\d{6}-\d{4}\b`)

// crashRig is the service as main assembles it, over a redis-server the test can crash: one
// go-redis client for the whole test (it must find Redis again by itself), the real
// store, router, complaint flows and engine.
type crashRig struct {
	redis  *redisServer
	st     *store.Store
	cmp    *store.Complaints
	crash  *crashAfterWrite
	alerts *recordingAlerts
	engine *bot.Engine
	texts  *locales.Catalog
}

const staffKey = "test:staff"

func newCrashRig(t *testing.T) *crashRig {
	t.Helper()
	r := &crashRig{redis: newRedisServer(t, aofAlways...), alerts: &recordingAlerts{}}
	r.redis.start(t)
	opts, err := store.ClientOptions(r.redis.URL())
	if err != nil {
		t.Fatal(err)
	}
	rdb := redis.NewUniversalClient(opts)
	t.Cleanup(func() { rdb.Close() })
	r.st = store.New(rdb, "layan:")

	r.texts, err = locales.Load("", map[string]any{"Region": "Kabupaten Uji"})
	if err != nil {
		t.Fatal(err)
	}
	region, err := flows.LoadRegion(locales.Content(""))
	if err != nil {
		t.Fatal(err)
	}
	jakarta, err := time.LoadLocation("Asia/Jakarta")
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(errorsFail{slog.DiscardHandler, t})
	r.cmp = r.st.Complaints("UJI", jakarta)
	r.crash = &crashAfterWrite{ComplaintStore: r.cmp}
	router := flows.NewRouter(r.texts, log)
	router.RegisterComplaints(flows.ComplaintConfig{
		Store: r.crash, Alerts: r.alerts, Region: region, Location: jakarta,
		Staff: func(key string) bool { return key == staffKey },
		Now:   func() time.Time { return time.Date(2026, 11, 27, 2, 0, 0, 0, time.UTC) },
	})
	r.engine = bot.NewEngine(bot.EngineConfig{
		Store:   r.st.Conversations(rigLockTTL, time.Hour),
		Handler: router,
		Apology: router.Apology,
		Logger:  log,
		Timeout: rigTimeout,
	})
	return r
}

// restart starts redis-server again on its data directory and waits until the
// service's own client answers PING (what /readyz checks), without making a new client.
func (r *crashRig) restart(t *testing.T) {
	t.Helper()
	r.redis.start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	failed := 0
	for {
		err := r.st.Ping(ctx)
		if err == nil {
			break
		}
		failed++
		select {
		case <-ctx.Done():
			t.Fatalf("the service's client does not find Redis again: %v", err)
		case <-time.After(20 * time.Millisecond):
		}
	}
	t.Logf("Redis restarted from its AOF; the service's client answered after %d failed pings", failed)
}

// errHung is what send returns when Handle outlived its context by far.
var errHung = errors.New("Engine.Handle did not return")

// send hands one message to the engine with a context of d. Handle may outlive its
// context by the store calls that end a turn and a handler's grace period; well beyond
// that it counts as hung, and the test fails.
func (r *crashRig) send(t *testing.T, m bot.Message, d time.Duration) (bot.Outcome, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	type result struct {
		out bot.Outcome
		err error
	}
	done := make(chan result, 1)
	go func() {
		out, err := r.engine.Handle(ctx, m)
		done <- result{out, err}
	}()
	select {
	case res := <-done:
		return res.out, res.err
	case <-time.After(d + 15*time.Second):
		t.Errorf("%s %q: %v within its context of %v and 15 s more", m.Key(), m.Text, errHung, d)
		return bot.Outcome{}, errHung
	}
}

// ok sends a message that must be handled: no error, no apology. The context allows
// for a lock that a crashed turn left behind (it expires after rigLockTTL).
func (r *crashRig) ok(t *testing.T, m bot.Message) bot.Outcome {
	t.Helper()
	out, err := r.send(t, m, rigLockTTL+5*time.Second)
	if err != nil {
		t.Errorf("%s %q: %v", m.Key(), m.Text, err)
		return out
	}
	for _, rep := range out.Replies {
		if rep.Text == r.text(t, "apology") {
			t.Errorf("%s %q: answered with the apology", m.Key(), m.Text)
		}
	}
	return out
}

// text renders a text in Indonesian, as the flows say it.
func (r *crashRig) text(t *testing.T, key string, kv ...any) string {
	t.Helper()
	data := map[string]any{}
	for i := 0; i+1 < len(kv); i += 2 {
		data[kv[i].(string)] = kv[i+1]
	}
	s, err := r.texts.Text("id", key, data)
	if err != nil {
		t.Error(err) // not Fatal: also called from the citizens' goroutines
	}
	return s
}

func (r *crashRig) status(t *testing.T, s domain.Status) string {
	return r.text(t, "complaint.status."+string(s))
}

func (r *crashRig) get(t *testing.T, id string) *domain.Complaint {
	t.Helper()
	cp, err := r.cmp.Get(context.Background(), id)
	if err != nil {
		t.Fatalf("ticket %s: %v", id, err)
	}
	return cp
}

// speaker writes messages on channel "test", each with its own platform id.
type speaker struct {
	user string
	n    int
}

func (p *speaker) key() string { return "test:" + p.user }

// say makes the speaker's next message: a text, "[photo]" or "[pin LAT LON]".
func (p *speaker) say(s string) bot.Message {
	p.n++
	m := bot.Message{Channel: "test", ChatID: p.user, UserID: p.user, ID: fmt.Sprintf("%s-%d", p.user, p.n),
		Kind: bot.KindText, Text: s, Time: time.Now()}
	switch {
	case s == "[photo]":
		m.Kind, m.Text = bot.KindImage, ""
		m.Media = &bot.Media{Ref: fmt.Sprintf("%s-%d.jpg", p.user, p.n), MIME: "image/jpeg", Size: 1000}
	case strings.HasPrefix(s, "[pin "):
		var l domain.Location
		fmt.Sscan(strings.Trim(s[len("[pin "):], "]"), &l.Lat, &l.Lon)
		m.Kind, m.Text, m.Location = bot.KindLocation, "", &l
	}
	return m
}

// saidIn joins what the bot said in one turn.
func saidIn(out bot.Outcome) string {
	var b strings.Builder
	for _, r := range out.Replies {
		b.WriteString(r.Text + "\n")
	}
	return b.String()
}

// wantEvent is one expected entry of a complaint's history.
type wantEvent struct {
	Status domain.Status
	By     string
	Note   string
}

func historyOf(cp *domain.Complaint) []wantEvent {
	var out []wantEvent
	for _, e := range cp.History {
		out = append(out, wantEvent{e.Status, e.By, e.Note})
	}
	return out
}

// TestDurabilityOfComplaintsAcrossRedisCrashes crashes Redis (SIGKILL) five times while
// citizens file complaints and staff work on them: between turns, inside a citizen's
// confirming turn (the ticket is filed, the reply is never sent), between staff
// commands, and inside a staff command (the status is changed, the confirmation is
// never sent). Every ticket a citizen was told exists afterwards with its whole history,
// every status change staff were told of is in it once, nothing is doubled, and every
// conversation goes on without restarting the service.
func TestDurabilityOfComplaintsAcrossRedisCrashes(t *testing.T) {
	r := newCrashRig(t)
	ctx := context.Background()
	step := func(name string, f func(t *testing.T)) {
		t.Helper()
		if !t.Run(name, f) {
			t.FailNow() // each step builds on the one before
		}
	}

	citizens := []struct {
		user   string
		script []string
		ticket bool // the script ends with a confirmed complaint
	}{
		{"warga-1", []string{"halo", "lapor", "1", "Jalan desa berlubang besar di depan SD Negeri 2", "[pin -6.91 109.73]", "[photo]", "lanjut", "2", "1"}, true},
		{"warga-2", []string{"halo", "lapor", "2", "Sampah menumpuk di pinggir pasar sejak seminggu", "Pasar Induk, Jl. Merdeka", "lanjut", "1", "1"}, true},
		{"warga-3", []string{"halo", "lapor", "4", "Lampu jalan mati di sepanjang jalan kampung", "lewati", "[photo]", "[photo]", "lanjut", "2", "1"}, true},
		// In the middle of the flow when Redis dies: at the photos step, one photo sent.
		{"warga-4", []string{"halo", "lapor", "3", "Air PDAM tidak mengalir tiga hari di RT 04", "Perumahan Griya Asri blok C", "[photo]"}, false},
		// At the summary: their confirmation will be cut off by a crash.
		{"warga-5", []string{"halo", "lapor", "6", "Petugas loket meminta uang tambahan untuk KTP", "lewati", "lanjut", "2"}, false},
	}
	people := map[string]*speaker{"staff": {user: "staff"}}
	for _, c := range citizens {
		people[c.user] = &speaker{user: c.user}
	}
	var (
		tickets  []string                   // every ticket number a citizen was sent, in order
		reporter = map[string]string{}      // ticket → the reporter's conversation key
		want     = map[string][]wantEvent{} // ticket → the history it must have
		sent     = map[string][]string{}    // citizen → tickets they were told
		last     = map[string]bot.Outcome{}
		mu       sync.Mutex
	)
	told := func(who string, out bot.Outcome) {
		mu.Lock()
		defer mu.Unlock()
		for _, id := range ticketPattern.FindAllString(saidIn(out), -1) {
			if _, seen := reporter[id]; !seen {
				tickets = append(tickets, id)
				reporter[id] = people[who].key()
				want[id] = []wantEvent{{domain.StatusReceived, "citizen", ""}}
			}
			if !slices.Contains(sent[who], id) {
				sent[who] = append(sent[who], id)
			}
		}
		last[who] = out
	}

	step("five citizens walk the complaint flow at once and three are sent a ticket", func(t *testing.T) {
		var wg sync.WaitGroup
		for _, c := range citizens {
			wg.Go(func() {
				p := people[c.user]
				for _, s := range c.script {
					told(c.user, r.ok(t, p.say(s)))
				}
			})
		}
		wg.Wait()
		for _, c := range citizens {
			if n := len(sent[c.user]); (n == 1) != c.ticket || n > 1 {
				t.Errorf("%s was sent %d tickets %v", c.user, n, sent[c.user])
			}
		}
		if got, want := saidIn(last["warga-4"]), r.text(t, "complaint.photo_received", "N", 1)+"\n"; got != want {
			t.Errorf("warga-4 stopped at %q, want the photos step after one photo", got)
		}
		if rs := last["warga-5"].Replies; len(rs) == 0 || len(rs[len(rs)-1].Options) == 0 || rs[len(rs)-1].Options[0].ID != "confirm" {
			t.Errorf("warga-5 is not at the summary: %q", saidIn(last["warga-5"]))
		}
	})

	// Messages refused while Redis is down, sent again (same platform id) once it is back,
	// and what each must then answer.
	type refused struct {
		who    string
		msg    bot.Message
		answer func(t *testing.T, out bot.Outcome)
	}
	var outage []refused

	step("while Redis is down every message fails with an error instead of hanging", func(t *testing.T) {
		r.redis.kill()
		cases := []struct {
			who, said string
			answer    func(t *testing.T, out bot.Outcome)
		}{
			{"warga-4", "[photo]", func(t *testing.T, out bot.Outcome) {
				// The session committed before the crash is back: the first photo counts.
				if got, want := saidIn(out), r.text(t, "complaint.photo_received", "N", 2)+"\n"; got != want {
					t.Errorf("warga-4 after the restart: %q, want %q", got, want)
				}
			}},
			{"warga-1", "status", func(t *testing.T, out bot.Outcome) {
				if id := sent["warga-1"][0]; !strings.Contains(saidIn(out), id) {
					t.Errorf("warga-1's status does not list %s: %q", id, saidIn(out))
				}
			}},
			{"warga-6", "halo", func(t *testing.T, out bot.Outcome) {
				if len(out.Replies) == 0 || out.Replies[0].Text != r.text(t, "greeting") {
					t.Errorf("a newcomer after the restart is not greeted: %q", saidIn(out))
				}
			}},
			{"staff", "/daftar", func(t *testing.T, out bot.Outcome) {
				head := r.text(t, "staff.list", "Status", r.status(t, domain.StatusReceived), "Total", 3)
				if !strings.HasPrefix(saidIn(out), head) {
					t.Errorf("staff list after the restart: %q, want it to start %q", saidIn(out), head)
				}
			}},
		}
		for _, c := range cases {
			if people[c.who] == nil {
				people[c.who] = &speaker{user: c.who}
			}
			m := people[c.who].say(c.said)
			outage = append(outage, refused{c.who, m, c.answer})
			t.Run(c.who+" says "+c.said, func(t *testing.T) {
				t.Parallel() // several conversations at once, as in production
				out, err := r.send(t, m, 3*time.Second)
				if err == nil {
					t.Fatalf("handled with Redis down: %q", saidIn(out))
				}
				if len(out.Replies) != 0 {
					t.Errorf("an error came with replies: %q", saidIn(out))
				}
				t.Logf("error while Redis is down: %v", err)
			})
		}
	})

	step("after the restart every ticket sent to a citizen is there with its history and indexes", func(t *testing.T) {
		r.restart(t)
		received, _, err := r.cmp.List(ctx, domain.StatusReceived, 1, 100)
		if err != nil {
			t.Fatal(err)
		}
		for _, id := range tickets {
			cp := r.get(t, id)
			if cp.Status != domain.StatusReceived || !slices.Equal(historyOf(cp), want[id]) || cp.Reporter.Key != reporter[id] {
				t.Errorf("%s came back as %s %+v by %s", id, cp.Status, historyOf(cp), cp.Reporter.Key)
			}
			if !slices.ContainsFunc(received, func(c *domain.Complaint) bool { return c.ID == id }) {
				t.Errorf("%s is missing from the list of received complaints", id)
			}
			mine, err := r.cmp.ByReporter(ctx, reporter[id], 10)
			if err != nil || len(mine) != 1 || mine[0].ID != id {
				t.Errorf("the reporter of %s has %d complaints (%v)", id, len(mine), err)
			}
		}
	})

	step("the messages refused during the outage are answered once Redis is back", func(t *testing.T) {
		for _, o := range outage {
			t.Run(o.who+" tries again", func(t *testing.T) {
				out := r.ok(t, o.msg)
				if out.Duplicate {
					t.Errorf("a message refused during the outage counts as handled")
				}
				o.answer(t, out)
			})
		}
	})

	step("the citizen who was at the photos step finishes their complaint with both photos", func(t *testing.T) {
		p := people["warga-4"]
		for _, s := range []string{"lanjut", "2", "1"} {
			told(p.user, r.ok(t, p.say(s)))
		}
		if len(sent[p.user]) != 1 {
			t.Fatalf("warga-4 was sent tickets %v", sent[p.user])
		}
		cp := r.get(t, sent[p.user][0])
		if len(cp.Photos) != 2 || cp.Address != "Perumahan Griya Asri blok C" || cp.Category != "air" {
			t.Errorf("warga-4's complaint lost what was said before the crash: %+v", cp)
		}
	})

	step("a confirmation cut off by a crash files one ticket, and its retry is answered with it", func(t *testing.T) {
		p := people["warga-5"]
		confirm := p.say("1")
		r.crash.arm(r.redis.kill) // right after the complaint is written, before the turn is saved
		out, err := r.send(t, confirm, 3*time.Second)
		if err == nil {
			t.Fatalf("the turn was saved although Redis died before its end: %q", saidIn(out))
		}
		t.Logf("error when Redis dies between filing and saving the turn: %v", err)
		alerted := r.alerts.newComplaints()
		filed := alerted[len(alerted)-1] // staff heard of it; the citizen did not

		r.restart(t)
		start := time.Now()
		out = r.ok(t, confirm) // the platform (or the web page) sends it again
		t.Logf("the retry waited %v for the lock the cut-off turn left", time.Since(start).Round(100*time.Millisecond))
		told(p.user, out)
		if got := sent[p.user]; len(got) != 1 || got[0] != filed {
			t.Fatalf("warga-5 was sent %v, want the ticket filed before the crash, %s", got, filed)
		}
		mine, err := r.cmp.ByReporter(ctx, p.key(), 10)
		if err != nil || len(mine) != 1 {
			t.Errorf("warga-5 has %d complaints, want 1 (%v)", len(mine), err)
		}
		if n := countOf(r.alerts.newComplaints(), filed); n != 1 {
			t.Errorf("staff were alerted of %s %d times", filed, n)
		}
	})

	staff := people["staff"]
	// command sends a staff command that must be confirmed, and records the change.
	command := func(t *testing.T, m bot.Message, id string, to domain.Status, note string) {
		t.Helper()
		out := r.ok(t, m)
		if got, want := saidIn(out), r.text(t, "staff.changed", "ID", id, "Status", r.status(t, to))+"\n"; got != want {
			t.Errorf("%q answered %q, want %q", m.Text, got, want)
			return
		}
		want[id] = append(want[id], wantEvent{to, staffKey, note})
	}

	step("staff verify every ticket", func(t *testing.T) {
		for _, id := range tickets {
			command(t, staff.say("/verifikasi "+id), id, domain.StatusVerified, "")
		}
	})

	step("a staff command during an outage fails, and once Redis is back it is applied once", func(t *testing.T) {
		id, note := tickets[0], "diteruskan ke Dinas PU"
		r.redis.kill()
		m := staff.say("/proses " + id + " " + note)
		if out, err := r.send(t, m, 3*time.Second); err == nil {
			t.Fatalf("handled with Redis down: %q", saidIn(out))
		} else {
			t.Logf("error while Redis is down: %v", err)
		}
		r.restart(t)
		command(t, m, id, domain.StatusInProgress, note)
	})

	step("a status change cut off by a crash is kept once, and its retry changes nothing", func(t *testing.T) {
		id := tickets[1]
		command(t, staff.say("/proses "+id), id, domain.StatusInProgress, "")
		note := "sampah sudah diangkut"
		m := staff.say("/selesai " + id + " " + note)
		r.crash.arm(r.redis.kill) // right after the status is written, before staff are told
		if out, err := r.send(t, m, 3*time.Second); err == nil {
			t.Fatalf("the turn was saved although Redis died before its end: %q", saidIn(out))
		} else {
			t.Logf("error when Redis dies between the status change and the confirmation: %v", err)
		}
		want[id] = append(want[id], wantEvent{domain.StatusDone, staffKey, note}) // written before the crash

		r.restart(t)
		out := r.ok(t, m) // staff send it again, having seen no confirmation
		done := r.status(t, domain.StatusDone)
		// The same command again is recognised as done, and confirmed, not applied twice.
		if got, want := saidIn(out), r.text(t, "staff.changed", "ID", id, "Status", done)+"\n"; got != want {
			t.Errorf("the retry answered %q, want %q", got, want)
		}
	})

	step("staff finish the other tickets with notes across one more crash", func(t *testing.T) {
		for i, id := range tickets {
			if i == 1 {
				continue // finished above
			}
			if i != 0 {
				command(t, staff.say("/proses "+id), id, domain.StatusInProgress, "")
			}
			note := fmt.Sprintf("ditangani regu %d", i+1)
			command(t, staff.say("/selesai "+id+" "+note), id, domain.StatusDone, note)
			if i == 2 {
				r.redis.kill()
				r.restart(t)
			}
		}
	})

	step("every ticket has exactly the history staff were told of, once, and sits in the right index", func(t *testing.T) {
		byStatus := map[domain.Status][]string{}
		for _, s := range domain.Statuses() {
			list, _, err := r.cmp.List(ctx, s, 1, 100)
			if err != nil {
				t.Fatal(err)
			}
			for _, cp := range list {
				byStatus[s] = append(byStatus[s], cp.ID)
			}
		}
		changes := r.alerts.statusChanges()
		for _, id := range tickets {
			cp := r.get(t, id)
			if got := historyOf(cp); !slices.Equal(got, want[id]) {
				t.Errorf("%s history:\n got %+v\nwant %+v", id, got, want[id])
			}
			for s, ids := range byStatus {
				if slices.Contains(ids, id) != (s == domain.StatusDone) {
					t.Errorf("%s (status %s) is in the index of %s: %v", id, cp.Status, s, slices.Contains(ids, id))
				}
			}
			// A staff command repeated after a crash asks again for the news of its
			// change (the first may have died with the crash); the news is an event
			// named after the change, which the engine delivers once. So: at least once,
			// at most twice asked.
			for _, c := range want[id][1:] {
				if n := countOf(changes, id+" "+string(c.Status)); n < 1 || n > 2 {
					t.Errorf("the reporter of %s was told %d times that it is %s", id, n, c.Status)
				}
			}
		}
		all, total, err := r.cmp.List(ctx, "", 1, 100)
		if err != nil || int(total) != len(tickets) || len(all) != len(tickets) {
			t.Errorf("%d complaints filed, %d tickets sent (%v)", total, len(tickets), err)
		}
	})

	step("a citizen reads the whole history of their ticket", func(t *testing.T) {
		p, id := people["warga-1"], sent["warga-1"][0]
		got := saidIn(r.ok(t, p.say("status "+id)))
		for _, c := range want[id] {
			if !strings.Contains(got, r.status(t, c.Status)) || !strings.Contains(got, c.Note) {
				t.Errorf("warga-1's history of %s lacks %s %q:\n%s", id, c.Status, c.Note, got)
			}
		}
	})
}

// TestDurabilityControlAKillWithoutAOFLosesEverything shows that the crash in these
// tests is real: the same SIGKILL against a Redis without AOF or snapshots loses every
// key, which is exactly what the AOF settings prevent.
func TestDurabilityControlAKillWithoutAOFLosesEverything(t *testing.T) {
	srv := newRedisServer(t, "--appendonly", "no", "--save", "")
	srv.start(t)
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:" + srv.port})
	defer rdb.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := rdb.Set(ctx, "layan:{cmp}:c:UJI-261127-0001", "{}", 0).Err(); err != nil {
		t.Fatal(err)
	}
	srv.kill()
	srv.start(t)
	n, err := rdb.Exists(ctx, "layan:{cmp}:c:UJI-261127-0001").Result()
	if err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Fatal("the key survived a SIGKILL without persistence: the kill is not a crash")
	}
}

func countOf(list []string, s string) int {
	n := 0
	for _, x := range list {
		if x == s {
			n++
		}
	}
	return n
}

// crashAfterWrite is the complaint store with a trap: armed, it runs a function (the
// crash) right after the next Create or Update that succeeded, so Redis dies after a
// complaint was written and before the turn that wrote it is saved and answered.
type crashAfterWrite struct {
	flows.ComplaintStore
	mu    sync.Mutex
	armed func()
}

func (c *crashAfterWrite) arm(f func()) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.armed = f
}

func (c *crashAfterWrite) fire() {
	c.mu.Lock()
	f := c.armed
	c.armed = nil
	c.mu.Unlock()
	if f != nil {
		f()
	}
}

func (c *crashAfterWrite) Create(ctx context.Context, cp *domain.Complaint, idem string) (*domain.Complaint, bool, error) {
	got, created, err := c.ComplaintStore.Create(ctx, cp, idem)
	if err == nil {
		c.fire()
	}
	return got, created, err
}

func (c *crashAfterWrite) Update(ctx context.Context, id string, f func(*domain.Complaint) error) (*domain.Complaint, error) {
	got, err := c.ComplaintStore.Update(ctx, id, f)
	if err == nil {
		c.fire()
	}
	return got, err
}

// recordingAlerts records the complaint news the flows send, instead of sending it.
type recordingAlerts struct {
	mu       sync.Mutex
	created  []string // ticket ids
	reopened []string
	changed  []string // "ticket status"
}

var _ flows.Alerts = (*recordingAlerts)(nil)

func (a *recordingAlerts) NewComplaint(_ context.Context, c *domain.Complaint) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.created = append(a.created, c.ID)
}

func (a *recordingAlerts) Reopened(_ context.Context, c *domain.Complaint) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.reopened = append(a.reopened, c.ID)
}

func (a *recordingAlerts) StatusChanged(_ context.Context, c *domain.Complaint) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.changed = append(a.changed, c.ID+" "+string(c.Status))
}

func (a *recordingAlerts) newComplaints() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Clone(a.created)
}

func (a *recordingAlerts) statusChanges() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Clone(a.changed)
}

// errorsFail fails the test on any error the service logs: a turn that failed in the
// handler (an apology), a missing text.
type errorsFail struct {
	slog.Handler
	t *testing.T
}

func (h errorsFail) Enabled(_ context.Context, l slog.Level) bool { return l >= slog.LevelError }

func (h errorsFail) Handle(_ context.Context, r slog.Record) error {
	h.t.Errorf("the service logged an error: %s", r.Message)
	return nil
}
