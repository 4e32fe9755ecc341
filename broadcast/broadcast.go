// Package broadcast runs the broadcasts staff schedule: it turns each scheduled time
// into one run (once, across any number of replicas), takes the run's recipients from
// the subscribers of its topics, and delivers to each of them once, at the pace the
// channels allow. When a process dies in the middle of a send, the topic decides (see
// domain.Guarantee): at most once (counted unknown) or at least once (sent again by
// whichever replica carries on, once the dead process's lease lapses).
//
// Schedules live in the store, not in memory: a run missed while the service was down
// is sent on start when it is less than Grace late, and recorded as missed otherwise.
package broadcast

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/layan-id/layan/bot"
	"github.com/layan-id/layan/domain"
)

// Store is what the service keeps in the store (*store.Broadcasts is one).
type Store interface {
	Live(ctx context.Context) ([]*domain.Broadcast, error) // active and paused ones
	Get(ctx context.Context, id string) (*domain.Broadcast, error)
	Update(ctx context.Context, id string, f func(*domain.Broadcast) error) (*domain.Broadcast, error)
	StartRun(ctx context.Context, bc *domain.Broadcast, fire time.Time, state domain.RunState, g domain.Guarantee, now time.Time) (bool, error)
	ActiveRuns(ctx context.Context) ([]string, error)
	// Prepare finishes the start of a run whose starter died before its recipients
	// were all in place (g and now stand in for its record if it has none).
	Prepare(ctx context.Context, run string, g domain.Guarantee, now time.Time) error
	Take(ctx context.Context, run string, n int, lease time.Duration, now time.Time) ([]string, error)
	Renew(ctx context.Context, run string, keys []string, now time.Time) error
	Done(ctx context.Context, run, key string, o domain.Delivery, reason string) error
	Finish(ctx context.Context, run string, state domain.RunState, lease time.Duration, now time.Time) (bool, error)
	GiveBack(ctx context.Context, run, key string) error
	Recipient(ctx context.Context, key string) (domain.Recipient, error)
	UnsubscribeAll(ctx context.Context, key string) error
}

// Tips gives a recipient the next tip of the day they have not had, and records that
// they had it (before it is sent: a tip is never sent twice).
type Tips interface {
	Next(ctx context.Context, r domain.Recipient) (string, error)
}

// Sender delivers bulk messages (*bot.Sender is one).
type Sender interface {
	SendBulk(ctx context.Context, to bot.Recipient, replies ...bot.Reply) error
	// CanSend reports whether this process can send on a channel now (a replica that
	// does not hold the WhatsApp connection cannot).
	CanSend(channel string) bool
}

// Config configures a Service.
type Config struct {
	Store    Store
	Sender   Sender
	Tips     Tips           // for broadcasts of kind domain.TipOfTheDay; may be nil
	Location *time.Location // schedules are read in it; default UTC
	Grace    time.Duration  // how late a missed run may still be sent; default 1 h
	Tick     time.Duration  // how often schedules and runs are looked at; default 5 s
	Workers  int            // deliveries at once; default 32
	// Lease is how long a taken delivery stays this process's without renewal; the
	// process renews its leases every Lease/3 while it delivers, however slow the
	// channel. When a process dies, its leases lapse after Lease: its deliveries then
	// count unknown (at most once) or are sent again (at least once), and the run
	// closes. Default 15 s.
	Lease time.Duration
	// Guarantees gives the guarantee of a topic (region.yaml, delivery); a broadcast
	// to several topics is at least once when one of them is. Default AtMostOnce.
	Guarantees map[string]domain.Guarantee
	// Observe, when set, is told of every delivery this process records (for metrics).
	Observe func(domain.Delivery)
	Logger  *slog.Logger
	Now     func() time.Time
}

// DefaultLease is Config.Lease's default.
const DefaultLease = 15 * time.Second

// Service schedules and delivers broadcasts.
type Service struct {
	cfg     Config
	mu      sync.Mutex
	running map[string]bool // runs this process is delivering
}

