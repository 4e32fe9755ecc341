package store

import (
	"context"
	cryptorand "crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"sync"
	"time"

	json "github.com/goccy/go-json" // the same JSON as encoding/json, read 2-5 times as fast: sessions carry their history
	"github.com/redis/go-redis/v9"

	"github.com/layan-id/layan/bot"
)

var _ bot.ConversationStore = (*Conversations)(nil)

// ErrLockLost means a conversation's lock expired while a message was being handled
// and another worker may have taken it: the turn is not saved.
var ErrLockLost = errors.New("store: conversation lock lost")

// Conversations keeps sessions, per-conversation locks and the memory of handled
// message ids. Each Acquire (SET NX of the lock with the reads, sent together) and
// each Commit (a Lua script that checks the lock) is one round trip to Redis, shared
// with the conversations handled at the same moment (the store's pipelines), so
// handling a message costs two round trips plus what the flows themselves store.
//
// The memory of handled messages is two keys per conversation, both under its hash
// tag: {c:conv}:seen, a sorted set of the ids handled in the last 48 hours scored by
// the second they were handled (a few dozen bytes per message), and
// {c:conv}:ans:<id>, the replies given to one message, kept 1 hour so that a client
// retrying a lost response gets the same answer. After that hour a redelivery is
// still dropped, and answered with nothing.
//
// The per-conversation lock is a lease: taken for lockTTL and renewed every lockTTL/4
// while the turn runs (until Commit or Release), so a turn may take as long as it
// needs while a process that died mid-turn frees the conversation within lockTTL.
type Conversations struct {
	s          *Store
	lockTTL    time.Duration
	sessionTTL time.Duration
	now        func() time.Time
	held       *heldLocks
	history    int // recent messages kept in their own list (WithHistory); 0: in the session
}

// MaxLockHold bounds how long one turn keeps renewing its lock: past it the lease
// lapses even if Commit or Release never came (a stuck turn must not lock a person
// out forever). The engine ends every turn well before (twice its handler timeout
// plus its store calls).
const MaxLockHold = time.Minute

// pruneEvery: about one commit in pruneEvery drops the conversation's marks older than
// bot.DedupeWindow, so that the seen set stays small without every commit paying for it.
const pruneEvery = 16

// AnswerWindow is how long the replies to a handled message are kept for a client
// that retries it; the id alone is kept for bot.DedupeWindow.
const AnswerWindow = time.Hour

// Conversations returns the conversation store. lockTTL is the lock's lease: how long
// a process that died mid-turn keeps the conversation locked (a few seconds; the lease
// is renewed every lockTTL/4 while a turn runs, so it must exceed a few round trips
// to Redis). sessionTTL is how long a silent conversation is remembered.
func (s *Store) Conversations(lockTTL, sessionTTL time.Duration) *Conversations {
	c := &Conversations{s: s, lockTTL: lockTTL, sessionTTL: sessionTTL, now: time.Now}
	c.held = newHeldLocks(lockTTL/4, c.renew)
	return c
}

// WithHistory returns the store keeping the newest lines of each conversation's
// recent messages (bot.Session.History) in a list of their own, {c:conv}:history,
// instead of in its session: a turn then reads and writes a session of a few hundred
// bytes, not one with the whole transcript, and adds its lines to the list. The list
// expires with the session; the engine drops lines older than its limit when reading
// them (History). A session saved with its history (by a version before, or by a
// store without WithHistory) has it moved into the list at its next save.
func (c *Conversations) WithHistory(lines int) *Conversations {
	cc := *c
	cc.history = lines
	return &cc
}

// History implements bot.HistoryReader.
func (c *Conversations) History(ctx context.Context, conv string) ([]bot.Line, error) {
	raw, err := c.s.rdb.LRange(ctx, c.historyKey(conv), 0, -1).Result()
	if err != nil {
		return nil, fmt.Errorf("store: read recent messages: %w", err)
	}
	lines := make([]bot.Line, 0, len(raw))
	for _, r := range raw {
		var l bot.Line
		if err := json.Unmarshal([]byte(r), &l); err != nil {
			continue // one unreadable line does not hide the others
		}
		lines = append(lines, l)
	}
	return lines, nil
}

// WithClock returns the store reading the time from now (for tests): the dedupe and
// answer windows are judged by it, not by Redis's clock.
func (c *Conversations) WithClock(now func() time.Time) *Conversations {
	cc := *c
	cc.now = now
	return &cc
}

