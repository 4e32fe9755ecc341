package bot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"

	"github.com/layan-id/layan/bot/ratemap"
)

// Limits describe how fast and how persistently the Sender may use one channel.
type Limits struct {
	PerSecond float64       // bulk messages per second over the whole channel; 0 = unlimited
	Burst     int           // how many may go at once; default 1
	PerChat   float64       // messages per second to one chat; 0 = unlimited
	Jitter    time.Duration // random extra pause before each message (looks less like a bot)
	Attempts  int           // tries per message for temporary errors; default 4
	Backoff   time.Duration // first pause between tries, doubling; default 500 ms
}

// CanSend reports whether a channel is registered and, when it can tell, able to send
// now (a channel with a Ready() bool method, such as WhatsApp on a replica that does not
// hold the connection).
func (s *Sender) CanSend(channel string) bool {
	s.mu.Lock()
	ln := s.lanes[channel]
	s.mu.Unlock()
	if ln == nil {
		return false
	}
	if r, ok := ln.ch.(interface{ Ready() bool }); ok {
		return r.Ready()
	}
	return true
}

// maxRateLimited is how many "retry after" answers one message may meet before it
// counts as a failed attempt.
const maxRateLimited = 10

// Sender sends replies through registered channels, keeping each channel within its
// limits: a global and a per-chat rate, the platform's "retry after" (which pauses the
// whole channel), and retries with backoff for temporary errors. Blocked and permanent
// errors are returned at once.
type Sender struct {
	log *slog.Logger

	mu    sync.Mutex
	lanes map[string]*lane
}

type lane struct {
	ch     Channel
	limits Limits
	global *rate.Limiter

	perChat *ratemap.Map // nil: no per-chat limit

	mu       sync.Mutex
	pauseTil time.Time // set by a RetryAfter; every send on the channel waits for it

	waiting, retries, throttled atomic.Int64 // see SenderStats
}

// SenderStats are one channel's sending figures since the start, for metrics.
type SenderStats struct {
	Channel   string
	Waiting   int64 // messages waiting for their turn now (rates, a platform's pause, jitter)
	Retries   int64 // tries repeated after a temporary error
	Throttled int64 // "retry after" answers from the platform
}

// Stats returns each registered channel's figures.
func (s *Sender) Stats() []SenderStats {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]SenderStats, 0, len(s.lanes))
	for name, ln := range s.lanes {
		out = append(out, SenderStats{Channel: name, Waiting: ln.waiting.Load(), Retries: ln.retries.Load(), Throttled: ln.throttled.Load()})
	}
	return out
}

// NewSender returns a Sender without channels.
func NewSender(log *slog.Logger) *Sender {
	if log == nil {
		log = slog.Default()
	}
	return &Sender{log: log, lanes: map[string]*lane{}}
}

// Register adds a channel with its limits, replacing one of the same name.
func (s *Sender) Register(ch Channel, l Limits) {
	if l.Burst <= 0 {
		l.Burst = 1
	}
	if l.Attempts <= 0 {
		l.Attempts = 4
	}
	if l.Backoff <= 0 {
		l.Backoff = 500 * time.Millisecond
	}
	ln := &lane{ch: ch, limits: l}
	if l.PerChat > 0 {
		ln.perChat = ratemap.New(rate.Limit(l.PerChat), 1)
	}
	if l.PerSecond > 0 {
		ln.global = rate.NewLimiter(rate.Limit(l.PerSecond), l.Burst)
	}
	s.mu.Lock()
	s.lanes[ch.Name()] = ln
	s.mu.Unlock()
}

// Send delivers the replies to one recipient in order, stopping at the first that
// fails for good. The error is a *SendError when the channel reported one. Send is for
// replies and news to one person: it keeps the per-chat rate and the platform's
// "retry after", but never waits behind bulk sending (see SendBulk).
func (s *Sender) Send(ctx context.Context, to Recipient, replies ...Reply) error {
	return s.send(ctx, to, false, replies)
}

// SendBulk is Send for broadcasts: it also keeps the channel's global rate, which
// only bulk sending consumes, so replies to people chatting are never queued behind a
// broadcast.
func (s *Sender) SendBulk(ctx context.Context, to Recipient, replies ...Reply) error {
	return s.send(ctx, to, true, replies)
}

func (s *Sender) send(ctx context.Context, to Recipient, bulk bool, replies []Reply) error {
	s.mu.Lock()
	ln := s.lanes[to.Channel]
	s.mu.Unlock()
	if ln == nil {
		return &SendError{Kind: ErrPermanent, Err: fmt.Errorf("no channel %q", to.Channel)}
	}
	for _, r := range replies {
		if err := s.sendOne(ctx, ln, to, bulk, r); err != nil {
			return err
		}
	}
	return nil
}

func (s *Sender) sendOne(ctx context.Context, ln *lane, to Recipient, bulk bool, r Reply) error {
	backoff := Backoff(ln.limits.Backoff, 0)
	limited := 0 // rate limits met; they are pacing, not failures, but not forever
	var err error
	for attempt := 1; attempt <= ln.limits.Attempts; attempt++ {
		if err = ln.wait(ctx, to.ChatID, bulk); err != nil {
			return err
		}
		err = ln.ch.Send(ctx, to, r)
		if err == nil {
			return nil
		}
		kind := KindOf(err)
		switch kind {
		case ErrBlocked, ErrPermanent:
			return err
		case ErrRateLimited:
			ln.throttled.Add(1)
			ln.pause(retryAfter(err, ln.limits.Backoff))
			if limited++; limited < maxRateLimited {
				attempt--
			}
			continue
		}
		s.log.WarnContext(ctx, "send failed, will retry", "channel", ln.ch.Name(), "attempt", attempt, "err", err)
		if attempt < ln.limits.Attempts {
			ln.retries.Add(1)
			if werr := Sleep(ctx, backoff.NextBackOff()); werr != nil {
				return err
			}
		}
	}
	return err
}

func retryAfter(err error, def time.Duration) time.Duration {
	if se := (*SendError)(nil); errors.As(err, &se) && se.RetryAfter > 0 {
		return se.RetryAfter
	}
	return def
}

// pause stops the whole channel until d from now (a platform's "retry after").
func (ln *lane) pause(d time.Duration) {
	ln.mu.Lock()
	if until := time.Now().Add(d); until.After(ln.pauseTil) {
		ln.pauseTil = until
	}
	ln.mu.Unlock()
}

// wait blocks until the channel may send to chatID: after any pause, within the
// per-chat rate and, for bulk sending, the global rate, plus jitter.
func (ln *lane) wait(ctx context.Context, chatID string, bulk bool) error {
	ln.waiting.Add(1)
	defer ln.waiting.Add(-1)
	ln.mu.Lock()
	pause := time.Until(ln.pauseTil)
	ln.mu.Unlock()
	var chat *rate.Limiter
	if ln.perChat != nil {
		chat = ln.perChat.Get(chatID)
	}
	if pause > 0 {
		if err := Sleep(ctx, pause); err != nil {
			return err
		}
	}
	if chat != nil {
		if err := chat.Wait(ctx); err != nil {
			return err
		}
	}
	if bulk && ln.global != nil {
		if err := ln.global.Wait(ctx); err != nil {
			return err
		}
	}
	if ln.limits.Jitter > 0 {
		return Sleep(ctx, rand.N(ln.limits.Jitter))
	}
	return nil
}