// New returns the service.
func New(cfg Config) *Service {
	if cfg.Location == nil {
		cfg.Location = time.UTC
	}
	if cfg.Grace <= 0 {
		cfg.Grace = time.Hour
	}
	if cfg.Tick <= 0 {
		cfg.Tick = 5 * time.Second
	}
	if cfg.Workers <= 0 {
		cfg.Workers = 32
	}
	if cfg.Lease <= 0 {
		cfg.Lease = DefaultLease
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Service{cfg: cfg, running: map[string]bool{}}
}

// Run schedules and delivers until ctx ends, then waits for its deliveries to stop.
// Scheduling never waits for a delivery, and each run is delivered on its own, so an
// emergency warning is not held up by a long run of tips. Any number of replicas may
// run it.
func (s *Service) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	defer wg.Wait()
	wg.Go(func() {
		s.every(ctx, func() {
			if err := s.Schedule(ctx); err != nil && ctx.Err() == nil {
				s.cfg.Logger.Warn("broadcast: schedule", "err", err)
			}
		})
	})
	s.every(ctx, func() {
		runs, err := s.cfg.Store.ActiveRuns(ctx)
		if err != nil {
			if ctx.Err() == nil {
				s.cfg.Logger.Warn("broadcast: deliver", "err", err)
			}
			return
		}
		for _, run := range runs {
			if !s.claim(run) {
				continue // already being delivered here
			}
			wg.Go(func() {
				defer s.release(run)
				if err := s.deliverRun(ctx, run); err != nil && ctx.Err() == nil {
					s.cfg.Logger.Warn("broadcast: deliver run", "run", run, "err", err)
				}
			})
		}
	})
	return nil
}

