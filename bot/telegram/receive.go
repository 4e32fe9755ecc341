package telegram

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/layan-id/layan/bot"
	"github.com/layan-id/layan/bot/guard"
	"github.com/layan-id/layan/bot/inbox"
)

// maxUpdate is the largest webhook body read; Telegram's updates are a few KiB.
const maxUpdate = 1 << 20

// shutdownGrace is how long updates being handled when Run's context ends may take
// to finish (save the turn, send its replies); updates not yet started are left for
// a redelivery.
const shutdownGrace = 10 * time.Second

// maxAge is how old a queued update may be and still be handled: Telegram itself
// gives up on undelivered updates after 24 hours.
const maxAge = 24 * time.Hour

// handle does what one update asks: reports a blocked bot, answers the callback
// query, has the engine handle the message and sends its replies. An error means the
// message was not handled (the engine or the store failed) and must be tried again;
// a reply that could not be delivered is logged, not retried (the turn is saved).
func (c *Channel) handle(ctx context.Context, in inbound) error {
	if in.blocked != "" {
		c.log.Info("telegram: a person blocked the bot", "conv", c.pseudo.Of(in.blocked))
		if c.cfg.Blocked != nil {
			c.cfg.Blocked(ctx, in.blocked)
		}
	}
	if in.callback != "" {
		// Beside the turn: the spinner stops while the engine works.
		var answered sync.WaitGroup
		defer answered.Wait()
		answered.Go(func() { c.answerCallback(ctx, in.callback) })
	}
	if !in.handle {
		c.log.Debug("telegram: update ignored", "update", in.updateID, "why", in.ignored)
		return nil
	}
	m := in.msg
	if in.longKey != "" {
		id, err := c.store.Option(ctx, in.longKey)
		if err != nil {
			return err
		}
		if id != "" {
			m.Option = id
		} else { // forgotten: the label, which the flows match against what they offered
			m.Kind, m.Option, m.Text = bot.KindText, "", in.label
		}
	}
	if in.replyTo != 0 {
		// A reply to one of the bot's messages: what that message was about, if it
		// was about something (an announced talk with staff).
		chat, _ := strconv.ParseInt(m.ChatID, 10, 64)
		about, err := c.store.About(ctx, chat, in.replyTo)
		if err != nil {
			return err
		}
		m.InReplyTo = about
	}
	if m.Kind == bot.KindImage && m.Media != nil && c.media != nil {
		if err := c.keepPhoto(ctx, &m); err != nil {
			return err
		}
	}
	out, err := c.engine.Handle(ctx, m)
	if err != nil {
		return fmt.Errorf("telegram: handle update %d: %w", in.updateID, err)
	}
	if c.log.Enabled(ctx, slog.LevelDebug) { // the pseudonym is a keyed hash: only when logged
		c.log.Debug("telegram: update handled", "update", in.updateID, "kind", string(m.Kind), "conv", c.pseudo.Of(m.Key()),
			"duplicate", out.Duplicate, "replies", len(out.Replies))
	}
	if out.Duplicate || len(out.Replies) == 0 {
		return nil // a redelivered update was answered the first time
	}
	if err := c.sender.Send(ctx, out.To, out.Replies...); err != nil {
		c.log.Warn("telegram: reply not delivered", "conv", c.pseudo.Of(m.Key()), "kind", bot.KindOf(err).String(), "err", err)
	}
	return nil
}

// answerCallback stops the spinner of a pressed button. Failure only costs the
// person a spinning button for a few seconds: it is logged at debug level.
func (c *Channel) answerCallback(ctx context.Context, id string) {
	ctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	if _, err := c.api(ctx).MakeRequest("answerCallbackQuery", tgbotapi.Params{"callback_query_id": id}); err != nil {
		c.log.Debug("telegram: answerCallbackQuery failed", "err", c.redact(err))
	}
}

// env is what parseUpdate needs to know, now.
func (c *Channel) env() env {
	return env{me: *c.Me(), commands: c.commands, staffChat: c.cfg.StaffChatID, now: time.Now()}
}

// laneKey is the lane an update runs in: its conversation, so one person's updates
// keep their order.
func laneKey(in inbound) string {
	switch {
	case in.handle:
		return in.msg.Key()
	case in.blocked != "":
		return in.blocked
	}
	return "update:" + strconv.Itoa(in.updateID)
}

// --- long polling ---

