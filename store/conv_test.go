package store_test

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/layan-id/layan/bot"
	"github.com/layan-id/layan/store"
	"github.com/layan-id/layan/store/storetest"
)

// clock is a settable time for the dedupe windows.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// turn handles one message the way the engine does: acquire, then commit the replies
// unless it is a duplicate.
func turn(t *testing.T, cs *store.Conversations, conv, id, answer string) *bot.Claim {
	t.Helper()
	ctx := context.Background()
	cl, err := cs.Acquire(ctx, conv, id)
	if err != nil {
		t.Fatal(err)
	}
	if cl.Duplicate {
		if err := cs.Release(ctx, cl); err != nil {
			t.Fatal(err)
		}
		return cl
	}
	if err := cs.Commit(ctx, cl, cl.Session, []bot.Reply{{Text: answer}}); err != nil {
		t.Fatal(err)
	}
	return cl
}

func TestARetryWithinTheHourGetsTheSameAnswerAndLaterOnlyTheDrop(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		clk := &clock{t: time.Date(2026, 11, 27, 2, 0, 0, 0, time.UTC)}
		cs := b.Store.Conversations(5*time.Second, 90*24*time.Hour).WithClock(clk.now)
		conv := "webchat:abc"

		if cl := turn(t, cs, conv, "m1", "Tiket Anda ADU-261127-0001"); cl.Duplicate {
			t.Fatal("a new message was taken for a duplicate")
		}
		clk.add(59 * time.Minute)
		cl := turn(t, cs, conv, "m1", "a second answer")
		if !cl.Duplicate || len(cl.Replies) != 1 || cl.Replies[0].Text != "Tiket Anda ADU-261127-0001" {
			t.Fatalf("retry after 59 min: duplicate %v, replies %v; want the first answer", cl.Duplicate, cl.Replies)
		}

		clk.add(2 * time.Minute) // 61 min after
		if b.Mini != nil {
			b.Mini.FastForward(61 * time.Minute)
		}
		cl = turn(t, cs, conv, "m1", "a second answer")
		if !cl.Duplicate || len(cl.Replies) != 0 {
			t.Fatalf("redelivery after 61 min: duplicate %v, replies %v; want dropped with no answer", cl.Duplicate, cl.Replies)
		}
		if b.Mini != nil && b.Mini.Exists("layan:{c:webchat:abc}:ans:m1") {
			t.Error("the stored answer outlived its hour")
		}

		clk.add(47*time.Hour - 2*time.Minute) // just under 48 h after
		if cl := turn(t, cs, conv, "m1", "x"); !cl.Duplicate {
			t.Fatal("a redelivery within 48 h was handled again")
		}
		clk.add(3 * time.Minute) // past 48 h: the id is forgotten
		if cl := turn(t, cs, conv, "m1", "x"); cl.Duplicate {
			t.Fatal("an id was remembered beyond 48 h")
		}
	})
}

func TestDedupeMarksExpireWithoutTraffic(t *testing.T) {
	b := storetest.Mini(t)
	clk := &clock{t: time.Date(2026, 11, 27, 2, 0, 0, 0, time.UTC)}
	cs := b.Store.Conversations(5*time.Second, 90*24*time.Hour).WithClock(clk.now)
	turn(t, cs, "telegram:1", "m1", "halo")
	b.Mini.FastForward(time.Hour + time.Second)
	if b.Mini.Exists("layan:{c:telegram:1}:ans:m1") {
		t.Error("the answer is kept beyond an hour")
	}
	if !b.Mini.Exists("layan:{c:telegram:1}:seen") {
		t.Error("the id is gone before 48 h")
	}
	b.Mini.FastForward(47 * time.Hour)
	if b.Mini.Exists("layan:{c:telegram:1}:seen") {
		t.Error("the id is kept beyond 48 h")
	}
}

func TestAMarkOfTheFormerFormatStillDropsARedelivery(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		ctx := context.Background()
		rdb, p := b.Store.Client(), b.Store.Prefix()
		// Written by the version before: one key per message with its answer, 48 h.
		rdb.Set(ctx, p+"{c:telegram:7}:seen:fresh", `[{"text":"jawaban lama"}]`, 48*time.Hour-time.Minute)
		rdb.Set(ctx, p+"{c:telegram:7}:seen:stale", `[{"text":"jawaban basi"}]`, 40*time.Hour)
		cs := b.Store.Conversations(5*time.Second, time.Hour)
		cl := turn(t, cs, "telegram:7", "fresh", "x")
		if !cl.Duplicate || len(cl.Replies) != 1 || cl.Replies[0].Text != "jawaban lama" {
			t.Errorf("fresh old mark: duplicate %v, replies %v", cl.Duplicate, cl.Replies)
		}
		cl = turn(t, cs, "telegram:7", "stale", "x")
		if !cl.Duplicate || len(cl.Replies) != 0 {
			t.Errorf("old mark from 8 h ago: duplicate %v, replies %v; want dropped without an answer", cl.Duplicate, cl.Replies)
		}
	})
}

