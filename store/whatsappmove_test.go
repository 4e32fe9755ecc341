package store_test

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/layan-id/layan/bot"
	"github.com/layan-id/layan/domain"
	"github.com/layan-id/layan/store"
	"github.com/layan-id/layan/store/storetest"
)

// Sari wrote to the whatsmeow number, which knew her by LID; the device store maps
// her LID to her number. Budi's LID has no number in the device store.
const (
	sariLID   = "111222333"
	sariPhone = "6281234567890"
	sariOld   = "whatsapp:" + sariLID + "@lid"
	sariNew   = "whatsapp:" + sariPhone
	budiOld   = "whatsapp:444555@lid"
)

func resolver(calls *atomic.Int64) store.LIDResolver {
	return func(_ context.Context, lid string) (string, bool, error) {
		if calls != nil {
			calls.Add(1)
		}
		if lid == sariLID {
			return sariPhone, true, nil
		}
		return "", false, nil
	}
}

// whatsmeowDays writes what today's code keeps of Sari and Budi while the number ran
// on whatsmeow: a conversation with a handled message, a photo, a filed complaint,
// two subscriptions with a tip had, a broadcast run delivered to her and one still
// going out, and news queued in the outbox. It returns the two runs.
func whatsmeowDays(t *testing.T, st *store.Store, at time.Time) (delivered, pending string) {
	t.Helper()
	ctx := context.Background()
	conv := st.Conversations(30*time.Second, 30*24*time.Hour).WithClock(func() time.Time { return at })
	for _, who := range []string{sariOld, budiOld} {
		cl, err := conv.Acquire(ctx, who, "M1")
		if err != nil {
			t.Fatal(err)
		}
		if err := conv.Commit(ctx, cl, &bot.Session{Lang: "en", Greeted: true, LastActive: at}, []bot.Reply{{Text: "Hello!"}}); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.Privacy("").NotePhoto(ctx, sariOld, "p1.jpg"); err != nil {
		t.Fatal(err)
	}
	cp := &domain.Complaint{
		Status: domain.StatusReceived, Category: "jalan", Description: "jalan berlubang",
		Reporter:  domain.Reporter{Channel: "whatsapp", ChatID: sariLID + "@lid", Key: sariOld, Lang: "en"},
		CreatedAt: at, UpdatedAt: at, History: []domain.Event{{At: at, Status: domain.StatusReceived, By: "citizen"}},
	}
	if _, _, err := st.Complaints("BTG", time.UTC).Create(ctx, cp, "idem-1"); err != nil {
		t.Fatal(err)
	}
	b := st.Broadcasts()
	sari := domain.Recipient{Key: sariOld, Channel: "whatsapp", ChatID: sariLID + "@lid", Lang: "en"}
	for _, topic := range []string{"pengumuman", "darurat"} {
		if err := b.Subscribe(ctx, sari, topic); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.TipHad(ctx, sariOld, 3); err != nil {
		t.Fatal(err)
	}
	bc := &domain.Broadcast{Topics: []string{"pengumuman"}, Text: map[string]string{"id": "Jalan ditutup"}, CreatedAt: at}
	id, err := b.Create(ctx, bc)
	if err != nil {
		t.Fatal(err)
	}
	for i, fire := range []time.Time{at.Add(-time.Hour), at} {
		if _, err := b.StartRun(ctx, bc, fire, domain.RunDelivering, domain.AtMostOnce, at); err != nil {
			t.Fatal(err)
		}
		run := domain.RunID(id, fire)
		if i == 0 {
			taken, err := b.Take(ctx, run, 10, time.Minute, at)
			if err != nil || len(taken) != 1 {
				t.Fatalf("take %v %v", taken, err)
			}
			if err := b.Done(ctx, run, taken[0], domain.Sent, ""); err != nil {
				t.Fatal(err)
			}
			delivered = run
		} else {
			pending = run
		}
	}
	if err := st.Outbox().Put(ctx, "whatsapp", store.Queued{ChatID: sariLID + "@lid", Replies: []bot.Reply{{Text: "Your complaint is being handled"}},
		Lang: "en", Template: &store.QueuedTemplate{Purposes: []string{"complaint_status"}, Params: map[string]string{"ticket": "BTG-1"}}}); err != nil {
		t.Fatal(err)
	}
	return delivered, pending
}

// sariFoundByNumber checks that everything of Sari's is found by her number, and
// nothing of hers is left under the LID.
func sariFoundByNumber(t *testing.T, st *store.Store, delivered, pending string, at time.Time) {
	t.Helper()
	ctx := context.Background()
	got, err := st.Complaints("BTG", time.UTC).ByReporter(ctx, sariNew, 10)
	if err != nil || len(got) != 1 {
		t.Fatalf("complaints by her number: %v %v", got, err)
	}
	if r := got[0].Reporter; r.Key != sariNew || r.ChatID != sariPhone || r.Lang != "en" {
		t.Errorf("the complaint's reporter is %+v, want her number", r)
	}
	if old, _ := st.Complaints("BTG", time.UTC).ByReporter(ctx, sariOld, 10); len(old) != 0 {
		t.Errorf("complaints still filed under the LID: %d", len(old))
	}
	b := st.Broadcasts()
	topics, _ := b.Topics(ctx, sariNew)
	slices.Sort(topics)
	if !slices.Equal(topics, []string{"darurat", "pengumuman"}) {
		t.Errorf("her number's topics are %v", topics)
	}
	r, err := b.Recipient(ctx, sariNew)
	if err != nil || r.ChatID != sariPhone || r.Channel != "whatsapp" || r.Lang != "en" {
		t.Errorf("her number as a recipient: %+v %v", r, err)
	}
	if tips, _ := b.TipsHad(ctx, sariNew); !slices.Equal(tips, []int{3}) {
		t.Errorf("tips had under her number: %v", tips)
	}
	if _, err := b.Recipient(ctx, sariOld); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("the LID is still a recipient: %v", err)
	}
	if fate, _ := b.Fate(ctx, delivered); fate[sariNew] != "sent" || fate[sariOld] != "" {
		t.Errorf("who got the delivered run: %v", fate)
	}
	if taken, _ := b.Take(ctx, pending, 10, time.Minute, at); !slices.Equal(taken, []string{sariNew}) {
		t.Errorf("the run still going out takes %v, want her number", taken)
	}
	_, raws, err := st.Outbox().Queue("whatsapp").Read(ctx, "test", 10, time.Millisecond)
	ok := len(raws) == 1
	var q store.Queued
	if ok {
		q, err = store.DecodeQueued(raws[0])
	}
	if err != nil || !ok || q.ChatID != sariPhone || len(q.Replies) != 1 || q.Lang != "en" ||
		q.Template == nil || q.Template.Params["ticket"] != "BTG-1" {
		t.Errorf("queued news: %+v %v %v", q, ok, err)
	}
	conv := st.Conversations(30*time.Second, 30*24*time.Hour).WithClock(func() time.Time { return at.Add(time.Minute) })
	cl, err := conv.Acquire(ctx, sariNew, "M1")
	if err != nil {
		t.Fatal(err)
	}
	if !cl.Duplicate || len(cl.Replies) != 1 || cl.Replies[0].Text != "Hello!" {
		t.Errorf("her number does not remember the message she sent by LID: %+v", cl)
	}
	if cl.Session.Lang != "en" || !cl.Session.Greeted {
		t.Errorf("her number's session %+v lost her language", cl.Session)
	}
	if err := conv.Release(ctx, cl); err != nil {
		t.Fatal(err)
	}
	for _, k := range keysWith(t, st, sariLID) {
		t.Errorf("left under her LID: %s", k)
	}
}

func keysWith(t *testing.T, st *store.Store, part string) []string {
	t.Helper()
	ctx := context.Background()
	var out []string
	iter := st.Client().Scan(ctx, 0, st.Prefix()+"*", 1000).Iterator()
	for iter.Next(ctx) {
		if strings.Contains(iter.Val(), part) {
			out = append(out, iter.Val())
		}
	}
	return out
}

func TestMovingToTheCloudAPIFindsEveryoneByNumber(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		ctx := context.Background()
		at := time.Now().Truncate(time.Second)
		delivered, pending := whatsmeowDays(t, b.Store, at)

		dry, err := b.Store.MoveWhatsAppLIDs(ctx, resolver(nil), true)
		if err != nil {
			t.Fatal(err)
		}
		if dry.People != 2 || dry.Moved != 1 || dry.Unmapped != 1 || dry.Complaints != 1 || dry.Subscribers != 1 || dry.Queued != 1 {
			t.Errorf("dry run counted %+v", dry)
		}
		if len(keysWith(t, b.Store, sariPhone)) != 0 {
			t.Fatal("a dry run wrote under her number")
		}

		rep, err := b.Store.MoveWhatsAppLIDs(ctx, resolver(nil), false)
		if err != nil {
			t.Fatal(err)
		}
		want := store.LIDMove{People: 2, Moved: 1, Unmapped: 1, Conversations: 4, Complaints: 1, Subscribers: 1, RunRecords: 2, Queued: 1}
		if rep != want {
			t.Errorf("moved %+v, want %+v", rep, want)
		}

		t.Run("the number keeps her history, complaint, subscriptions and queued news", func(t *testing.T) {
			sariFoundByNumber(t, b.Store, delivered, pending, at)
		})
		t.Run("a LID without a number in the device store keeps everything where it was", func(t *testing.T) {
			conv := b.Store.Conversations(30*time.Second, 30*24*time.Hour)
			cl, err := conv.Acquire(ctx, budiOld, "")
			if err != nil || cl.Session.Lang != "en" {
				t.Fatalf("Budi's session: %+v %v", cl, err)
			}
			conv.Release(ctx, cl)
		})
		t.Run("running it again changes nothing", func(t *testing.T) {
			again, err := b.Store.MoveWhatsAppLIDs(ctx, resolver(nil), false)
			if err != nil {
				t.Fatal(err)
			}
			if again != (store.LIDMove{People: 1, Unmapped: 1}) {
				t.Errorf("second run %+v", again)
			}
		})
	})
}