// every calls f now and then every tick until ctx ends.
func (s *Service) every(ctx context.Context, f func()) {
	tick := time.NewTicker(s.cfg.Tick)
	defer tick.Stop()
	for {
		f()
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

func (s *Service) claim(run string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.running[run] {
		return false
	}
	s.running[run] = true
	return true
}

func (s *Service) release(run string) {
	s.mu.Lock()
	delete(s.running, run)
	s.mu.Unlock()
}

// maxMissed bounds how many missed runs of one broadcast are recorded at once (a
// schedule every minute and a week down).
const maxMissed = 100

// Schedule starts the runs that are due: each scheduled time of each active broadcast
// up to now becomes one run, sent when less than Grace late and recorded as missed
// otherwise.
func (s *Service) Schedule(ctx context.Context) error {
	all, err := s.cfg.Store.Live(ctx)
	if err != nil {
		return err
	}
	now := s.cfg.Now()
	for _, bc := range all {
		if bc.State != domain.BroadcastActive {
			continue
		}
		if err := s.scheduleOne(ctx, bc, now); err != nil {
			s.cfg.Logger.Warn("broadcast: schedule one", "broadcast", bc.ID, "err", err)
		}
	}
	return nil
}

func (s *Service) scheduleOne(ctx context.Context, bc *domain.Broadcast, now time.Time) error {
	fires, last, finished, err := s.due(bc, now)
	if err != nil {
		return err
	}
	for i, fire := range fires {
		state := domain.RunMissed
		if i == len(fires)-1 && now.Sub(fire) <= s.cfg.Grace {
			state = domain.RunDelivering
		}
		claimed, err := s.cfg.Store.StartRun(ctx, bc, fire, state, s.guarantee(bc), now)
		if err != nil {
			return err
		}
		if claimed {
			s.cfg.Logger.Info("broadcast run", "broadcast", bc.ID, "fire", fire, "state", state)
		}
	}
	if len(fires) == 0 && !finished {
		return nil
	}
	_, err = s.cfg.Store.Update(ctx, bc.ID, func(b *domain.Broadcast) error {
		if last.After(b.LastFire) {
			b.LastFire = last
		}
		if finished && b.State == domain.BroadcastActive {
			b.State = domain.BroadcastFinished
		}
		return nil
	})
	return err
}

// guarantee returns what a run of bc promises: at least once when one of its topics
// asks for it.
func (s *Service) guarantee(bc *domain.Broadcast) domain.Guarantee {
	for _, t := range bc.Topics {
		if s.cfg.Guarantees[t] == domain.AtLeastOnce {
			return domain.AtLeastOnce
		}
	}
	return domain.AtMostOnce
}

// due returns the scheduled times of bc that have come since its last one (the
// latest last), the latest of them, and whether the broadcast has no more to come.
func (s *Service) due(bc *domain.Broadcast, now time.Time) (fires []time.Time, last time.Time, finished bool, err error) {
	if bc.At != nil {
		if bc.LastFire.IsZero() && !bc.At.After(now) {
			return []time.Time{*bc.At}, *bc.At, true, nil
		}
		return nil, time.Time{}, !bc.LastFire.IsZero(), nil
	}
	sched, err := domain.ParseSchedule(bc.Cron)
	if err != nil {
		return nil, time.Time{}, false, fmt.Errorf("broadcast %s: schedule: %w", bc.ID, err)
	}
	from := bc.LastFire
	if from.IsZero() {
		from = bc.CreatedAt
	}
	for next := sched.Next(from.In(s.cfg.Location)); ; next = sched.Next(next) {
		if next.IsZero() {
			return fires, last, true, nil // a schedule that never fires (again)
		}
		if next.After(now) {
			break
		}
		if bc.End != nil && next.After(*bc.End) {
			return fires, last, true, nil
		}
		fires = append(fires, next)
		last = next
		if len(fires) > maxMissed { // keep the latest; a long outage is not replayed
			fires = fires[1:]
		}
	}
	if next := sched.Next(now.In(s.cfg.Location)); next.IsZero() || bc.End != nil && next.After(*bc.End) {
		finished = true
	}
	return fires, last, finished, nil
}

// NextRun returns when a broadcast runs next, or the zero time.
func (s *Service) NextRun(bc *domain.Broadcast) time.Time {
	if bc.State != domain.BroadcastActive && bc.State != domain.BroadcastPaused {
		return time.Time{}
	}
	if bc.At != nil {
		if bc.LastFire.IsZero() {
			return *bc.At
		}
		return time.Time{}
	}
	sched, err := domain.ParseSchedule(bc.Cron)
	if err != nil {
		return time.Time{}
	}
	from := s.cfg.Now()
	if bc.LastFire.After(from) {
		from = bc.LastFire
	}
	next := sched.Next(from.In(s.cfg.Location))
	if bc.End != nil && next.After(*bc.End) {
		return time.Time{}
	}
	return next
}

// sendTimeout bounds one delivery, waits for the channel's rate included.
const sendTimeout = time.Minute

// batch is how many recipients a worker pool takes from the store at once.
const batch = 200

// Deliver works on every run being delivered until its recipients are all taken (or
// its broadcast is paused), then closes the runs whose deliveries are all accounted for.
func (s *Service) Deliver(ctx context.Context) error {
	runs, err := s.cfg.Store.ActiveRuns(ctx)
	if err != nil {
		return err
	}
	for _, run := range runs {
		if err := s.deliverRun(ctx, run); err != nil {
			s.cfg.Logger.Warn("broadcast: deliver run", "run", run, "err", err)
		}
	}
	return nil
}

func (s *Service) deliverRun(ctx context.Context, run string) error {
	id, _, ok := domain.ParseRunID(run)
	if !ok {
		return fmt.Errorf("broadcast: %q is not a run id", run)
	}
	bc, err := s.cfg.Store.Get(ctx, id)
	if err != nil {
		return err
	}
	switch bc.State {
	case domain.BroadcastPaused:
		return nil
	case domain.BroadcastCancelled:
		_, err := s.cfg.Store.Finish(ctx, run, domain.RunCancelled, s.cfg.Lease, s.cfg.Now())
		return err
	}
	if err := s.cfg.Store.Prepare(ctx, run, s.guarantee(bc), s.cfg.Now()); err != nil {
		return err
	}
	held := s.renewLeases(ctx, run)
	defer held.stop()
	jobs := make(chan string)
	var wg sync.WaitGroup
	for range s.cfg.Workers {
		wg.Go(func() {
			for key := range jobs {
				s.deliverOne(ctx, run, bc, key)
				held.drop(key)
			}
		})
	}
	var takeErr error
	for ctx.Err() == nil {
		// A pause or cancel takes effect between batches.
		if cur, err := s.cfg.Store.Get(ctx, id); err != nil || cur.State != domain.BroadcastActive && cur.State != domain.BroadcastFinished {
			break
		}
		// Take no more than the workers can start at once: a recipient's in-flight mark
		// must not grow stale while it waits in line behind a slow channel.
		keys, err := s.cfg.Store.Take(ctx, run, min(batch, s.cfg.Workers), s.cfg.Lease, s.cfg.Now())
		if err != nil {
			takeErr = err
			break
		}
		if len(keys) == 0 {
			break
		}
		held.add(keys...)
	hand:
		for i, k := range keys {
			select {
			case jobs <- k:
			case <-ctx.Done():
				s.giveBack(ctx, run, keys[i:]...) // stopping: nothing was sent to these
				held.drop(keys[i:]...)
				break hand
			}
		}
		if s.gaveBack(run) {
			break // recipients this process cannot reach: leave them to another replica
		}
	}
	close(jobs)
	wg.Wait()
	if takeErr != nil || ctx.Err() != nil {
		return takeErr
	}
	_, err = s.cfg.Store.Finish(ctx, run, domain.RunDone, s.cfg.Lease, s.cfg.Now())
	return err
}

// leases are the deliveries of one run this process holds, renewed every Lease/3
// until stop, also while the process is stopping (a delivery begun is finished).
type leases struct {
	mu   sync.Mutex
	keys map[string]bool
	done chan struct{}
	wg   sync.WaitGroup
}

func (s *Service) renewLeases(ctx context.Context, run string) *leases {
	l := &leases{keys: map[string]bool{}, done: make(chan struct{})}
	rctx := context.WithoutCancel(ctx)
	l.wg.Go(func() {
		tick := time.NewTicker(s.cfg.Lease / 3)
		defer tick.Stop()
		for {
			select {
			case <-l.done:
				return
			case <-tick.C:
			}
			l.mu.Lock()
			keys := make([]string, 0, len(l.keys))
			for k := range l.keys {
				keys = append(keys, k)
			}
			l.mu.Unlock()
			cctx, cancel := context.WithTimeout(rctx, s.cfg.Lease/3)
			if err := s.cfg.Store.Renew(cctx, run, keys, s.cfg.Now()); err != nil {
				s.cfg.Logger.Warn("broadcast: renew leases", "run", run, "err", err)
			}
			cancel()
		}
	})
	return l
}

func (l *leases) add(keys ...string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, k := range keys {
		l.keys[k] = true
	}
}

func (l *leases) drop(keys ...string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, k := range keys {
		delete(l.keys, k)
	}
}

func (l *leases) stop() {
	close(l.done)
	l.wg.Wait()
}

// deliverOne delivers a broadcast to one taken recipient and records the outcome.
// Whatever happens here, this process never delivers it again (only a lapsed lease,
// on a run at least once, hands it to another taker).
func (s *Service) deliverOne(ctx context.Context, run string, bc *domain.Broadcast, key string) {
	record := func(o domain.Delivery, reason string) {
		// Recorded even when ctx ends: the send may have happened.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		if err := s.cfg.Store.Done(rctx, run, key, o, reason); err != nil {
			s.cfg.Logger.Error("broadcast: record delivery", "run", run, "err", err)
		}
		if s.cfg.Observe != nil {
			s.cfg.Observe(o)
		}
	}
	if ctx.Err() != nil { // stopping before anything was done for this one
		s.giveBack(ctx, run, key)
		return
	}
	// Once begun, a delivery is finished even when the process is stopping (the stop
	// waits for it), so a graceful stop leaves nothing unknown.
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), sendTimeout)
	defer cancel()
	r, err := s.cfg.Store.Recipient(sctx, key)
	if errors.Is(err, domain.ErrNotFound) {
		record(domain.Skipped, "unsubscribed")
		return
	}
	if err != nil {
		record(domain.Failed, "store")
		return
	}
	if len(bc.Channels) > 0 && !slices.Contains(bc.Channels, r.Channel) {
		record(domain.Skipped, "channel")
		return
	}
	if !s.cfg.Sender.CanSend(r.Channel) {
		// This replica cannot send on that channel: another one will.
		s.giveBack(ctx, run, key)
		s.noteGaveBack(run)
		return
	}
	text := bc.TextIn(r.Lang)
	if bc.Kind == domain.TipOfTheDay && s.cfg.Tips != nil {
		if text, err = s.cfg.Tips.Next(sctx, r); err != nil {
			record(domain.Failed, "tip")
			return
		}
	}
	// A channel that may not send free text to this person now (WhatsApp outside
	// the 24-hour window) sends the approved template of the topic instead.
	purposes := make([]string, len(bc.Topics))
	for i, t := range bc.Topics {
		purposes[i] = "broadcast." + t
	}
	to := bot.Recipient{Channel: r.Channel, ChatID: r.ChatID, Lang: r.Lang,
		Template: &bot.Template{Purposes: purposes, Params: map[string]string{"text": text}, Run: run}}
	err = s.cfg.Sender.SendBulk(sctx, to, bot.Reply{Text: text})
	if err == nil {
		record(domain.Sent, "")
		return
	}
	if errors.Is(err, bot.ErrOutsideWindow) {
		record(domain.Skipped, "outside the 24-hour window, no template")
		return
	}
	kind := bot.KindOf(err)
	if kind == bot.ErrBlocked {
		// The person blocked the bot: that is an opt-out from everything.
		if err := s.cfg.Store.UnsubscribeAll(sctx, key); err != nil {
			s.cfg.Logger.Error("broadcast: unsubscribe a blocked recipient", "err", err)
		}
	}
	record(domain.Failed, kind.String())
}

// giveBack returns taken recipients to the run untouched.
func (s *Service) giveBack(ctx context.Context, run string, keys ...string) {
	gctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	for _, k := range keys {
		if err := s.cfg.Store.GiveBack(gctx, run, k); err != nil {
			s.cfg.Logger.Error("broadcast: give back a recipient", "run", run, "err", err)
		}
	}
}

// noteGaveBack and gaveBack tell the take loop that this process handed recipients
// back because it cannot reach their channel, so it stops taking from the run for now.
func (s *Service) noteGaveBack(run string) {
	s.mu.Lock()
	s.running[run+"/gave-back"] = true
	s.mu.Unlock()
}

func (s *Service) gaveBack(run string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := run + "/gave-back"
	gave := s.running[k]
	delete(s.running, k)
	return gave
}