// commitScript saves (or, given an empty session, deletes) the session with its
// recent messages, records the message id and its answer, and releases the lock,
// only when the lock is still ours. KEYS: lock, session, seen, answer, history.
// ARGV: token, session, session ttl ms, answer ("" to keep none), "1" when there is a
// message id, the id, now (unix seconds), the second before which marks are dropped
// ("" to drop none this time), dedupe window ms, answer window ms, how many recent
// messages to keep ("0": the session holds them, not the history list), then the
// messages to add to the history, one JSON line each.
var commitScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
if ARGV[2] == '' then
  redis.call('DEL', KEYS[2], KEYS[5])
else
  redis.call('SET', KEYS[2], ARGV[2], 'PX', ARGV[3])
  if #ARGV > 11 and redis.call('RPUSH', KEYS[5], unpack(ARGV, 12)) > tonumber(ARGV[11]) then
    redis.call('LTRIM', KEYS[5], -tonumber(ARGV[11]), -1)
  end
  if ARGV[11] ~= '0' then redis.call('PEXPIRE', KEYS[5], ARGV[3]) end
end
if ARGV[5] == '1' then
  if ARGV[8] ~= '' then redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', ARGV[8]) end
  redis.call('ZADD', KEYS[3], ARGV[7], ARGV[6])
  redis.call('PEXPIRE', KEYS[3], ARGV[9])
  if ARGV[4] ~= '' then redis.call('SET', KEYS[4], ARGV[4], 'PX', ARGV[10]) end
end
redis.call('DEL', KEYS[1])
return 1
`)

// releaseScript deletes the lock only when it is still ours. KEYS: lock. ARGV: token.
var releaseScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`)

// The kinds of key of one conversation (after {c:conv}:) that this file writes.
const (
	kindLock    = "lock"
	kindSession = "session"
	kindSeen    = "seen"
	kindHistory = "history"
	kindAnswer  = "ans:" // + shortID(message id)
	kindLegacy  = "seen:"
)

// lockKey, sessionKey and the others name the keys of one conversation.
func (c *Conversations) lockKey(conv string) string    { return c.s.convKey(conv, kindLock) }
func (c *Conversations) sessionKey(conv string) string { return c.s.convKey(conv, kindSession) }
func (c *Conversations) seenKey(conv string) string    { return c.s.convKey(conv, kindSeen) }
func (c *Conversations) historyKey(conv string) string { return c.s.convKey(conv, kindHistory) }
func (c *Conversations) answerKey(conv, msgID string) string {
	return c.s.convKey(conv, kindAnswer+shortID(msgID))
}
func (c *Conversations) legacyKey(conv, msgID string) string {
	return c.s.convKey(conv, kindLegacy+shortID(msgID))
}

// shortID keeps message ids of sane length in key names.
func shortID(id string) string {
	if len(id) <= 96 {
		return id
	}
	sum := sha256.Sum256([]byte(id))
	return hex.EncodeToString(sum[:16])
}

// Acquire implements bot.ConversationStore. While another worker holds the lock it
// polls with a growing, jittered pause (2 ms up to 50 ms) until ctx ends.
func (c *Conversations) Acquire(ctx context.Context, conv, msgID string) (*bot.Claim, error) {
	token := newToken()
	lockKey, sessionKey := c.lockKey(conv), c.sessionKey(conv)
	var seenKey, legacyKey string
	if msgID != "" {
		seenKey, legacyKey = c.seenKey(conv), c.legacyKey(conv, msgID)
	}
	id := shortID(msgID)
	pause := bot.Backoff(2*time.Millisecond, 50*time.Millisecond)
	for {
		// Plain commands, no script: one SET NX and reads, sent together. What they
		// read is what the holder before us left: every writer of these keys holds
		// the lock (Commit checks it in its script), so once our SET NX succeeded
		// nothing changes them but us. When it failed, the reads are dropped.
		lock := redis.NewStatusCmd(ctx, "set", lockKey, token, "px", c.lockTTL.Milliseconds(), "nx")
		sess := redis.NewStringCmd(ctx, "get", sessionKey)
		cmds := []redis.Cmder{lock, sess}
		var seen *redis.FloatCmd
		var legacyTTL *redis.DurationCmd
		if msgID != "" {
			// Whether the message was handled; what was answered then is read
			// afterwards, only for a message that was (a redelivery is rare).
			seen = redis.NewFloatCmd(ctx, "zscore", seenKey, id)
			legacyTTL = redis.NewDurationCmd(ctx, time.Millisecond, "pttl", legacyKey)
			cmds = append(cmds, seen, legacyTTL)
		}
		if err := c.s.batch.do(ctx, cmds...); err != nil && ctx.Err() != nil {
			return nil, fmt.Errorf("store: acquire conversation: %w", ctx.Err())
		}
		if err := failure(cmds); err != nil {
			return nil, fmt.Errorf("store: acquire conversation: %w", err)
		}
		if lock.Val() != "OK" {
			if err := bot.Sleep(ctx, pause.NextBackOff()); err != nil {
				return nil, fmt.Errorf("store: wait for conversation lock: %w", err)
			}
			continue
		}
		c.hold(lockKey, token)
		cl := c.claim(conv, msgID, token, sess.Val())
		if msgID == "" {
			return cl, nil
		}
		answerKey := c.mark(cl, seen, legacyTTL)
		if answerKey == "" {
			return cl, nil
		}
		if err := c.answer(ctx, cl, answerKey); err != nil {
			_ = c.Release(context.WithoutCancel(ctx), cl)
			return nil, err
		}
		return cl, nil
	}
}

