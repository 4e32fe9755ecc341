package store_test

import (
	"context"
	"errors"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/layan-id/layan/bot"
	"github.com/layan-id/layan/domain"
	"github.com/layan-id/layan/store"
	"github.com/layan-id/layan/store/storetest"
)

func newHandoff(conv string, since time.Time) *domain.Handoff {
	return &domain.Handoff{ID: store.NewHandoffID(), Conv: conv, Channel: "webchat", ChatID: strings.TrimPrefix(conv, "webchat:"),
		Lang: "id", Since: since}
}

// replica returns a second store on the same Redis with its own connections, as
// another replica of the service has.
func replica(t *testing.T, b storetest.Backend) *store.Store {
	t.Helper()
	var rdb redis.UniversalClient
	if b.Mini != nil {
		rdb = redis.NewClient(&redis.Options{Addr: b.Mini.Addr()})
	} else {
		opts, err := store.ClientOptions(os.Getenv("LAYAN_TEST_REDIS_URL"))
		if err != nil {
			t.Fatal(err)
		}
		rdb = redis.NewUniversalClient(opts)
	}
	t.Cleanup(func() { rdb.Close() })
	return store.New(rdb, b.Store.Prefix())
}

func TestAskingForAPersonTwiceKeepsOnePlaceInTheQueue(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		ctx := context.Background()
		hs := b.Store.Handoffs()
		at := time.Date(2026, 11, 27, 2, 0, 0, 0, time.UTC)
		first, created, err := hs.Open(ctx, newHandoff("webchat:a", at), []bot.Line{{From: bot.FromCitizen, Text: "halo", At: at}})
		if err != nil || !created {
			t.Fatalf("open: %v %v", created, err)
		}
		again, created, err := hs.Open(ctx, newHandoff("webchat:a", at.Add(time.Minute)), nil)
		if err != nil || created || again.ID != first.ID {
			t.Errorf("asking again opened %v (created %v, %v), want the first request back", again, created, err)
		}
		second, _, _ := hs.Open(ctx, newHandoff("webchat:b", at.Add(time.Minute)), nil)
		if p, _ := hs.Position(ctx, second.ID); p != 2 {
			t.Errorf("the second person is number %d in the queue, want 2", p)
		}
		waiting, err := hs.List(ctx, domain.HandoffWaiting, 50)
		if err != nil || len(waiting) != 2 || waiting[0].ID != first.ID {
			t.Fatalf("waiting = %v (%v), want the first request at the top", waiting, err)
		}
		lines, n, err := hs.Lines(ctx, first.ID, 0)
		if err != nil || n != 1 || len(lines) != 1 || lines[0].Text != "halo" {
			t.Errorf("transcript before the handoff = %v, %d (%v)", lines, n, err)
		}
		if open, _ := hs.OpenFor(ctx, "webchat:a"); open == nil || open.ID != first.ID {
			t.Errorf("open handoff of a = %v", open)
		}
	})
}

func TestTwoReplicasTakingTheSameConversationGiveItToExactlyOne(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		ctx := context.Background()
		at := time.Now()
		ho, _, err := b.Store.Handoffs().Open(ctx, newHandoff("webchat:c", at), nil)
		if err != nil {
			t.Fatal(err)
		}
		replicas := []*store.Handoffs{b.Store.Handoffs(), replica(t, b).Handoffs()}
		const tries = 20
		var wg sync.WaitGroup
		var mu sync.Mutex
		winners, held := map[string]bool{}, 0
		for i := range tries {
			wg.Go(func() {
				who := []string{"budi", "sari"}[i%2]
				_, _, err := replicas[i%2].Take(ctx, ho.ID, who, at)
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					winners[who] = true
				case errors.Is(err, domain.ErrHandoffHeld):
					held++
				default:
					t.Errorf("take: %v", err)
				}
			})
		}
		wg.Wait()
		if len(winners) != 1 || held == 0 {
			t.Fatalf("holders = %v, refused %d times: want exactly one staff member to hold it", winners, held)
		}
		got, _ := b.Store.Handoffs().Get(ctx, ho.ID)
		if got.State != domain.HandoffActive || !winners[got.Assignee] {
			t.Errorf("after the race the conversation is %s held by %q, want active with the winner", got.State, got.Assignee)
		}
		if w, _ := b.Store.Handoffs().List(ctx, domain.HandoffWaiting, 10); len(w) != 0 {
			t.Errorf("a taken conversation is still in the queue: %v", w)
		}
	})
}