// poll receives updates with getUpdates while this process holds the poller lease:
// each batch is handled (chats concurrently, each chat in order) and its replies
// sent before the offset moves past it. An update whose handling failed is not
// confirmed: the next call fetches it (and those after it) again; the engine's
// dedupe keeps those after it from being answered twice.
func (c *Channel) poll(ctx context.Context, jobs context.Context) {
	leaseTTL := 2*c.cfg.PollTimeout + 30*time.Second
	leader := false
	offset := 0 // 0: let Telegram resume after what it saw confirmed
	pause := bot.Backoff(min(time.Second, c.cfg.MaxBackoff), c.cfg.MaxBackoff)
	defer func() {
		end, cancel := context.WithTimeout(context.WithoutCancel(ctx), 3*time.Second)
		defer cancel()
		if leader && offset > 0 {
			c.confirm(end, offset)
		}
		if err := c.store.DropLease(end, c.consumer); err != nil {
			c.log.Warn("telegram: drop poller lease", "err", err)
		}
	}()
	for ctx.Err() == nil {
		ok, err := c.store.TakeLease(ctx, c.consumer, leaseTTL)
		if err != nil {
			if ctx.Err() == nil {
				c.log.Warn("telegram: take poller lease failed; will retry", "err", err)
			}
			bot.Sleep(ctx, pause.NextBackOff())
			continue
		}
		if !ok {
			if leader {
				c.log.Warn("telegram: another process polls now")
			}
			leader, offset = false, 0
			bot.Sleep(ctx, 5*c.cfg.PollInterval)
			continue
		}
		if !leader {
			c.log.Info("telegram: this process polls for updates")
			leader = true
		}
		started := time.Now()
		raws, err := c.getUpdates(ctx, offset, int(c.cfg.PollTimeout/time.Second))
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			d := pause.NextBackOff()
			c.log.Warn("telegram: getUpdates failed; will retry", "in", d, "err", err)
			bot.Sleep(ctx, d)
			continue
		}
		if len(raws) == 0 {
			pause.Reset()
			bot.Sleep(ctx, c.cfg.PollInterval-time.Since(started)) // servers that answer at once
			continue
		}
		next, failed := c.processBatch(ctx, jobs, raws)
		if next > 0 {
			offset = next
		}
		if !failed {
			pause.Reset()
			continue
		}
		bot.Sleep(ctx, pause.NextBackOff()) // the engine's store is likely down: do not hammer it
	}
}

// getUpdates fetches raw updates after offset (0: from the first unconfirmed one).
func (c *Channel) getUpdates(ctx context.Context, offset, timeout int) ([]json.RawMessage, error) {
	ctx, cancel := context.WithTimeout(ctx, time.Duration(timeout)*time.Second+20*time.Second)
	defer cancel()
	params := tgbotapi.Params{}
	params.AddNonZero("offset", offset)
	params.AddNonZero("limit", 100)
	params.AddNonZero("timeout", timeout)
	if err := params.AddInterface("allowed_updates", allowedUpdates()); err != nil {
		return nil, err
	}
	resp, err := c.api(ctx).MakeRequest("getUpdates", params)
	if err != nil {
		return nil, c.redact(err)
	}
	var raws []json.RawMessage
	if err := json.Unmarshal(resp.Result, &raws); err != nil {
		return nil, fmt.Errorf("telegram: getUpdates: result is not a list: %w", err)
	}
	return raws, nil
}

// confirm tells Telegram that every update before offset is done, so that a
// restart does not fetch them again.
func (c *Channel) confirm(ctx context.Context, offset int) {
	params := tgbotapi.Params{}
	params.AddNonZero("offset", offset)
	params.AddNonZero("limit", 1)
	if _, err := c.api(ctx).MakeRequest("getUpdates", params); err != nil {
		c.log.Debug("telegram: confirm updates at shutdown", "err", c.redact(err))
	}
}

