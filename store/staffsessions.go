package store

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/layan-id/layan/domain"
)

// StaffSessions keeps the staff's web sessions in the store, so that every replica
// knows them. A session is found by the token in its cookie; only the token's
// SHA-256 is a key, so the store never holds a token that lets anyone in.
//
// Keys (under the {staff} hash tag): {staff}:session:<sha256 of the token> (the
// session as JSON; it expires when idle) and {staff}:sessions:<name> (the hashes of an
// account's sessions, to end them all; it expires with the longest session).
type StaffSessions struct{ s *Store }

// StaffSessions returns the staff web session store.
func (s *Store) StaffSessions() *StaffSessions { return &StaffSessions{s: s} }

func (ss *StaffSessions) key(sum string) string     { return ss.s.prefix + "{staff}:session:" + sum }
func (ss *StaffSessions) byName(name string) string { return ss.s.prefix + "{staff}:sessions:" + name }

// Create starts a session for the account name that ends after idle without use, or
// after max in any case, and returns its token (32 random bytes) for the cookie.
func (ss *StaffSessions) Create(ctx context.Context, name string, now time.Time, idle, max time.Duration) (string, domain.StaffSession, error) {
	token := randomToken()
	sess := domain.StaffSession{Name: name, CSRF: randomToken(), Created: now.UTC()}
	b, err := json.Marshal(sess)
	if err != nil {
		return "", domain.StaffSession{}, err
	}
	sum := tokenSum(token)
	_, err = ss.s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.Set(ctx, ss.key(sum), b, min(idle, max))
		p.SAdd(ctx, ss.byName(name), sum)
		p.Expire(ctx, ss.byName(name), max)
		return nil
	})
	if err != nil {
		return "", domain.StaffSession{}, fmt.Errorf("store: create staff session: %w", err)
	}
	return token, sess, nil
}

// Get returns the session of a token and keeps it for another idle period, never
// beyond max after it began. An unknown or expired token is ErrNotFound.
func (ss *StaffSessions) Get(ctx context.Context, token string, now time.Time, idle, max time.Duration) (domain.StaffSession, error) {
	if token == "" {
		return domain.StaffSession{}, ErrNotFound
	}
	k := ss.key(tokenSum(token))
	raw, err := ss.s.rdb.Get(ctx, k).Bytes()
	if errors.Is(err, redis.Nil) {
		return domain.StaffSession{}, ErrNotFound
	}
	if err != nil {
		return domain.StaffSession{}, fmt.Errorf("store: read staff session: %w", err)
	}
	var sess domain.StaffSession
	if err := json.Unmarshal(raw, &sess); err != nil {
		return domain.StaffSession{}, fmt.Errorf("store: decode staff session: %w", err)
	}
	left := sess.Created.Add(max).Sub(now)
	if left <= 0 {
		ss.s.rdb.Del(ctx, k)
		return domain.StaffSession{}, ErrNotFound
	}
	if err := ss.s.rdb.Expire(ctx, k, min(idle, left)).Err(); err != nil {
		return domain.StaffSession{}, fmt.Errorf("store: keep staff session: %w", err)
	}
	return sess, nil
}

// Delete ends the session of a token (signing out); an unknown token is no error.
func (ss *StaffSessions) Delete(ctx context.Context, token string) error {
	if err := ss.s.rdb.Del(ctx, ss.key(tokenSum(token))).Err(); err != nil {
		return fmt.Errorf("store: end staff session: %w", err)
	}
	return nil
}

// DeleteAll ends every session of the account name but the one of keep (a token, or
// "" for none): after a password change, or when an account is disabled.
func (ss *StaffSessions) DeleteAll(ctx context.Context, name, keep string) error {
	sums, err := ss.s.rdb.SMembers(ctx, ss.byName(name)).Result()
	if err != nil {
		return fmt.Errorf("store: list staff sessions: %w", err)
	}
	kept := ""
	if keep != "" {
		kept = tokenSum(keep)
	}
	_, err = ss.s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		for _, sum := range sums {
			if sum != kept {
				p.Del(ctx, ss.key(sum))
				p.SRem(ctx, ss.byName(name), sum)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: end staff sessions: %w", err)
	}
	return nil
}

// randomToken is 32 random bytes, URL-safe base64.
func randomToken() string {
	raw := make([]byte, 32)
	rand.Read(raw)
	return base64.RawURLEncoding.EncodeToString(raw)
}