func TestAnEndedConversationTakesNoMoreMessagesAndIsListedAsEnded(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		ctx := context.Background()
		hs := b.Store.Handoffs()
		at := time.Now()
		ho, _, _ := hs.Open(ctx, newHandoff("webchat:d", at), nil)
		if _, _, err := hs.Take(ctx, ho.ID, "budi", at); err != nil {
			t.Fatal(err)
		}
		if n, err := hs.Append(ctx, ho.ID, bot.Line{From: bot.FromStaff, Text: "Selamat pagi, ada yang bisa dibantu?", By: "budi", At: at}); err != nil || n != 1 {
			t.Fatalf("append: %d %v", n, err)
		}
		if l, err := hs.Line(ctx, ho.ID, 1); err != nil || l.By != "budi" {
			t.Errorf("line 1 = %+v (%v)", l, err)
		}
		if got, _ := hs.Get(ctx, ho.ID); got.LastText != "Selamat pagi, ada yang bisa dibantu?" {
			t.Errorf("last text = %q", got.LastText)
		}
		ended, changed, err := hs.End(ctx, ho.ID, "budi", at, time.Hour)
		if err != nil || !changed || ended.State != domain.HandoffEnded || ended.EndedBy != "budi" {
			t.Fatalf("end: %+v %v %v", ended, changed, err)
		}
		if _, changed, _ := hs.End(ctx, ho.ID, "citizen", at, time.Hour); changed {
			t.Error("ending twice ended it twice")
		}
		if _, err := hs.Append(ctx, ho.ID, bot.Line{From: bot.FromStaff, Text: "halo?"}); !errors.Is(err, domain.ErrHandoffEnded) {
			t.Errorf("a message after the end: %v, want ErrHandoffEnded", err)
		}
		if _, _, err := hs.Take(ctx, ho.ID, "sari", at); !errors.Is(err, domain.ErrHandoffEnded) {
			t.Errorf("taking an ended conversation: %v", err)
		}
		if open, _ := hs.OpenFor(ctx, "webchat:d"); open != nil {
			t.Errorf("the conversation still has an open handoff: %v", open)
		}
		if list, _ := hs.List(ctx, domain.HandoffEnded, 10); len(list) != 1 || list[0].ID != ho.ID {
			t.Errorf("ended = %v", list)
		}
		if err := hs.Rate(ctx, ho.ID, "webchat:d", 5); err != nil {
			t.Errorf("rate: %v", err)
		}
		if err := hs.Rate(ctx, ho.ID, "webchat:someone-else", 1); !errors.Is(err, domain.ErrNotFound) {
			t.Errorf("someone else rated it: %v", err)
		}
		if got, _ := hs.Get(ctx, ho.ID); got.Rating != 5 {
			t.Errorf("rating = %d", got.Rating)
		}
		// Released and transferred conversations keep their place.
		other, _, _ := hs.Open(ctx, newHandoff("webchat:e", at), nil)
		hs.Take(ctx, other.ID, "budi", at)
		if got, err := hs.Assign(ctx, other.ID, "sari"); err != nil || got.Assignee != "sari" || got.State != domain.HandoffActive {
			t.Errorf("transfer: %+v %v", got, err)
		}
		if got, err := hs.Assign(ctx, other.ID, ""); err != nil || got.State != domain.HandoffWaiting {
			t.Errorf("release: %+v %v", got, err)
		}
	})
}

func TestAConversationNobodyTookIsReportedOverdueOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		ctx := context.Background()
		hs, other := b.Store.Handoffs(), replica(t, b).Handoffs()
		at := time.Date(2026, 11, 27, 2, 0, 0, 0, time.UTC)
		late, _, _ := hs.Open(ctx, newHandoff("webchat:f", at), nil)
		evening := newHandoff("webchat:g", at.Add(time.Second))
		evening.AfterHours = true
		hs.Open(ctx, evening, nil)
		hs.Open(ctx, newHandoff("webchat:h", at.Add(9*time.Minute)), nil)
		due, err := hs.Overdue(ctx, at.Add(5*time.Minute))
		if err != nil || len(due) != 1 || due[0].ID != late.ID {
			t.Fatalf("overdue = %v (%v), want only the one waiting longest in office hours", due, err)
		}
		if again, _ := other.Overdue(ctx, at.Add(5*time.Minute)); len(again) != 0 {
			t.Errorf("another replica was told again: %v", again)
		}
		if p, _ := hs.Position(ctx, late.ID); p != 1 {
			t.Errorf("an overdue request left the queue (place %d)", p)
		}
	})
}

func TestErasingAConversationRemovesItsTalksWithStaff(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		ctx := context.Background()
		hs := b.Store.Handoffs()
		at := time.Now()
		old, _, _ := hs.Open(ctx, newHandoff("webchat:zz9", at), []bot.Line{{From: bot.FromCitizen, Text: "NIK saya 3325..."}})
		hs.End(ctx, old.ID, "citizen", at, time.Hour)
		cur, _, _ := hs.Open(ctx, newHandoff("webchat:zz9", at), nil)
		hs.Append(ctx, cur.ID, bot.Line{From: bot.FromCitizen, Text: "alamat saya ..."})
		keep, _, _ := hs.Open(ctx, newHandoff("webchat:other", at), nil)
		if err := b.Store.Privacy("").Erase(ctx, "webchat:zz9"); err != nil {
			t.Fatal(err)
		}
		for _, id := range []string{old.ID, cur.ID} {
			if _, err := hs.Get(ctx, id); !errors.Is(err, domain.ErrNotFound) {
				t.Errorf("handoff %s is still there after the erase (%v)", id, err)
			}
			if lines, _, _ := hs.Lines(ctx, id, 0); len(lines) != 0 {
				t.Errorf("transcript of %s is still there: %v", id, lines)
			}
		}
		keys, _ := b.Store.Client().Keys(ctx, b.Store.Prefix()+"*").Result()
		for _, k := range keys {
			if strings.Contains(k, "zz9") || strings.Contains(k, old.ID) || strings.Contains(k, cur.ID) {
				t.Errorf("after the erase %s remains", k)
			}
		}
		for _, st := range domain.HandoffStates() {
			list, _ := hs.List(ctx, st, 10)
			for _, h := range list {
				if h.ID != keep.ID {
					t.Errorf("%s list still has %s", st, h.ID)
				}
			}
		}
	})
}