// processBatch handles a batch of updates and returns the offset to confirm (the
// first update not handled, else one past the last) and whether one failed.
func (c *Channel) processBatch(ctx, jobs context.Context, raws []json.RawMessage) (next int, failed bool) {
	e := c.env()
	var (
		mu          sync.Mutex
		firstFailed = -1
		maxID       = 0
		wg          sync.WaitGroup
	)
	for _, raw := range raws {
		u, err := decodeUpdate(raw)
		if err != nil {
			c.log.Warn("telegram: unreadable update skipped", "err", err)
			continue
		}
		maxID = max(maxID, u.UpdateID)
		in := parseUpdate(u, e)
		fail := func() {
			mu.Lock()
			if firstFailed < 0 || in.updateID < firstFailed {
				firstFailed = in.updateID
			}
			mu.Unlock()
		}
		wg.Add(1)
		c.lanes.Submit(laneKey(in), func() error {
			defer wg.Done()
			if ctx.Err() != nil { // stopping: leave it to the next start
				fail()
				return ctx.Err()
			}
			err := c.handle(jobs, in)
			if err != nil {
				c.log.Warn("telegram: update not handled; will fetch it again", "update", in.updateID, "err", err)
				fail()
			}
			return err
		}, func() { defer wg.Done(); fail() })
	}
	wg.Wait()
	if firstFailed >= 0 {
		return firstFailed, true
	}
	if maxID == 0 {
		return 0, false
	}
	return maxID + 1, false
}

// --- webhook ---

// Register adds POST /telegram/webhook to mux in webhook mode (nothing otherwise).
func (c *Channel) Register(mux *http.ServeMux) {
	if c.webhookOn {
		mux.HandleFunc("POST "+WebhookPath, c.webhook)
	}
}

// webhook receives one update from Telegram: it checks the secret header (401 when
// wrong or missing), queues the update durably and answers 200 at once. A body that
// is not an update (not a well-formed JSON object with a positive update_id: see
// checkUpdate) gets 400; a store that cannot take it, 503 (Telegram retries).
//
// A client address that presented a few wrong secrets gets 429 with Retry-After for
// a while instead of 401, and its wrong secrets are summed up in the log once a
// minute. The right secret is let through even then: behind a reverse proxy every
// request comes from the proxy's address, and someone guessing there must not hold up
// Telegram's updates (a secret of 32 random characters is not guessed anyway).
func (c *Channel) webhook(w http.ResponseWriter, r *http.Request) {
	got := r.Header.Get("X-Telegram-Bot-Api-Secret-Token")
	if subtle.ConstantTimeCompare([]byte(got), []byte(c.cfg.WebhookSecret)) != 1 {
		if wait := c.guard.Throttled(r); wait > 0 {
			w.Header().Set("Retry-After", guard.RetryAfter(wait))
			http.Error(w, "too many wrong secret tokens; try again later", http.StatusTooManyRequests)
			return
		}
		reason := "wrong secret token"
		if got == "" {
			reason = "no secret token"
		}
		c.guard.Fail(r, reason)
		http.Error(w, "wrong or missing secret token", http.StatusUnauthorized)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxUpdate))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			http.Error(w, "update too large", http.StatusRequestEntityTooLarge)
			return
		}
		http.Error(w, "could not read the update", http.StatusBadRequest)
		return
	}
	callback, err := checkUpdate(body)
	if err != nil {
		http.Error(w, "not a Telegram update", http.StatusBadRequest)
		return
	}
	if err := c.store.Enqueue(r.Context(), body); err != nil {
		c.log.Error("telegram: could not queue a webhook update", "err", err)
		http.Error(w, "busy, try again", http.StatusServiceUnavailable)
		return
	}
	if callback != "" {
		// A pressed button is answered in the response, as Telegram lets a webhook
		// call a method: the spinner stops at once, and the worker makes no call.
		reply, _ := json.Marshal(callbackAnswer{Method: "answerCallbackQuery", ID: callback})
		w.Header().Set("Content-Type", "application/json")
		w.Write(reply)
		return
	}
	w.WriteHeader(http.StatusOK)
}

// callbackAnswer is answerCallbackQuery as a webhook's response.
type callbackAnswer struct {
	Method string `json:"method"`
	ID     string `json:"callback_query_id"`
}

// open turns a queued update into its one job: handled in its person's lane, then
// acknowledged by the worker.
func (c *Channel) open(_ string, raw []byte) ([]inbox.Job, error) {
	u, err := decodeUpdate(raw)
	if err != nil {
		return nil, err
	}
	in := parseUpdate(u, c.env())
	in.callback = "" // answered in the webhook's response
	return []inbox.Job{{Lane: laneKey(in), Run: func(ctx context.Context) error {
		if err := c.handle(ctx, in); err != nil {
			return fmt.Errorf("update %d: %w", in.updateID, err)
		}
		return nil
	}}}, nil
}
