package whatsapp

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	"go.mau.fi/whatsmeow"
	"go.mau.fi/whatsmeow/types"
	"go.mau.fi/whatsmeow/types/events"

	"github.com/layan-id/layan/bot"
)

// Time limits of the receive path.
const (
	downloadTimeout = time.Minute     // one photo
	receiptTimeout  = 5 * time.Second // a read receipt or "typing…"
	handleAttempts  = 3               // engine tries for one message before it is left unacknowledged
	shutdownGrace   = 10 * time.Second
)

// signalKind is news from an event handler for the session loop.
type signalKind int

const (
	sigLoggedOut signalKind = iota + 1
	sigReplaced
	sigBanned
	sigOutdated
	sigFailed    // the connection failed for good (ConnectFailure): reconnect after a pause
	sigRedeliver // a message was left unacknowledged: reconnect so WhatsApp delivers it again
)

type signal struct {
	kind  signalKind
	until time.Time // sigBanned: when the ban ends, if WhatsApp said
}

// notify passes s to the session loop without ever blocking an event handler.
func (c *Channel) notify(s signal) {
	select {
	case c.signals <- s:
	default:
	}
}

// onEvent handles one whatsmeow event. It runs synchronously in whatsmeow's event
// loop; its result for a message decides whether the message is acknowledged to
// WhatsApp. Replies are sent by the outbox, with jobs as their context, so that the
// loop is not held up by the sending pace.
func (c *Channel) onEvent(ctx, jobs context.Context, evt any) bool {
	switch e := evt.(type) {
	case *events.Message:
		return c.onMessage(ctx, jobs, e)
	case *events.Connected:
		c.onConnected(ctx)
	case *events.Disconnected:
		c.setStateIf(stateDisconnected, stateConnected)
		c.log.Warn("whatsapp: disconnected; reconnecting")
	case *events.KeepAliveTimeout:
		c.log.Debug("whatsapp: keepalive timed out", "errors", e.ErrorCount)
	case *events.LoggedOut:
		c.pause(ctx, state{kind: stateLoggedOut}, AlertLoggedOut, "reason", e.Reason.String())
		c.notify(signal{kind: sigLoggedOut})
	case *events.StreamReplaced:
		c.pause(ctx, state{kind: stateReplaced, until: time.Now().Add(replacedPause)}, AlertReplaced)
		c.notify(signal{kind: sigReplaced})
	case *events.TemporaryBan:
		var until time.Time
		if e.Expire > 0 {
			until = time.Now().Add(e.Expire)
		}
		c.pause(ctx, state{kind: stateBanned, until: until}, AlertBanned, "code", int(e.Code), "expires_in", e.Expire)
		c.notify(signal{kind: sigBanned, until: until})
	case *events.ClientOutdated:
		c.pause(ctx, state{kind: stateOutdated, until: time.Now().Add(outdatedPause)}, AlertOutdated)
		c.notify(signal{kind: sigOutdated})
	case *events.ConnectFailure:
		c.log.Error("whatsapp: connection refused by WhatsApp; will try again", "reason", e.Reason.String())
		c.notify(signal{kind: sigFailed})
	case *events.CATRefreshError:
		c.log.Error("whatsapp: connection failed for good; will try again", "err", redactErr(e.Error, c.pseudo))
		c.notify(signal{kind: sigFailed})
	case *events.StreamError:
		c.log.Warn("whatsapp: stream error", "code", e.Code)
	case *events.UndecryptableMessage:
		c.log.Debug("whatsapp: a message could not be decrypted; WhatsApp is asked to send it again",
			"unavailable", e.IsUnavailable)
	}
	return true
}

// onMessage handles one message and reports whether it may be acknowledged: true
// when it is ignored, or handled by the engine with its replies queued for sending.
func (c *Channel) onMessage(ctx, jobs context.Context, e *events.Message) bool {
	if ctx.Err() != nil {
		return false // stopping: the next connection gets it again
	}
	c.mu.RLock()
	cl, lids := c.client, c.lids
	c.mu.RUnlock()
	in := parseMessage(ctx, e, lids)
	if !in.handle {
		c.log.Debug("whatsapp: message ignored", "why", in.ignored)
		return true
	}
	if cl == nil {
		return false
	}
	m := in.msg
	conv := c.pseudo.Of(m.Key())
	c.markRead(ctx, cl, e.Info)
	c.presence(ctx, cl, in.chat, types.ChatPresenceComposing)

	if in.photo != nil {
		if err := c.keepPhoto(ctx, cl, &m, in.photo); err != nil {
			c.log.Warn("whatsapp: photo not downloaded; WhatsApp will deliver the message again", "conv", conv, "err", err)
			c.presence(ctx, cl, in.chat, types.ChatPresencePaused)
			c.notify(signal{kind: sigRedeliver})
			return false
		}
	}
	out, err := c.handle(ctx, m)
	if err != nil {
		c.log.Warn("whatsapp: message not handled; WhatsApp will deliver it again", "conv", conv, "err", err)
		c.presence(ctx, cl, in.chat, types.ChatPresencePaused)
		c.notify(signal{kind: sigRedeliver})
		return false
	}
	c.log.Debug("whatsapp: message handled", "kind", string(m.Kind), "conv", conv,
		"duplicate", out.Duplicate, "replies", len(out.Replies))
	if out.Duplicate || len(out.Replies) == 0 {
		c.presence(ctx, cl, in.chat, types.ChatPresencePaused)
		return true // a redelivered message was answered the first time
	}
	j := sendJob{to: out.To, conv: conv, replies: out.Replies}
	c.outbox.Submit(j.to.ChatID, func() error { c.deliver(jobs, j); return nil }, nil)
	return true
}

