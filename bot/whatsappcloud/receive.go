package whatsappcloud

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/layan-id/layan/bot"
)

// shutdownGrace is how long messages being handled when Run's context ends may take
// to finish; those not yet started stay queued for another worker or the next start.
const shutdownGrace = 10 * time.Second

// maxAge is how long a payload may wait in the queue and still be handled (Meta
// itself retries an undelivered notification for up to 7 days).
const maxAge = 7 * 24 * time.Hour

// Run checks the token against the Graph API (retrying, without holding anything
// up, while it does not answer) and works on the queue until ctx ends. It returns nil.
func (c *Channel) Run(ctx context.Context) error {
	jobs, cancelJobs := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelJobs()
	stop := context.AfterFunc(ctx, func() { time.AfterFunc(shutdownGrace, cancelJobs) })
	defer stop()
	var wg sync.WaitGroup
	wg.Go(func() { c.watch(ctx) })
	wg.Go(func() { c.work(ctx, jobs) })
	wg.Wait()
	c.inflight.Wait()
	return nil
}

// watch asks the Graph API about the number at start, then every minute while the
// token is expired or the number restricted, and after a failure, so that Health
// says how things stand and sending resumes by itself.
func (c *Channel) watch(ctx context.Context) {
	pause := time.Second
	for ctx.Err() == nil {
		err := c.probe(ctx)
		if ctx.Err() != nil {
			return
		}
		var ae *APIError
		switch {
		case err == nil:
			c.setState(ctx, state{kind: stateConnected})
			pause = time.Second
		case errors.As(err, &ae) && ae.Status < 500 && ae.Status != 429:
			c.noteAPIError(ctx, err)
			if !errors.As(err, &ae) || (ae.Code != codeTokenExpired && ae.Status != 401) {
				c.log.Warn("whatsapp cloud: the Graph API refuses to describe the number", "err", err)
			}
			pause = time.Minute
		default:
			c.mu.Lock()
			if c.state.kind == stateStarting || c.state.kind == stateConnected {
				c.state = state{kind: stateUnreachable}
			}
			c.mu.Unlock()
			c.log.Warn("whatsapp cloud: the Graph API does not answer; will retry", "in", pause, "err", err)
			bot.Sleep(ctx, pause)
			pause = min(pause*2, c.cfg.MaxBackoff)
			continue
		}
		// Connected: look again only when sending is stopped.
		for ctx.Err() == nil {
			if bot.Sleep(ctx, time.Minute) != nil {
				return
			}
			if !c.Ready() {
				break
			}
		}
	}
}

// work takes payloads from the queue (filled by the webhook of any replica),
// handles them and acknowledges each once all of it was handled; it also takes over
// payloads a dead worker took and never acknowledged (after ClaimAfter).
func (c *Channel) work(ctx, jobs context.Context) {
	slots := make(chan struct{}, 16*c.cfg.Workers)
	for range cap(slots) {
		slots <- struct{}{}
	}
	var lastReclaim time.Time
	pause := time.Second
	for ctx.Err() == nil {
		n := takeSlots(ctx, slots, 100)
		if n == 0 {
			break
		}
		var ids []string
		var raws [][]byte
		var err error
		if time.Since(lastReclaim) >= c.cfg.ClaimAfter/4 {
			ids, raws, err = c.store.Reclaim(ctx, c.consumer, n, c.cfg.ClaimAfter)
			lastReclaim = time.Now()
			if len(ids) > 0 {
				c.log.Info("whatsapp cloud: took over queued payloads of a stopped worker", "count", len(ids))
			}
		}
		if err == nil && len(ids) == 0 {
			ids, raws, err = c.store.Read(ctx, c.consumer, n, c.cfg.QueueWait)
		}
		for range n - len(ids) {
			slots <- struct{}{}
		}
		if err != nil {
			if ctx.Err() != nil {
				break
			}
			c.log.Warn("whatsapp cloud: read the queue failed; will retry", "in", pause, "err", err)
			bot.Sleep(ctx, pause)
			pause = min(pause*2, c.cfg.MaxBackoff)
			continue
		}
		pause = time.Second
		for i := range ids {
			c.inflight.Add(1)
			c.queued(ctx, jobs, ids[i], raws[i], func() { slots <- struct{}{}; c.inflight.Done() })
		}
	}
}