// failure is the first error among cmds other than redis.Nil (a key that is not
// there, a lock not taken), or nil.
func failure(cmds []redis.Cmder) error {
	for _, c := range cmds {
		if err := c.Err(); err != nil && !errors.Is(err, redis.Nil) {
			return err
		}
	}
	return nil
}

// claim is the claim on conv with the session read under the lock.
func (c *Conversations) claim(conv, msgID, token, raw string) *bot.Claim {
	cl := &bot.Claim{Key: conv, MsgID: msgID, Token: token, Session: &bot.Session{}}
	if raw != "" {
		if err := json.Unmarshal([]byte(raw), cl.Session); err != nil {
			// A session we cannot read must not lock the person out: start afresh.
			cl.Session = &bot.Session{}
		}
	}
	return cl
}

// mark marks cl Duplicate when its message was handled before: a mark within
// bot.DedupeWindow in the seen set, or a mark of the earlier one-key-per-message
// format. It returns the key holding the answer given then when it is still kept
// (AnswerWindow), else "".
func (c *Conversations) mark(cl *bot.Claim, seen *redis.FloatCmd, legacyTTL *redis.DurationCmd) (answerKey string) {
	now := c.now().Unix()
	switch {
	case seen.Err() == nil && int64(seen.Val()) > now-int64(bot.DedupeWindow/time.Second):
		cl.Duplicate = true
		if int64(seen.Val()) > now-int64(AnswerWindow/time.Second) {
			return c.answerKey(cl.Key, cl.MsgID)
		}
	case legacyTTL.Err() == nil && legacyTTL.Val() > 0: // a mark of before the seen set; it expires within 48 hours
		cl.Duplicate = true
		if legacyTTL.Val() >= bot.DedupeWindow-AnswerWindow {
			return c.legacyKey(cl.Key, cl.MsgID)
		}
	}
	return ""
}

// answer reads the replies given to a duplicate's message the first time.
func (c *Conversations) answer(ctx context.Context, cl *bot.Claim, key string) error {
	ans, err := c.s.rdb.Get(ctx, key).Result()
	if errors.Is(err, redis.Nil) {
		return nil // expired since: dropped without an answer
	}
	if err != nil {
		return fmt.Errorf("store: read the answer to a redelivered message: %w", err)
	}
	_ = json.Unmarshal([]byte(ans), &cl.Replies) // replies are a courtesy; a bad mark is still a mark
	return nil
}