func TestMovingMergesWithWhatTheNumberAlreadyHas(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		ctx := context.Background()
		at := time.Now().Truncate(time.Second)
		whatsmeowDays(t, b.Store, at.Add(-2*time.Hour))
		// After the switch, before the move, Sari wrote to the Cloud API number: a
		// newer session in Indonesian, another handled message, a new subscription.
		conv := b.Store.Conversations(30*time.Second, 30*24*time.Hour).WithClock(func() time.Time { return at })
		cl, err := conv.Acquire(ctx, sariNew, "M2")
		if err != nil {
			t.Fatal(err)
		}
		if err := conv.Commit(ctx, cl, &bot.Session{Lang: "id", LastActive: at}, []bot.Reply{{Text: "Halo!"}}); err != nil {
			t.Fatal(err)
		}
		if err := b.Store.Broadcasts().Subscribe(ctx, domain.Recipient{Key: sariNew, Channel: "whatsapp", ChatID: sariPhone, Lang: "id"}, "wisata"); err != nil {
			t.Fatal(err)
		}

		if _, err := b.Store.MoveWhatsAppLIDs(ctx, resolver(nil), false); err != nil {
			t.Fatal(err)
		}
		for _, id := range []string{"M1", "M2"} {
			cl, err := conv.Acquire(ctx, sariNew, id)
			if err != nil {
				t.Fatal(err)
			}
			if !cl.Duplicate {
				t.Errorf("message %s by either name is forgotten", id)
			}
			if cl.Session.Lang != "id" {
				t.Errorf("the newer session (Indonesian) lost to the older: %+v", cl.Session)
			}
			conv.Release(ctx, cl)
		}
		topics, _ := b.Store.Broadcasts().Topics(ctx, sariNew)
		slices.Sort(topics)
		if !slices.Equal(topics, []string{"darurat", "pengumuman", "wisata"}) {
			t.Errorf("topics after the merge: %v", topics)
		}
		if r, _ := b.Store.Broadcasts().Recipient(ctx, sariNew); r.Lang != "id" || r.ChatID != sariPhone {
			t.Errorf("the number's own recipient record lost: %+v", r)
		}
	})
}