func takeSlots(ctx context.Context, slots chan struct{}, max int) int {
	select {
	case <-slots:
	case <-ctx.Done():
		return 0
	}
	n := 1
	for n < max {
		select {
		case <-slots:
			n++
		default:
			return n
		}
	}
	return n
}

// queued handles one queued payload: each of its items in its person's lane, then
// the acknowledgement once all were handled. When one fails the payload stays queued
// and is handled again after ClaimAfter; what was handled then is skipped.
func (c *Channel) queued(ctx, jobs context.Context, id string, raw []byte, done func()) {
	p, err := decode(raw)
	if err == nil && tooOld(id, c.cfg.Now()) {
		err = errors.New("queued for more than 7 days")
	}
	if err != nil {
		c.log.Warn("whatsapp cloud: queued payload dropped", "id", id, "err", err)
		if err := c.store.Ack(jobs, id); err != nil {
			c.log.Warn("whatsapp cloud: acknowledge payload", "err", err)
		}
		done()
		return
	}
	items, why := parse(p, c.cfg.PhoneID)
	for _, w := range why {
		c.log.Debug("whatsapp cloud: left out of a payload", "why", w)
	}
	var (
		mu     sync.Mutex
		failed bool
		left   = len(items)
	)
	finish := func(ok bool) {
		mu.Lock()
		failed = failed || !ok
		left--
		last, f := left == 0, failed
		mu.Unlock()
		if !last {
			return
		}
		if !f {
			if err := c.store.Ack(jobs, id); err != nil {
				c.log.Warn("whatsapp cloud: acknowledge payload (it will be handled again, and deduplicated)", "err", err)
			}
		}
		done()
	}
	if len(items) == 0 {
		left = 1
		finish(true)
		return
	}
	for _, it := range items {
		c.lanes.submit(it.lane, job{
			run: func() error {
				if ctx.Err() != nil {
					finish(false)
					return ctx.Err()
				}
				err := c.handle(jobs, it)
				if err != nil {
					c.log.Warn("whatsapp cloud: queued message not handled; will retry", "err", err)
				}
				finish(err == nil)
				return err
			},
			skip: func() { finish(false) },
		})
	}
}

// tooOld reports whether a queue id (milliseconds-sequence) is older than maxAge.
func tooOld(id string, now time.Time) bool {
	ms, _, ok := strings.Cut(id, "-")
	n, err := strconv.ParseInt(ms, 10, 64)
	return ok && err == nil && now.Sub(time.UnixMilli(n)) > maxAge
}

// handle does what one item asks. An error means it was not done and must be tried again.
func (c *Channel) handle(ctx context.Context, it item) error {
	if it.status != nil {
		return c.handleStatus(ctx, it.status)
	}
	return c.handleMessage(ctx, it)
}

// handleMessage notes the person's window, marks the message read, keeps its photo,
// has the engine handle it and sends the replies.
func (c *Channel) handleMessage(ctx context.Context, it item) error {
	m := *it.msg
	conv := c.pseudo.Of(m.Key())
	done, err := c.store.Handled(ctx, m.ID)
	if err != nil {
		return err
	}
	if done {
		c.log.Debug("whatsapp cloud: redelivered message skipped", "conv", conv)
		return nil
	}
	at := m.Time
	if at.IsZero() {
		at = c.cfg.Now()
	}
	if err := c.store.NoteInbound(ctx, m.UserID, at, c.cfg.Now()); err != nil {
		return err
	}
	c.markRead(ctx, m.ID)
	if it.mediaID != "" {
		if err := c.keepPhoto(ctx, &m, it.mediaID); err != nil {
			return err
		}
	}
	out, err := c.engine.Handle(ctx, m)
	if err != nil {
		return fmt.Errorf("whatsapp cloud: handle message: %w", err)
	}
	c.log.Debug("whatsapp cloud: message handled", "kind", string(m.Kind), "conv", conv,
		"duplicate", out.Duplicate, "replies", len(out.Replies))
	if !out.Duplicate && len(out.Replies) > 0 {
		if err := c.sender.Send(ctx, out.To, out.Replies...); err != nil {
			c.log.Warn("whatsapp cloud: reply not delivered", "conv", conv, "kind", bot.KindOf(err).String(), "err", err)
		}
	}
	if !out.Failed {
		if err := c.store.MarkHandled(ctx, m.ID); err != nil {
			c.log.Warn("whatsapp cloud: remember handled message", "err", err)
		}
	}
	return nil
}