// Commit implements bot.ConversationStore.
func (c *Conversations) Commit(ctx context.Context, cl *bot.Claim, s *bot.Session, replies []bot.Reply) error {
	var sess []byte // empty: forget the session
	var lines []any // for the history list
	if s != nil {
		if c.history > 0 && len(s.History) > 0 {
			lines = make([]any, len(s.History))
			for i, l := range s.History {
				b, err := json.Marshal(l)
				if err != nil {
					return fmt.Errorf("store: encode recent messages: %w", err)
				}
				lines[i] = b
			}
			without := *s
			without.History = nil
			s = &without
		}
		var err error
		if sess, err = json.Marshal(s); err != nil {
			return fmt.Errorf("store: encode session: %w", err)
		}
	}
	// The answer is kept for a client's retry; not when the person asked to be
	// forgotten (only the bare id stays then, see Privacy.Erase).
	var answer []byte
	if s != nil && len(replies) > 0 {
		var err error
		if answer, err = json.Marshal(replies); err != nil {
			return fmt.Errorf("store: encode replies: %w", err)
		}
	}
	hasID := "0"
	if cl.MsgID != "" {
		hasID = "1"
	}
	c.held.end(cl.Token)
	now := c.now().Unix()
	prune := "" // old marks are dropped now and then: a mark past the window counts for nothing
	if rand.IntN(pruneEvery) == 0 {
		prune = strconv.FormatInt(now-int64(bot.DedupeWindow/time.Second), 10)
	}
	keys := []string{c.lockKey(cl.Key), c.sessionKey(cl.Key), c.seenKey(cl.Key), c.answerKey(cl.Key, cl.MsgID), c.historyKey(cl.Key)}
	args := append([]any{cl.Token, sess, c.sessionTTL.Milliseconds(), answer, hasID, shortID(cl.MsgID),
		now, prune, bot.DedupeWindow.Milliseconds(), AnswerWindow.Milliseconds(), c.history}, lines...)
	ok, err := c.s.batch.run(ctx, commitScript, keys, args...).Int()
	if err != nil {
		return fmt.Errorf("store: commit conversation: %w", err)
	}
	if ok != 1 {
		return ErrLockLost
	}
	return nil
}

// Release implements bot.ConversationStore.
func (c *Conversations) Release(ctx context.Context, cl *bot.Claim) error {
	c.held.end(cl.Token)
	if err := c.s.batch.run(ctx, releaseScript, []string{c.lockKey(cl.Key)}, cl.Token).Err(); err != nil {
		return fmt.Errorf("store: release conversation: %w", err)
	}
	return nil
}

// hold has the lease on lock (ours by token) renewed while the turn runs: until
// Commit or Release ends it, the lock turns out lost, or MaxLockHold passed.
func (c *Conversations) hold(lock, token string) { c.held.start(token, lock, time.Now()) }

// renew extends the lease on lock when token still holds it, and reports whether to
// go on renewing it: a failed call may succeed next time, a lost lock will not come
// back.
func (c *Conversations) renew(ctx context.Context, lock, token string) bool {
	ok, err := renewScript.Run(ctx, c.s.rdb, []string{lock}, token, c.lockTTL.Milliseconds()).Int()
	return err != nil || ok == 1
}

// heldLocks are the locks of the turns under way in this process, by token. One
// timer, set when a lock is taken and none was held at its last tick, renews every
// period each lock taken a period ago or more: a lock's first renewal comes within
// two periods, and each call is bounded by a period. Most turns end long before; a
// turn costs a map entry.
type heldLocks struct {
	period time.Duration
	renew  func(ctx context.Context, lock, token string) bool

	mu    sync.Mutex
	locks map[string]heldLock
	timer *time.Timer // nil from a tick that found no lock held
}

type heldLock struct {
	key   string
	since time.Time
}

func newHeldLocks(period time.Duration, renew func(ctx context.Context, lock, token string) bool) *heldLocks {
	return &heldLocks{period: period, renew: renew, locks: map[string]heldLock{}}
}

func (h *heldLocks) start(token, lock string, now time.Time) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.locks[token] = heldLock{key: lock, since: now}
	if h.timer == nil {
		h.timer = time.AfterFunc(h.period, h.tick)
	}
}

// end stops renewing the lock of token, if it still is.
func (h *heldLocks) end(token string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.locks, token)
}

// tick renews the locks that are due, then sets the timer again while any is held.
func (h *heldLocks) tick() {
	for token, l := range h.due(time.Now()) {
		ctx, cancel := context.WithTimeout(context.Background(), h.period)
		if !h.renew(ctx, l.key, token) {
			h.end(token)
		}
		cancel()
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.locks) == 0 {
		h.timer = nil // the next lock taken sets it again
		return
	}
	h.timer.Reset(h.period)
}

// due returns the locks taken a period ago or more, forgetting those held beyond
// MaxLockHold.
func (h *heldLocks) due(now time.Time) map[string]heldLock {
	h.mu.Lock()
	defer h.mu.Unlock()
	var due map[string]heldLock
	for token, l := range h.locks {
		switch held := now.Sub(l.since); {
		case held >= MaxLockHold:
			delete(h.locks, token)
		case held >= h.period:
			if due == nil {
				due = map[string]heldLock{}
			}
			due[token] = l
		}
	}
	return due
}

// newToken returns 128 random bits as hex.
func newToken() string {
	b := make([]byte, 16)
	cryptorand.Read(b)
	return hex.EncodeToString(b)
}
