package bot

import (
	"cmp"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"runtime/debug"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/layan-id/layan/bot/gopool"
	"github.com/layan-id/layan/bot/lanes"
)

// Engine runs a Handler over incoming messages. For each message it
//
//   - waits until earlier messages of the same conversation are done (in this process
//     and, through the store's lock, in every process sharing the store);
//   - drops a message whose platform id was already handled within DedupeWindow;
//   - runs the handler on a copy of the session, with a time limit, turning a panic or
//     an error into a short apology in the person's language;
//   - saves the session and the dedupe mark together.
//
// Messages of different conversations run concurrently.
type Engine struct {
	store   ConversationStore
	handler Handler
	timeout time.Duration
	apology func(lang string) Reply
	log     *slog.Logger
	now     func() time.Time
	lanes   *lanes.Lanes // one turn at a time per conversation, in arrival order
	runners *gopool.Pool // the handler's runs, on goroutines whose stacks already grew
	pseudo  Pseudonymizer
	history HistoryLimits
	observe func(m Message, o Outcome, err error, took time.Duration)
}

// HistoryLimits bound the recent messages a session keeps (Session.History).
type HistoryLimits struct {
	Lines int           // the newest kept; 0 keeps none
	Age   time.Duration // older ones are dropped; 0: no limit
	Chars int           // a longer text is cut; default 500
}

// EngineConfig configures an Engine. Store and Handler are required.
type EngineConfig struct {
	Store   ConversationStore
	Handler Handler
	// Timeout bounds one handler run; default 10 s. A handler that overruns gets as long
	// again to return: the store must keep the conversation's lock for twice the timeout
	// plus the store calls (store.Conversations renews it while the turn runs).
	Timeout time.Duration
	// Apology is what a person sees when their message could not be handled, in
	// their language. Required.
	Apology func(lang string) Reply
	Logger  *slog.Logger
	Now     func() time.Time // for tests; default time.Now
	// Pseudonyms names conversations in logs; default: an unkeyed hash (set a keyed
	// one in production, see NewPseudonymizer).
	Pseudonyms Pseudonymizer
	// History makes every session keep its recent messages (what the person sent, what
	// was said to them), written with the session in the turn's one store round trip.
	History HistoryLimits
	// Observe, when set, is told of every message after it was handled (for metrics):
	// the outcome, the error Handle returned, and how long it took.
	Observe func(m Message, o Outcome, err error, took time.Duration)
}

// Close ends the goroutines the engine keeps for its handler's runs (they end by
// themselves after a minute without work). The engine still works after Close, on a
// fresh goroutine for every run. A test in a testing/synctest bubble must Close its
// engine before the bubble's function returns.
func (e *Engine) Close() { e.runners.Close() }

// handlerIdle is how long a goroutine kept for the handler's runs waits for the next
// run before it ends.
const handlerIdle = time.Minute

// NewEngine returns an engine. It keeps goroutines for its handler's runs: call
// Close when done with it in a test's synctest bubble (elsewhere they end after a
// minute without work).
func NewEngine(cfg EngineConfig) *Engine {
	e := &Engine{
		store: cfg.Store, handler: cfg.Handler, timeout: cfg.Timeout, apology: cfg.Apology,
		log: cfg.Logger, now: cfg.Now, lanes: lanes.New(0), runners: gopool.New(handlerIdle), pseudo: cfg.Pseudonyms, history: cfg.History,
		observe: cfg.Observe,
	}
	if e.history.Chars <= 0 {
		e.history.Chars = 500
	}
	if e.pseudo == nil {
		e.pseudo = NewPseudonymizer(nil)
	}
	if e.timeout <= 0 {
		e.timeout = 10 * time.Second
	}
	if e.apology == nil {
		panic("bot: EngineConfig.Apology is required")
	}
	if e.log == nil {
		e.log = slog.Default()
	}
	if e.now == nil {
		e.now = time.Now
	}
	return e
}

// Outcome is the result of handling one message.
type Outcome struct {
	Replies []Reply
	// Duplicate is true when the message had been handled before; Replies then holds
	// what was answered the first time. Chat platforms must not send them again; a
	// client that retried a lost HTTP response may show them.
	Duplicate bool
	// Lang is the person's language after the turn ("" when not chosen or forgotten),
	// for clients that label their own controls.
	Lang string
	// To is whom the replies go to: the message's channel and chat, and the language
	// the replies are written in (the turn's, when it answered a message in that
	// message's own language, else the person's), for Sender.Send.
	To Recipient
	// Failed is true when the handler failed and Replies is only the apology; nothing
	// changed, and the message was not marked handled.
	Failed bool
}

// storeTimeout bounds the store calls that end a turn; they run even when the caller
// has gone away, so that a finished turn is saved and the conversation unlocked.
const storeTimeout = 5 * time.Second