// cut fails every command from the n-th on, as if the process died there.
type cut struct {
	count, at atomic.Int64
}

var errCut = errors.New("cut")

func (c *cut) DialHook(next redis.DialHook) redis.DialHook { return next }
func (c *cut) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		if at := c.at.Load(); at > 0 && c.count.Add(1) >= at {
			cmd.SetErr(errCut)
			return errCut
		}
		return next(ctx, cmd)
	}
}
func (c *cut) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		if at := c.at.Load(); at > 0 && c.count.Add(1) >= at {
			for _, cmd := range cmds {
				cmd.SetErr(errCut)
			}
			return errCut
		}
		return next(ctx, cmds)
	}
}

func TestAMoveInterruptedAnywhereIsFinishedByRunningItAgain(t *testing.T) {
	at := time.Now().Truncate(time.Second)
	for n := int64(1); ; n++ {
		b := storetest.Mini(t)
		delivered, pending := whatsmeowDays(t, b.Store, at)
		c := &cut{}
		b.Store.Client().AddHook(c)
		c.at.Store(n)
		_, err := b.Store.MoveWhatsAppLIDs(context.Background(), resolver(nil), false)
		c.at.Store(0)
		if err == nil {
			if n < 10 {
				t.Fatalf("a move of this much finished within %d commands: the cut is not working", n)
			}
			t.Logf("interrupted at each of the %d steps of a move", n-1)
			return
		}
		if !errors.Is(err, errCut) {
			t.Fatalf("cut at %d: %v", n, err)
		}
		if _, err := b.Store.MoveWhatsAppLIDs(context.Background(), resolver(nil), false); err != nil {
			t.Fatalf("run again after a cut at step %d: %v", n, err)
		}
		// A lock the cut move left on her number ends within a minute, as a
		// crashed turn's does.
		b.Mini.FastForward(2 * time.Minute)
		t.Run("cut at step "+strconv.FormatInt(n, 10), func(t *testing.T) { sariFoundByNumber(t, b.Store, delivered, pending, at) })
		if t.Failed() {
			return
		}
	}
}
