package broadcast_test

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/layan-id/layan/bot"
	"github.com/layan-id/layan/broadcast"
	"github.com/layan-id/layan/domain"
	"github.com/layan-id/layan/store"
	"github.com/layan-id/layan/store/storetest"
)

func jakarta(t testing.TB) *time.Location {
	loc, err := time.LoadLocation("Asia/Jakarta")
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// counting is a bulk sender that records every delivery; it can refuse some chats.
type counting struct {
	mu      sync.Mutex
	got     map[string][]string // chat → texts
	langs   map[string]string   // chat → the recipient's language
	blocked map[string]bool
}

func newCounting() *counting {
	return &counting{got: map[string][]string{}, langs: map[string]string{}, blocked: map[string]bool{}}
}

func (c *counting) SendBulk(ctx context.Context, to bot.Recipient, replies ...bot.Reply) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.blocked[to.ChatID] {
		return &bot.SendError{Kind: bot.ErrBlocked}
	}
	for _, r := range replies {
		c.got[to.ChatID] = append(c.got[to.ChatID], r.Text)
	}
	c.langs[to.ChatID] = to.Lang
	return nil
}

func (c *counting) CanSend(string) bool { return true }

func (c *counting) total() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, ts := range c.got {
		n += len(ts)
	}
	return n
}

// clock is a settable now.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) set(t time.Time) { c.mu.Lock(); c.t = t; c.mu.Unlock() }

func service(t testing.TB, st *store.Broadcasts, sender broadcast.Sender, clk *clock) *broadcast.Service {
	return broadcast.New(broadcast.Config{Store: st, Sender: sender, Location: jakarta(t), Now: clk.now,
		Logger: slog.New(slog.DiscardHandler)})
}

func subscribe(t testing.TB, st *store.Broadcasts, n int, topic, channel, lang string) {
	ctx := context.Background()
	for i := range n {
		chat := fmt.Sprintf("%s-%d", channel, i)
		r := domain.Recipient{Key: channel + ":" + chat, Channel: channel, ChatID: chat, Lang: lang}
		if err := st.Subscribe(ctx, r, topic); err != nil {
			t.Fatal(err)
		}
	}
}

