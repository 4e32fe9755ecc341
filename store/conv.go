package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	cryptorand "crypto/rand"

	"github.com/redis/go-redis/v9"

	"github.com/layan-id/layan/bot"
)

var _ bot.ConversationStore = (*Conversations)(nil)

// ErrLockLost means a conversation's lock expired while a message was being handled
// and another worker may have taken it: the turn is not saved.
var ErrLockLost = errors.New("store: conversation lock lost")

// Conversations keeps sessions, per-conversation locks and the memory of handled
// message ids. Each Acquire and each Commit is one round trip to Redis (a Lua script),
// so handling a message costs two round trips plus what the flows themselves store.
type Conversations struct {
	s          *Store
	lockTTL    time.Duration
	sessionTTL time.Duration
}

// Conversations returns the conversation store. lockTTL bounds how long a crashed
// worker can hold a conversation (it must exceed twice the engine's per-message timeout
// plus a few seconds: see bot.EngineConfig.Timeout);
// sessionTTL is how long a silent conversation is remembered.
func (s *Store) Conversations(lockTTL, sessionTTL time.Duration) *Conversations {
	return &Conversations{s: s, lockTTL: lockTTL, sessionTTL: sessionTTL}
}

// acquireScript takes the lock when free and reads the session and the dedupe mark.
// KEYS: lock, session, seen. ARGV: token, lock ttl ms, "1" when there is a message id.
// Returns {0} when the lock is held by someone else, else {1, session, seen?, seenValue}.
var acquireScript = redis.NewScript(`
if not redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return {0} end
local sess = redis.call('GET', KEYS[2]) or ''
local seen = false
if ARGV[3] == '1' then seen = redis.call('GET', KEYS[3]) end
if seen then return {1, sess, 1, seen} end
return {1, sess, 0, ''}
`)

// commitScript saves (or, given an empty session, deletes) the session, saves the
// dedupe mark and releases the lock, only when the lock is still ours. KEYS: lock,
// session, seen. ARGV: token, session, session ttl ms, seen value, seen ttl ms, "1"
// when there is a message id.
var commitScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
if ARGV[2] == '' then redis.call('DEL', KEYS[2]) else redis.call('SET', KEYS[2], ARGV[2], 'PX', ARGV[3]) end
if ARGV[6] == '1' then redis.call('SET', KEYS[3], ARGV[4], 'PX', ARGV[5]) end
redis.call('DEL', KEYS[1])
return 1
`)

// releaseScript deletes the lock only when it is still ours. KEYS: lock. ARGV: token.
var releaseScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`)

func (c *Conversations) keys(conv, msgID string) []string {
	return []string{
		c.s.convKey(conv, "lock"),
		c.s.convKey(conv, "session"),
		c.s.convKey(conv, "seen:"+shortID(msgID)),
	}
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
	keys := c.keys(conv, msgID)
	hasID := "0"
	if msgID != "" {
		hasID = "1"
	}
	pause := 2 * time.Millisecond
	for {
		res, err := acquireScript.Run(ctx, c.s.rdb, keys, token, c.lockTTL.Milliseconds(), hasID).Slice()
		if err != nil {
			return nil, fmt.Errorf("store: acquire conversation: %w", err)
		}
		if res[0].(int64) == 1 {
			return c.claim(conv, msgID, token, res)
		}
		t := time.NewTimer(pause/2 + rand.N(pause))
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, fmt.Errorf("store: wait for conversation lock: %w", ctx.Err())
		case <-t.C:
		}
		pause = min(pause*2, 50*time.Millisecond)
	}
}

func (c *Conversations) claim(conv, msgID, token string, res []any) (*bot.Claim, error) {
	cl := &bot.Claim{Key: conv, MsgID: msgID, Token: token, Session: &bot.Session{}}
	if raw, _ := res[1].(string); raw != "" {
		if err := json.Unmarshal([]byte(raw), cl.Session); err != nil {
			// A session we cannot read must not lock the person out: start afresh.
			cl.Session = &bot.Session{}
		}
	}
	if res[2].(int64) == 1 {
		cl.Duplicate = true
		raw, _ := res[3].(string)
		_ = json.Unmarshal([]byte(raw), &cl.Replies) // replies are a courtesy; a bad mark is still a mark
	}
	return cl, nil
}

// Commit implements bot.ConversationStore.
func (c *Conversations) Commit(ctx context.Context, cl *bot.Claim, s *bot.Session, replies []bot.Reply) error {
	var sess []byte // empty: forget the session
	if s != nil {
		var err error
		if sess, err = json.Marshal(s); err != nil {
			return fmt.Errorf("store: encode session: %w", err)
		}
	}
	seen, err := json.Marshal(replies)
	if err != nil {
		return fmt.Errorf("store: encode replies: %w", err)
	}
	hasID := "0"
	if cl.MsgID != "" {
		hasID = "1"
	}
	ok, err := commitScript.Run(ctx, c.s.rdb, c.keys(cl.Key, cl.MsgID), cl.Token,
		string(sess), c.sessionTTL.Milliseconds(), string(seen), bot.DedupeWindow.Milliseconds(), hasID).Int()
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
	if err := releaseScript.Run(ctx, c.s.rdb, c.keys(cl.Key, "")[:1], cl.Token).Err(); err != nil {
		return fmt.Errorf("store: release conversation: %w", err)
	}
	return nil
}

// newToken returns 128 random bits as hex.
func newToken() string {
	b := make([]byte, 16)
	cryptorand.Read(b)
	return hex.EncodeToString(b)
}