// TestDedupeBytesPerMessage measures what the memory of handled messages costs, with
// MEMORY USAGE on a real Redis (README, "Production: a real Redis"):
//
//	LAYAN_TEST_REDIS_URL=redis://127.0.0.1:6399/0 go test -run DedupeBytes -v ./store/
func TestDedupeBytesPerMessage(t *testing.T) {
	b, ok := storetest.Real(t)
	if !ok {
		t.Skip("needs LAYAN_TEST_REDIS_URL (MEMORY USAGE)")
	}
	ctx := context.Background()
	rdb, p := b.Store.Client(), b.Store.Prefix()
	usage := func(pattern string) (int64, int) {
		var total int64
		n := 0
		iter := rdb.Scan(ctx, 0, p+pattern, 1000).Iterator()
		for iter.Next(ctx) {
			u, err := rdb.MemoryUsage(ctx, iter.Val(), 0).Result()
			if err != nil {
				t.Fatal(err)
			}
			total += u
			n++
		}
		return total, n
	}
	// A typical answer: the menu, as the engine stores it.
	answer := "Silakan pilih layanan (ketik angka atau nama menu): 1. Tanya layanan 2. Buat pengaduan 3. Cek status 4. Info wisata 5. Langganan 6. Ganti bahasa 7. Bantuan"
	for _, n := range []int{20, 500} {
		clk := &clock{t: time.Now()}
		cs := b.Store.Conversations(5*time.Second, time.Hour).WithClock(clk.now)
		conv := fmt.Sprintf("whatsapp:%d", n)
		for i := range n {
			turn(t, cs, conv, fmt.Sprintf("3EB0C431C26A1916E0F%05d", i), answer) // WhatsApp-shaped ids
		}
		after, _ := usage("{c:" + conv + "}:seen") // after the hour only the ids are left
		answers, _ := usage("{c:" + conv + "}:ans:*")
		t.Logf("%d messages in one conversation: within the hour %d B/message, after it %d B/message",
			n, (after+answers)/int64(n), after/int64(n))
		// A sorted set of up to 128 members is one compact list; beyond it, a skip list.
		if limit := map[int]int64{20: 64, 500: 160}[n]; after/int64(n) > limit {
			t.Errorf("after the hour a message costs %d bytes, want at most %d", after/int64(n), limit)
		}
	}
	// The former layout for comparison: one key per message holding its answer for 48 h.
	for i := range 20 {
		rdb.Set(ctx, fmt.Sprintf("%s{c:whatsapp:old}:seen:3EB0C431C26A1916E0F%05d", p, i), `[{"text":"`+answer+`"}]`, 48*time.Hour)
	}
	old, _ := usage("{c:whatsapp:old}:*")
	t.Logf("former layout: %d B/message for 48 h", old/20)
}

// TestTheConversationLockIsALease: a turn that runs for three leases keeps its
// conversation and saves its work (the lease is renewed while it runs), and a process
// that dies mid-turn frees the conversation one lease later, not after a long expiry.
func TestTheConversationLockIsALease(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		// Long enough that a renewal held up by a loaded machine (race detector, parallel
		// packages) still lands in time: renewals come every third of it.
		const lease = 2 * time.Second
		ctx := context.Background()
		live := b.Store.Conversations(lease, time.Hour)
		// leaseTime lets one lease's time pass for the lock: on miniredis, whose keys
		// expire only when told, after the renewals of real time had their chance.
		leaseTime := func() {
			time.Sleep(lease)
			if b.Mini != nil {
				b.Mini.FastForward(lease * 2 / 3)
			}
		}
		cl, err := live.Acquire(ctx, "webchat:lease", "m1")
		if err != nil {
			t.Fatal(err)
		}
		for range 3 {
			leaseTime()
		}
		short, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
		if _, err := live.Acquire(short, "webchat:lease", "m2"); err == nil {
			t.Fatal("another worker took the conversation while its turn still ran")
		}
		cancel()
		if err := live.Commit(ctx, cl, &bot.Session{Flow: "complaint", Step: "describe"}, []bot.Reply{{Text: "ok"}}); err != nil {
			t.Fatalf("a turn of three leases could not save its work: %v", err)
		}

		// A process that dies mid-turn: its client is gone, nothing is committed.
		var other redis.UniversalClient
		if b.Mini != nil {
			other = redis.NewClient(&redis.Options{Addr: b.Mini.Addr()})
		} else {
			opts, err := store.ClientOptions(os.Getenv("LAYAN_TEST_REDIS_URL"))
			if err != nil {
				t.Fatal(err)
			}
			other = store.NewClient(opts)
		}
		dying := store.New(other, b.Store.Prefix()).Conversations(lease, time.Hour)
		if _, err := dying.Acquire(ctx, "webchat:lease", "m3"); err != nil {
			t.Fatal(err)
		}
		other.Close() // kill -9
		start := time.Now()
		if b.Mini != nil {
			b.Mini.FastForward(lease)
		}
		wait, cancel := context.WithTimeout(ctx, 10*lease)
		defer cancel()
		cl, err = live.Acquire(wait, "webchat:lease", "m3")
		if err != nil {
			t.Fatalf("the conversation of a dead process stayed locked: %v", err)
		}
		if cl.Session.Step != "describe" {
			t.Errorf("after the dead process's lease lapsed the session is %+v, want the saved one", cl.Session)
		}
		t.Logf("freed %v after the holder died (lease %v)", time.Since(start).Round(10*time.Millisecond), lease)
		live.Release(ctx, cl)
	})
}