// handle runs the engine, trying again briefly (handleAttempts tries) when the store
// fails.
func (c *Channel) handle(ctx context.Context, m bot.Message) (bot.Outcome, error) {
	return bot.Retry(ctx, bot.Backoff(500*time.Millisecond, 0), handleAttempts,
		func() (bot.Outcome, error) { return c.engine.Handle(ctx, m) }, nil)
}

// keepPhoto downloads the photo of m into the media store. A file WhatsApp will not
// hand out any more, or one the store refuses, makes m a bot.KindBadFile; an error
// means it could not be done now (network, the store's disk).
func (c *Channel) keepPhoto(ctx context.Context, cl Client, m *bot.Message, d whatsmeow.DownloadableMessage) error {
	dctx, cancel := context.WithTimeout(ctx, downloadTimeout)
	data, err := cl.Download(dctx, d)
	cancel()
	if err != nil {
		if !refusedDownload(err) {
			return fmt.Errorf("whatsapp: download photo: %w", redactErr(err, c.pseudo))
		}
		c.log.Info("whatsapp: a photo could not be downloaded", "conv", c.pseudo.Of(m.Key()), "err", redactErr(err, c.pseudo))
		m.Kind, m.Media = bot.KindBadFile, nil
		return nil
	}
	if len(data) > bot.MaxPhotoSize {
		m.Kind, m.Media = bot.KindBadFile, nil
		return nil
	}
	name, mime, err := c.media.Save(bytes.NewReader(data))
	if errors.Is(err, bot.ErrFileRefused) {
		c.log.Info("whatsapp: a photo was refused", "conv", c.pseudo.Of(m.Key()), "err", err)
		m.Kind, m.Media = bot.KindBadFile, nil
		return nil
	}
	if err != nil {
		return fmt.Errorf("whatsapp: keep photo: %w", err)
	}
	m.Media = &bot.Media{Ref: name, MIME: mime, Size: int64(len(data))}
	return nil
}

// refusedDownload reports a download that will never work: the media expired on
// WhatsApp's servers or does not match its hashes.
func refusedDownload(err error) bool {
	for _, target := range []error{
		whatsmeow.ErrMediaDownloadFailedWith403, whatsmeow.ErrMediaDownloadFailedWith404,
		whatsmeow.ErrMediaDownloadFailedWith410, whatsmeow.ErrNoURLPresent,
		whatsmeow.ErrFileLengthMismatch, whatsmeow.ErrTooShortFile, whatsmeow.ErrInvalidMediaHMAC,
		whatsmeow.ErrInvalidMediaEncSHA256, whatsmeow.ErrInvalidMediaSHA256,
		whatsmeow.ErrUnknownMediaType, whatsmeow.ErrNothingDownloadableFound,
	} {
		if errors.Is(err, target) {
			return true
		}
	}
	return false
}

// markRead sends the blue ticks. Failure costs nothing but the ticks.
func (c *Channel) markRead(ctx context.Context, cl Client, info types.MessageInfo) {
	ctx, cancel := context.WithTimeout(ctx, receiptTimeout)
	defer cancel()
	if err := cl.MarkRead(ctx, []types.MessageID{info.ID}, time.Now(), info.Chat, info.Sender); err != nil {
		c.log.Debug("whatsapp: mark read failed", "err", redactErr(err, c.pseudo))
	}
}

// presence shows or stops "typing…" in a chat. Failure costs nothing but the hint.
func (c *Channel) presence(ctx context.Context, cl Client, chat types.JID, p types.ChatPresence) {
	ctx, cancel := context.WithTimeout(ctx, receiptTimeout)
	defer cancel()
	if err := cl.SendChatPresence(ctx, chat.ToNonAD(), p, types.ChatPresenceMediaText); err != nil {
		c.log.Debug("whatsapp: chat presence failed", "err", redactErr(err, c.pseudo))
	}
}

// --- the outbox ---

// The outbox (Channel.outbox) sends the replies of one chat one after another, in the
// order they were queued, and those of different chats concurrently (the Sender paces
// them all).

// sendJob is the replies to one handled message.
type sendJob struct {
	to      bot.Recipient
	conv    string
	replies []bot.Reply
}

// deliver sends one job's replies through the shared sender. A reply that cannot be
// delivered is logged, not retried: the turn is saved and acknowledged.
func (c *Channel) deliver(ctx context.Context, j sendJob) {
	if err := c.sender.Send(ctx, j.to, j.replies...); err != nil {
		c.log.Warn("whatsapp: reply not delivered", "conv", j.conv, "kind", bot.KindOf(err).String(), "err", err)
	}
}
