package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// WhatsApp keeps the WhatsApp channel's shared state:
//
//   - wa:conn  the connection lock. WhatsApp allows one connection per linked device,
//     so of all the replicas sharing the store exactly one may connect: the one whose
//     random token is in this key. It takes the key with SET NX PX, renews it well
//     within its time to live, and deletes it when it stops; when it dies the key
//     expires and another replica takes it.
type WhatsApp struct{ s *Store }

// WhatsApp returns the WhatsApp channel's store.
func (s *Store) WhatsApp() *WhatsApp { return &WhatsApp{s: s} }

func (w *WhatsApp) connKey() string { return w.s.key("wa", "conn") }

// renewScript extends a lock only when token holds it (the WhatsApp connection's, a
// conversation's). KEYS: lock. ARGV: token, ttl ms. Returns 1 when renewed.
var renewScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
`)

// TakeConnLock makes token the holder of the connection lock for ttl when nobody
// holds it (SET NX PX) and reports whether token holds it now; taking a lock token
// already holds is true too (without extending it: that is RenewConnLock's work).
func (w *WhatsApp) TakeConnLock(ctx context.Context, token string, ttl time.Duration) (bool, error) {
	if token == "" || ttl < time.Millisecond {
		return false, errors.New("store: WhatsApp lock: a token and a ttl of at least 1 ms are required")
	}
	ok, err := w.s.rdb.SetNX(ctx, w.connKey(), token, ttl).Result()
	if err != nil {
		return false, fmt.Errorf("store: take WhatsApp connection lock: %w", err)
	}
	if ok {
		return true, nil
	}
	holder, err := w.ConnLockHolder(ctx)
	if err != nil {
		return false, err
	}
	return holder == token, nil
}

// RenewConnLock extends token's lock to ttl from now. False means token no longer
// holds it (it expired, and another replica may have taken it): stop using the
// connection at once.
func (w *WhatsApp) RenewConnLock(ctx context.Context, token string, ttl time.Duration) (bool, error) {
	n, err := renewScript.Run(ctx, w.s.rdb, []string{w.connKey()}, token, ttl.Milliseconds()).Int()
	if err != nil {
		return false, fmt.Errorf("store: renew WhatsApp connection lock: %w", err)
	}
	return n == 1, nil
}

// DropConnLock gives up token's lock, so another replica may connect at once;
// nothing happens when another token holds it.
func (w *WhatsApp) DropConnLock(ctx context.Context, token string) error {
	if err := releaseScript.Run(ctx, w.s.rdb, []string{w.connKey()}, token).Err(); err != nil {
		return fmt.Errorf("store: drop WhatsApp connection lock: %w", err)
	}
	return nil
}

// ConnLockHolder returns the token that holds the connection lock, "" when free.
func (w *WhatsApp) ConnLockHolder(ctx context.Context) (string, error) {
	v, err := w.s.rdb.Get(ctx, w.connKey()).Result()
	if errors.Is(err, redis.Nil) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("store: read WhatsApp connection lock: %w", err)
	}
	return v, nil
}