// Handle handles one message and returns what to say. An error means the message was
// not handled (the store was unreachable or ctx ended before the turn began) and may
// be retried: nothing was saved. A failing handler is not an error: the person gets
// an apology, nothing changes, and the message is not marked as handled, so a platform
// that delivers it again gets another try.
func (e *Engine) Handle(ctx context.Context, m Message) (Outcome, error) {
	if e.observe == nil {
		return e.handle(ctx, m)
	}
	start := time.Now()
	o, err := e.handle(ctx, m)
	e.observe(m, o, err, time.Since(start))
	return o, err
}

func (e *Engine) handle(ctx context.Context, m Message) (Outcome, error) {
	key := m.Key()
	release, err := e.lanes.Acquire(ctx, key)
	if err != nil {
		return Outcome{}, fmt.Errorf("bot: wait for conversation: %w", err)
	}
	defer release()

	claim, err := e.store.Acquire(ctx, key, m.ID)
	if err != nil {
		return Outcome{}, err
	}
	// From here the turn is finished and saved even if the caller goes away.
	endCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), storeTimeout)
	defer cancel()
	if claim.Duplicate {
		if err := e.store.Release(endCtx, claim); err != nil {
			e.log.WarnContext(ctx, "release conversation", "conv", e.pseudo.Of(key), "err", err)
		}
		e.log.InfoContext(ctx, "duplicate message dropped", "channel", m.Channel, "conv", e.pseudo.Of(key))
		return Outcome{Replies: claim.Replies, Duplicate: true, Lang: claim.Session.Lang, To: m.replyTo(claim.Session.Lang)}, nil
	}

	start := e.now()
	session, replies, lang, ok := e.run(ctx, m, claim.Session)
	out := Outcome{Replies: replies, Failed: !ok, To: m.replyTo(lang)}
	if session != nil {
		session.LastActive = start
		out.Lang = session.Lang
		if ok {
			e.remember(session, claim.Session, m, replies, start)
		}
	}
	if !ok {
		claim.MsgID = "" // not handled: a redelivery may try again
	}
	kept := replies // for a retry of m
	if !m.Retryable {
		kept = nil
	}
	if err := e.store.Commit(endCtx, claim, session, kept); err != nil {
		// Do not release: the lock is gone or Redis is; it expires by itself.
		return Outcome{}, err
	}
	return out, nil
}

// Accepts reports whether the conversation of m is at a step that takes a message of
// m's kind, so that an adapter can refuse a photo before reading it. It waits for the
// conversation's turn like Handle, reads the session and changes nothing. A handler
// that is no StepAccepter accepts everything.
func (e *Engine) Accepts(ctx context.Context, m Message) (bool, error) {
	sa, ok := e.handler.(StepAccepter)
	if !ok {
		return true, nil
	}
	key := m.Key()
	release, err := e.lanes.Acquire(ctx, key)
	if err != nil {
		return false, fmt.Errorf("bot: wait for conversation: %w", err)
	}
	defer release()
	claim, err := e.store.Acquire(ctx, key, "")
	if err != nil {
		return false, err
	}
	endCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), storeTimeout)
	defer cancel()
	if err := e.store.Release(endCtx, claim); err != nil {
		e.log.WarnContext(ctx, "release conversation", "conv", e.pseudo.Of(key), "err", err)
	}
	return sa.Accepts(claim.Session, m.Kind), nil
}

// Recall returns a copy of the session of m's conversation (its language and recent
// history), for a client that shows the conversation again. It waits for the
// conversation's turn like Handle and changes nothing; a conversation never seen
// gives an empty session.
func (e *Engine) Recall(ctx context.Context, m Message) (Session, error) {
	key := m.Key()
	release, err := e.lanes.Acquire(ctx, key)
	if err != nil {
		return Session{}, fmt.Errorf("bot: wait for conversation: %w", err)
	}
	defer release()
	claim, err := e.store.Acquire(ctx, key, "")
	if err != nil {
		return Session{}, err
	}
	endCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), storeTimeout)
	defer cancel()
	if err := e.store.Release(endCtx, claim); err != nil {
		e.log.WarnContext(ctx, "release conversation", "conv", e.pseudo.Of(key), "err", err)
	}
	if claim.Session == nil {
		return Session{}, nil
	}
	s := cloneSession(claim.Session)
	if s.History, err = e.recent(ctx, key, claim.Session); err != nil {
		return Session{}, err
	}
	return *s, nil
}

// recent returns the recent messages of the conversation key whose session s was
// read for a turn: the store's (a HistoryReader's) followed by those s still holds,
// the newest within the engine's limits.
func (e *Engine) recent(ctx context.Context, key string, s *Session) ([]Line, error) {
	lines := slices.Clone(s.History)
	if hr, ok := e.store.(HistoryReader); ok {
		kept, err := hr.History(ctx, key)
		if err != nil {
			return nil, err
		}
		lines = append(kept, lines...)
	}
	if e.history.Age > 0 {
		now := e.now()
		lines = slices.DeleteFunc(lines, func(l Line) bool { return now.Sub(l.At) > e.history.Age })
	}
	if e.history.Lines > 0 && len(lines) > e.history.Lines {
		lines = lines[len(lines)-e.history.Lines:]
	}
	return lines, nil
}