// keepPhoto downloads the photo of m through the media endpoint into the media
// store. A photo Meta no longer has, or one the store refuses, makes m a
// bot.KindBadFile; an error means it could not be done now.
func (c *Channel) keepPhoto(ctx context.Context, m *bot.Message, mediaID string) error {
	body, err := c.fetchMedia(ctx, mediaID)
	if err == nil {
		defer body.Close()
		var name, mime string
		name, mime, err = c.cfg.Media.Save(body)
		if err == nil {
			m.Media = &bot.Media{Ref: name, MIME: mime}
			return nil
		}
	}
	if errors.Is(err, bot.ErrFileRefused) {
		c.log.Info("whatsapp cloud: a photo was refused", "conv", c.pseudo.Of(m.Key()), "err", err)
		m.Kind, m.Media = bot.KindBadFile, nil
		if errors.Is(err, bot.ErrMediaFull) {
			m.Kind = bot.KindMediaFull
		}
		return nil
	}
	c.noteAPIError(ctx, err)
	return fmt.Errorf("whatsapp cloud: keep photo: %w", err)
}

// handleStatus records a delivery status. A failure saying the person cannot be
// reached unsubscribes them; one saying the window is closed forgets the window.
func (c *Channel) handleStatus(ctx context.Context, s *statusItem) error {
	conv := c.pseudo.Of(ChannelName + ":" + s.waID)
	run, err := c.store.RecordStatus(ctx, s.wamid, s.status, conv, s.code, s.title, s.at)
	if err != nil {
		return err
	}
	if s.status != "failed" {
		return nil
	}
	c.log.Info("whatsapp cloud: a message failed", "conv", conv, "code", s.code, "broadcast_run", run)
	switch s.code {
	case codeUndeliverable:
		if c.cfg.Blocked != nil && s.waID != "" {
			c.cfg.Blocked(ctx, ChannelName+":"+s.waID)
		}
	case codeReEngagement:
		if s.waID != "" {
			return c.store.CloseWindow(ctx, s.waID)
		}
	case codeAccountLocked, codePolicyBlock, codeSpamRate:
		c.setState(ctx, state{kind: stateRestricted, code: s.code, until: c.cfg.Now().Add(restrictedPause)})
	}
	return nil
}

// --- lanes ---

// job is one item's work; an error skips the jobs of the same lane queued behind it,
// so a retry keeps the person's order.
type job struct {
	run  func() error
	skip func()
}

// lanes runs the jobs of one lane one after another, and different lanes
// concurrently, at most n at a time.
type lanes struct {
	sem chan struct{}

	mu     sync.Mutex
	queues map[string][]job
}

func newLanes(n int) *lanes {
	return &lanes{sem: make(chan struct{}, n), queues: map[string][]job{}}
}

func (l *lanes) submit(key string, j job) {
	l.mu.Lock()
	q, busy := l.queues[key]
	l.queues[key] = append(q, j)
	l.mu.Unlock()
	if !busy {
		go l.serve(key)
	}
}

func (l *lanes) serve(key string) {
	for {
		l.mu.Lock()
		q := l.queues[key]
		if len(q) == 0 {
			delete(l.queues, key)
			l.mu.Unlock()
			return
		}
		j := q[0]
		l.queues[key] = q[1:]
		l.mu.Unlock()

		l.sem <- struct{}{}
		err := j.run()
		<-l.sem
		if err != nil {
			l.mu.Lock()
			rest := l.queues[key]
			l.queues[key] = nil
			l.mu.Unlock()
			for _, s := range rest {
				s.skip()
			}
		}
	}
}