func create(t testing.TB, st *store.Broadcasts, bc *domain.Broadcast) string {
	if bc.State == "" {
		bc.State = domain.BroadcastActive
	}
	if bc.Text == nil {
		bc.Text = map[string]string{"id": "Peringatan banjir", "en": "Flood warning"}
	}
	id, err := st.Create(context.Background(), bc)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func TestARunReachesEverySubscriberOnceInTheirLanguage(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		ctx := context.Background()
		st := b.Store.Broadcasts()
		subscribe(t, st, 30, "darurat", "telegram", "en")
		subscribe(t, st, 20, "darurat", "webchat", "id")
		subscribe(t, st, 10, "wisata", "webchat", "id") // another topic: not reached
		clk := &clock{t: time.Date(2026, 11, 29, 6, 0, 30, 0, jakarta(t))}
		at := time.Date(2026, 11, 29, 6, 0, 0, 0, jakarta(t))
		id := create(t, st, &domain.Broadcast{Topics: []string{"darurat"}, At: &at, CreatedAt: at.Add(-time.Hour)})
		sender := newCounting()
		sender.blocked["telegram-3"] = true
		// Three replicas at once: still one run, one delivery each.
		var wg sync.WaitGroup
		for range 3 {
			wg.Go(func() {
				s := service(t, st, sender, clk)
				if err := s.Schedule(ctx); err != nil {
					t.Error(err)
				}
				if err := s.Deliver(ctx); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		if got := sender.total(); got != 49 {
			t.Errorf("%d deliveries, want 49 (50 subscribers, one blocked)", got)
		}
		for chat, texts := range sender.got {
			want, lang := "Peringatan banjir", "id"
			if chat[:8] == "telegram" {
				want, lang = "Flood warning", "en"
			}
			if len(texts) != 1 || texts[0] != want || sender.langs[chat] != lang {
				t.Errorf("%s got %q for a recipient in %q, want once %q in %q", chat, texts, sender.langs[chat], want, lang)
			}
		}
		runs, _ := st.Runs(ctx, id, 10)
		if len(runs) != 1 || runs[0].State != domain.RunDone || runs[0].Recipients != 50 || runs[0].Sent != 49 || runs[0].Failed != 1 {
			t.Errorf("runs = %+v, want one done run: 50 recipients, 49 sent, 1 failed", runs)
		}
		if ts, _ := st.Topics(ctx, "telegram:telegram-3"); len(ts) != 0 {
			t.Errorf("a person who blocked the bot is still subscribed to %v", ts)
		}
		bc, _ := st.Get(ctx, id)
		if bc.State != domain.BroadcastFinished {
			t.Errorf("a single broadcast after its run is %s, want finished", bc.State)
		}
	})
}

func TestSchedules(t *testing.T) {
	loc := jakarta(t)
	sunday6 := time.Date(2026, 11, 29, 6, 0, 0, 0, loc) // a Sunday
	cases := []struct {
		name      string
		bc        domain.Broadcast
		now       time.Time
		wantRuns  []domain.RunState // newest first
		wantState domain.BroadcastState
	}{
		{"a single time in the future waits", domain.Broadcast{At: &sunday6, CreatedAt: sunday6.Add(-time.Hour)},
			sunday6.Add(-time.Minute), nil, domain.BroadcastActive},
		{"a single time missed by less than the grace window is sent on start", domain.Broadcast{At: &sunday6, CreatedAt: sunday6.Add(-time.Hour)},
			sunday6.Add(59 * time.Minute), []domain.RunState{domain.RunDone}, domain.BroadcastFinished},
		{"a single time missed by more is recorded as missed", domain.Broadcast{At: &sunday6, CreatedAt: sunday6.Add(-time.Hour)},
			sunday6.Add(2 * time.Hour), []domain.RunState{domain.RunMissed}, domain.BroadcastFinished},
		{"a weekly schedule runs at 06:00 in the region's time zone", domain.Broadcast{Cron: "0 6 * * 0", CreatedAt: sunday6.Add(-24 * time.Hour)},
			sunday6.Add(time.Second), []domain.RunState{domain.RunDone}, domain.BroadcastActive},
		{"a daily schedule after three days down sends today's and records the others missed",
			domain.Broadcast{Cron: "0 6 * * *", CreatedAt: sunday6.Add(-73 * time.Hour), LastFire: sunday6.Add(-72 * time.Hour)},
			sunday6.Add(10 * time.Minute), []domain.RunState{domain.RunDone, domain.RunMissed, domain.RunMissed}, domain.BroadcastActive},
		{"a schedule whose next time is past its end date finishes after its last run",
			domain.Broadcast{Cron: "0 6 * * *", CreatedAt: sunday6.Add(-2 * time.Hour), End: ptr(sunday6.Add(time.Hour))},
			sunday6.Add(time.Minute), []domain.RunState{domain.RunDone}, domain.BroadcastFinished},
		{"a paused broadcast does not run", domain.Broadcast{Cron: "0 6 * * *", CreatedAt: sunday6.Add(-2 * time.Hour), State: domain.BroadcastPaused},
			sunday6.Add(time.Minute), nil, domain.BroadcastPaused},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			st := storetest.Mini(t).Store.Broadcasts()
			subscribe(t, st, 3, "pengumuman", "webchat", "id")
			tc.bc.Topics = []string{"pengumuman"}
			id := create(t, st, &tc.bc)
			s := service(t, st, newCounting(), &clock{t: tc.now})
			s.Schedule(ctx)
			s.Deliver(ctx)
			s.Schedule(ctx) // again: nothing new
			runs, _ := st.Runs(ctx, id, 10)
			var got []domain.RunState
			for _, r := range runs {
				got = append(got, r.State)
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.wantRuns) {
				t.Errorf("runs %v, want %v", got, tc.wantRuns)
			}
			bc, _ := st.Get(ctx, id)
			if bc.State != tc.wantState {
				t.Errorf("state %s, want %s", bc.State, tc.wantState)
			}
		})
	}
}

func TestTheWeeklyRunIsAtSixInJakartaNotInUTC(t *testing.T) {
	loc := jakarta(t)
	created := time.Date(2026, 11, 27, 12, 0, 0, 0, loc)
	s := broadcast.New(broadcast.Config{Location: loc, Now: func() time.Time { return created }})
	next := s.NextRun(&domain.Broadcast{Cron: "0 6 * * 0", State: domain.BroadcastActive, CreatedAt: created})
	if want := time.Date(2026, 11, 29, 6, 0, 0, 0, loc); !next.Equal(want) {
		t.Errorf("next run %v, want %v", next, want)
	}
}

func TestPauseResumeAndCancelTakeEffectBetweenBatches(t *testing.T) {
	ctx := context.Background()
	st := storetest.Mini(t).Store.Broadcasts()
	subscribe(t, st, 10, "pengumuman", "webchat", "id")
	loc := jakarta(t)
	at := time.Date(2026, 11, 29, 6, 0, 0, 0, loc)
	clk := &clock{t: at.Add(time.Minute)}
	id := create(t, st, &domain.Broadcast{Topics: []string{"pengumuman"}, At: &at, CreatedAt: at.Add(-time.Hour)})
	sender := newCounting()
	s := service(t, st, sender, clk)
	s.Schedule(ctx)
	st.Update(ctx, id, func(b *domain.Broadcast) error { b.State = domain.BroadcastPaused; return nil })
	s.Deliver(ctx)
	if sender.total() != 0 {
		t.Fatalf("a paused broadcast delivered %d", sender.total())
	}
	st.Update(ctx, id, func(b *domain.Broadcast) error { b.State = domain.BroadcastActive; return nil })
	s.Deliver(ctx)
	if sender.total() != 10 {
		t.Fatalf("after resuming %d delivered, want 10", sender.total())
	}

	// A second broadcast, cancelled before it is delivered: everyone skipped.
	id2 := create(t, st, &domain.Broadcast{Topics: []string{"pengumuman"}, At: &at, CreatedAt: at.Add(-time.Hour)})
	s.Schedule(ctx)
	st.Update(ctx, id2, func(b *domain.Broadcast) error { b.State = domain.BroadcastCancelled; return nil })
	s.Deliver(ctx)
	runs, _ := st.Runs(ctx, id2, 1)
	if len(runs) != 1 || runs[0].State != domain.RunCancelled || runs[0].Skipped != 10 || sender.total() != 10 {
		t.Errorf("cancelled run %+v (total sent %d), want cancelled with 10 skipped and nothing sent", runs, sender.total())
	}
}