// TestRecentMessagesLiveInTheirOwnList: with WithHistory the session is saved without
// its recent messages, which go to a list of their own, the newest kept; a session
// saved with them (by the version before) has them moved at its next save; forgetting
// the session forgets them too.
func TestRecentMessagesLiveInTheirOwnList(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		ctx := context.Background()
		rdb, p := b.Store.Client(), b.Store.Prefix()
		cs := b.Store.Conversations(5*time.Second, time.Hour).WithHistory(3)
		at := time.Date(2026, 12, 2, 8, 0, 0, 0, time.UTC)
		line := func(from, text string) bot.Line { return bot.Line{From: from, Text: text, At: at} }
		save := func(conv, id string, lines ...bot.Line) (read int) {
			t.Helper()
			cl, err := cs.Acquire(ctx, conv, id)
			if err != nil {
				t.Fatal(err)
			}
			s := cl.Session
			read = len(s.History)
			s.Lang = "id"
			s.History = append(s.History, lines...) // what the engine adds after a turn
			if err := cs.Commit(ctx, cl, s, nil); err != nil {
				t.Fatal(err)
			}
			return read
		}
		texts := func(conv string) []string {
			t.Helper()
			lines, err := cs.History(ctx, conv)
			if err != nil {
				t.Fatal(err)
			}
			var out []string
			for _, l := range lines {
				out = append(out, l.Text)
			}
			return out
		}

		save("webchat:a", "m1", line(bot.FromCitizen, "halo"), line(bot.FromBot, "Selamat datang"))
		if read := save("webchat:a", "m2", line(bot.FromCitizen, "ktp hilang"), line(bot.FromBot, "Bawa surat kehilangan")); read != 0 {
			t.Errorf("a session read for a turn holds %d recent messages, want them in the list only", read)
		}
		if got, want := texts("webchat:a"), []string{"Selamat datang", "ktp hilang", "Bawa surat kehilangan"}; !slices.Equal(got, want) {
			t.Errorf("recent messages = %v, want the newest three %v", got, want)
		}
		raw, _ := rdb.Get(ctx, p+"{c:webchat:a}:session").Result()
		if strings.Contains(raw, "history") || !strings.Contains(raw, `"lang":"id"`) {
			t.Errorf("the session is saved as %s, want it without its recent messages", raw)
		}
		if ttl := rdb.PTTL(ctx, p+"{c:webchat:a}:history").Val(); ttl < 59*time.Minute || ttl > time.Hour {
			t.Errorf("the recent messages expire in %v, want with the session (1 h)", ttl)
		}

		// Saved by the version before: the transcript inside the session.
		rdb.Set(ctx, p+"{c:webchat:b}:session", `{"lang":"id","history":[{"from":"citizen","text":"lama 1","at":"2026-12-01T08:00:00Z"},{"from":"bot","text":"lama 2","at":"2026-12-01T08:00:00Z"}]}`, time.Hour)
		save("webchat:b", "m1", line(bot.FromCitizen, "baru"))
		if got, want := texts("webchat:b"), []string{"lama 1", "lama 2", "baru"}; !slices.Equal(got, want) {
			t.Errorf("after the first save of an older session the recent messages are %v, want %v", got, want)
		}
		if raw, _ := rdb.Get(ctx, p+"{c:webchat:b}:session").Result(); strings.Contains(raw, "lama") {
			t.Errorf("the older session still holds its transcript: %s", raw)
		}

		cl, err := cs.Acquire(ctx, "webchat:b", "m2")
		if err != nil {
			t.Fatal(err)
		}
		if err := cs.Commit(ctx, cl, nil, nil); err != nil { // the person asked to be forgotten
			t.Fatal(err)
		}
		if n := rdb.Exists(ctx, p+"{c:webchat:b}:history", p+"{c:webchat:b}:session").Val(); n != 0 {
			t.Errorf("%d of session and recent messages left after the session was forgotten", n)
		}
	})
}