// run calls the handler on a copy of the session and returns the session to save, the
// replies and the language they are in, and whether the handler succeeded; a nil
// session when the handler asked to forget the person. On error, panic or timeout it returns the original session and an
// apology, so a failed turn changes nothing.
//
// A handler that overruns its time is cancelled and given a grace period to return,
// so that it does not overlap the conversation's next turn; one that ignores its
// context even then is logged and abandoned.
func (e *Engine) run(ctx context.Context, m Message, orig *Session) (session *Session, replies []Reply, lang string, ok bool) {
	ctx, cancel := context.WithTimeout(ctx, e.timeout)
	defer cancel()

	t := &Turn{Msg: m, Session: cloneSession(orig), engine: e, before: orig}
	done := make(chan error, 1)
	e.runners.Go(func() {
		defer func() {
			if p := recover(); p != nil {
				done <- fmt.Errorf("panic: %v\n%s", p, debug.Stack())
			}
		}()
		done <- e.handler.Handle(ctx, t)
	})

	var err error
	select {
	case err = <-done:
	case <-ctx.Done():
		err = fmt.Errorf("handler did not finish: %w", ctx.Err())
		grace := time.NewTimer(e.timeout) // the store keeps the lock for twice the timeout
		select {
		case <-done:
		case <-grace.C:
			e.log.Error("handler ignores its context and still runs", "channel", m.Channel, "conv", e.pseudo.Of(m.Key()))
		}
		grace.Stop()
	}
	if err == nil {
		lang := cmp.Or(t.ReplyLang, t.Session.Lang)
		if t.forget {
			return nil, t.Replies, lang, true
		}
		return t.Session, t.Replies, lang, true
	}
	e.log.ErrorContext(ctx, "message not handled", "channel", m.Channel, "conv", e.pseudo.Of(m.Key()),
		"flow", orig.Flow, "step", orig.Step, "err", err, "timeout", errors.Is(err, context.DeadlineExceeded))
	return orig, []Reply{e.apology(orig.Lang)}, orig.Lang, false
}

func cloneSession(s *Session) *Session {
	c := *s
	c.State = maps.Clone(s.State)
	c.Vars = maps.Clone(s.Vars)
	c.Options = slices.Clone(s.Options)
	c.History = slices.Clone(s.History)
	return &c
}

// Pseudonymizer turns a conversation key (which may contain a phone number) into a
// short pseudonym fit for logs: the same conversation always gets the same one.
type Pseudonymizer interface {
	Of(key string) string
}

// NewPseudonymizer keys the pseudonyms with a secret of the deployment, so that a
// log reader cannot find a phone number by hashing every possible one. A nil secret
// gives plain hashes (tests only).
func NewPseudonymizer(secret []byte) Pseudonymizer { return hmacPseudonyms{secret} }

type hmacPseudonyms struct{ secret []byte }

func (p hmacPseudonyms) Of(key string) string {
	h := hmac.New(sha256.New, p.secret)
	h.Write([]byte(key))
	return hex.EncodeToString(h.Sum(nil)[:6])
}

// remember adds the turn to the session's history: what the person sent (an option
// by its label, a photo or a place as a mark) and what was said, keeping the newest
// lines within the limits.
func (e *Engine) remember(s, before *Session, m Message, replies []Reply, at time.Time) {
	h := e.history
	if h.Lines <= 0 {
		return
	}
	cut := func(t string) string {
		if len(t) <= h.Chars || utf8.RuneCountInString(t) <= h.Chars { // most lines: nothing to cut, nothing to copy
			return t
		}
		return string([]rune(t)[:h.Chars-1]) + "…"
	}
	lines := slices.Clone(s.History)
	if m.Kind != KindEvent {
		text := strings.TrimSpace(m.Text)
		for _, o := range before.Options {
			if m.Option != "" && o.ID == m.Option && text == "" {
				text = o.Label
			}
		}
		switch {
		case text != "":
		case m.Kind == KindImage:
			text = "[foto]"
		case m.Kind == KindLocation:
			text = "[lokasi]"
		default:
			text = "[" + string(m.Kind) + "]"
		}
		lines = append(lines, Line{From: FromCitizen, Text: cut(text), At: at})
	}
	for _, r := range replies {
		if r.Text == "" {
			continue
		}
		from := FromBot
		if r.From != "" {
			from = r.From
		}
		l := Line{From: from, Text: cut(r.Text), Options: r.Options, At: at, Status: r.Status}
		if r.Media != nil {
			l.Media = r.Media.Ref // a photo shown to the person, who may see it again
		}
		lines = append(lines, l)
	}
	if h.Age > 0 {
		lines = slices.DeleteFunc(lines, func(l Line) bool { return at.Sub(l.At) > h.Age })
	}
	if len(lines) > h.Lines {
		lines = lines[len(lines)-h.Lines:]
	}
	s.History = lines
}
