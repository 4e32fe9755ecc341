package whatsappcloud

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/layan-id/layan/bot"
	"github.com/layan-id/layan/bot/inbox"
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
	jobs, release := bot.Grace(ctx, shutdownGrace)
	defer release()
	var wg sync.WaitGroup
	wg.Go(func() { c.watch(ctx) })
	wg.Go(func() { c.inbox.Run(ctx, jobs) })
	wg.Wait()
	return nil
}

// watch asks the Graph API about the number at start, then every minute while the
// token is expired or the number restricted, and after a failure, so that Health
// says how things stand and sending resumes by itself.
func (c *Channel) watch(ctx context.Context) {
	pause := bot.Backoff(time.Second, c.cfg.MaxBackoff)
	for ctx.Err() == nil {
		err := c.probe(ctx)
		if ctx.Err() != nil {
			return
		}
		var ae *APIError
		switch {
		case err == nil:
			c.setState(ctx, state{kind: stateConnected})
			pause.Reset()
		case errors.As(err, &ae) && ae.Status < 500 && ae.Status != 429:
			c.noteAPIError(ctx, err)
			if !errors.As(err, &ae) || (ae.Code != codeTokenExpired && ae.Status != 401) {
				c.log.Warn("whatsapp cloud: the Graph API refuses to describe the number", "err", err)
			}
			pause.Reset()
		default:
			c.mu.Lock()
			if c.state.kind == stateStarting || c.state.kind == stateConnected {
				c.state = state{kind: stateUnreachable}
			}
			c.mu.Unlock()
			d := pause.NextBackOff()
			c.log.Warn("whatsapp cloud: the Graph API does not answer; will retry", "in", d, "err", err)
			bot.Sleep(ctx, d)
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

// open turns a queued payload into its items, each handled in its person's lane;
// the worker acknowledges the payload once all were handled. When one fails the
// payload stays queued and is handled again after ClaimAfter; what was handled then
// is skipped.
func (c *Channel) open(_ string, raw []byte) ([]inbox.Job, error) {
	p, err := decode(raw)
	if err != nil {
		return nil, err
	}
	items, why := parse(p, c.cfg.PhoneID)
	for _, w := range why {
		c.log.Debug("whatsapp cloud: left out of a payload", "why", w)
	}
	jobs := make([]inbox.Job, len(items))
	for i, it := range items {
		jobs[i] = inbox.Job{Lane: it.lane, Run: func(ctx context.Context) error { return c.handle(ctx, it) }}
	}
	return jobs, nil
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