func ptr(t time.Time) *time.Time { return &t }

// slow is a sender that takes a while per delivery and may not reach some channels.
type slow struct {
	*counting
	delay    time.Duration
	channels map[string]bool // reachable; nil: all
}

func (s *slow) SendBulk(ctx context.Context, to bot.Recipient, replies ...bot.Reply) error {
	select {
	case <-time.After(s.delay):
	case <-ctx.Done():
		return ctx.Err()
	}
	return s.counting.SendBulk(ctx, to, replies...)
}

func (s *slow) CanSend(channel string) bool { return s.channels == nil || s.channels[channel] }

func TestAGracefulStopHandsBackWhatItDidNotSend(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		st := b.Store.Broadcasts()
		subscribe(t, st, 300, "pengumuman", "telegram", "id")
		at := time.Now().Add(-time.Minute)
		id := create(t, st, &domain.Broadcast{Topics: []string{"pengumuman"}, At: &at, CreatedAt: at.Add(-time.Hour)})
		clk := &clock{t: time.Now()}
		first := &slow{counting: newCounting(), delay: 5 * time.Millisecond}
		ctx, stop := context.WithCancel(context.Background())
		s := broadcast.New(broadcast.Config{Store: st, Sender: first, Now: clk.now, Workers: 8,
			Logger: slog.New(slog.DiscardHandler)})
		s.Schedule(ctx)
		go func() {
			for first.total() < 50 {
				time.Sleep(time.Millisecond)
			}
			stop() // SIGTERM: a deploy
		}()
		s.Deliver(ctx)

		second := newCounting()
		service(t, st, second, clk).Deliver(context.Background())
		runs, _ := st.Runs(context.Background(), id, 1)
		if runs[0].Failed != 0 || runs[0].Sent != 300 || first.total()+second.total() != 300 {
			t.Errorf("after a graceful stop and a restart: %+v (first sent %d, second %d), want 300 sent, none failed",
				runs[0], first.total(), second.total())
		}
	})
}

func TestAReplicaThatCannotReachAChannelLeavesItsRecipientsToAnother(t *testing.T) {
	st := storetest.Mini(t).Store.Broadcasts()
	subscribe(t, st, 20, "darurat", "whatsapp", "id")
	subscribe(t, st, 20, "darurat", "telegram", "id")
	at := time.Now().Add(-time.Minute)
	id := create(t, st, &domain.Broadcast{Topics: []string{"darurat"}, At: &at, CreatedAt: at.Add(-time.Hour)})
	ctx := context.Background()
	clk := &clock{t: time.Now()}
	standby := &slow{counting: newCounting(), channels: map[string]bool{"telegram": true}}
	service(t, st, standby, clk).Schedule(ctx)
	for range 5 { // a few ticks of the standby replica alone
		service(t, st, standby, clk).Deliver(ctx)
	}
	holder := newCounting()
	service(t, st, holder, clk).Deliver(ctx)
	runs, _ := st.Runs(ctx, id, 1)
	if standby.total() != 20 || holder.total() != 20 || runs[0].Sent != 40 || runs[0].Failed != 0 {
		t.Errorf("standby sent %d, holder %d, run %+v: want Telegram from the standby, WhatsApp from the holder, none failed",
			standby.total(), holder.total(), runs[0])
	}
}

// TestEveryRecordedDeliveryIsObserved: metrics see each delivery's outcome once.
func TestEveryRecordedDeliveryIsObserved(t *testing.T) {
	st := storetest.Mini(t).Store.Broadcasts()
	subscribe(t, st, 5, "darurat", "telegram", "id")
	subscribe(t, st, 3, "darurat", "webchat", "id")
	at := time.Now().Add(-time.Minute)
	create(t, st, &domain.Broadcast{Topics: []string{"darurat"}, Channels: []string{"telegram"}, At: &at, CreatedAt: at.Add(-time.Hour)})
	var mu sync.Mutex
	seen := map[domain.Delivery]int{}
	s := broadcast.New(broadcast.Config{Store: st, Sender: newCounting(), Logger: slog.New(slog.DiscardHandler),
		Observe: func(o domain.Delivery) { mu.Lock(); seen[o]++; mu.Unlock() }})
	ctx := context.Background()
	if err := s.Schedule(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s.Deliver(ctx); err != nil {
		t.Fatal(err)
	}
	if seen[domain.Sent] != 5 || seen[domain.Skipped] != 3 || len(seen) != 2 {
		t.Errorf("observed %v, want 5 sent on Telegram and 3 skipped (web chat is not a channel of this broadcast)", seen)
	}
}
