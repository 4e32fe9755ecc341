package store

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
	"golang.org/x/crypto/argon2"

	"github.com/layan-id/layan/domain"
)

// The staff sign-in limits: after MaxSignInFailures wrong passwords in a row an
// account is locked for LockoutDuration.
const (
	MaxSignInFailures = 10
	LockoutDuration   = 15 * time.Minute
	// MinPasswordLength is the shortest password an account may have, in characters.
	MinPasswordLength = 10
)

// Errors of the staff accounts.
var (
	ErrAccountExists  = errors.New("an account of that name exists")
	ErrBadCredentials = domain.ErrBadCredentials
	ErrWeakPassword   = fmt.Errorf("the password must be at least %d characters", MinPasswordLength)
	ErrIdentityTaken  = errors.New("that chat identity is linked to another account")
)

// LockedError reports an account locked after too many wrong passwords.
type LockedError = domain.LockedError

// Staff keeps the staff accounts. All its keys share one hash tag ({staff}), so an
// account, its tokens and its chat identities change in one transaction, also on
// Redis Cluster.
//
// Keys: {staff}:accounts (a hash: name → the account as JSON, with its password's
// argon2id hash, the failed sign-ins in a row and the end of a lockout),
// {staff}:tokens (SHA-256 of a personal API token → name) and {staff}:links (chat
// identity such as telegram:123 → name). No password or token is stored in clear.
type Staff struct {
	s   *Store
	now func() time.Time
}

// Staff returns the staff account store.
func (s *Store) Staff() *Staff { return &Staff{s: s, now: time.Now} }

// WithClock returns the store reading the time from now (for tests of the lockout).
func (st *Staff) WithClock(now func() time.Time) *Staff { return &Staff{s: st.s, now: now} }

type staffRecord struct {
	domain.StaffAccount
	Password    string    `json:"password"`
	Failures    int       `json:"failures,omitempty"`
	LockedUntil time.Time `json:"locked_until,omitzero"`
	Tokens      []string  `json:"tokens,omitempty"` // SHA-256 (hex) of each personal token
}

func (st *Staff) key(kind string) string { return st.s.prefix + "{staff}:" + kind }

// Add creates an account with the given password.
func (st *Staff) Add(ctx context.Context, acc domain.StaffAccount, password string) error {
	hash, err := hashPassword(password)
	if err != nil {
		return err
	}
	acc.Created = st.now().UTC()
	acc.Links = nil
	rec := staffRecord{StaffAccount: acc, Password: hash}
	b, err := json.Marshal(&rec)
	if err != nil {
		return err
	}
	ok, err := st.s.rdb.HSetNX(ctx, st.key("accounts"), acc.Name, b).Result()
	if err != nil {
		return fmt.Errorf("store: add staff account: %w", err)
	}
	if !ok {
		return fmt.Errorf("%s: %w", acc.Name, ErrAccountExists)
	}
	return nil
}

// Get returns one account (domain.ErrNotFound when there is none of that name).
func (st *Staff) Get(ctx context.Context, name string) (domain.StaffAccount, error) {
	rec, err := st.get(ctx, st.s.rdb, name)
	if err != nil {
		return domain.StaffAccount{}, err
	}
	return rec.StaffAccount, nil
}

func (st *Staff) get(ctx context.Context, c redis.Cmdable, name string) (*staffRecord, error) {
	raw, err := c.HGet(ctx, st.key("accounts"), name).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, fmt.Errorf("staff account %s: %w", name, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("store: read staff account: %w", err)
	}
	var rec staffRecord
	if err := json.Unmarshal(raw, &rec); err != nil {
		return nil, fmt.Errorf("store: decode staff account %s: %w", name, err)
	}
	return &rec, nil
}

// List returns every account, by name.
func (st *Staff) List(ctx context.Context) ([]domain.StaffAccount, error) {
	all, err := st.s.rdb.HGetAll(ctx, st.key("accounts")).Result()
	if err != nil {
		return nil, fmt.Errorf("store: list staff accounts: %w", err)
	}
	out := make([]domain.StaffAccount, 0, len(all))
	for name, raw := range all {
		var rec staffRecord
		if err := json.Unmarshal([]byte(raw), &rec); err != nil {
			return nil, fmt.Errorf("store: decode staff account %s: %w", name, err)
		}
		out = append(out, rec.StaffAccount)
	}
	slices.SortFunc(out, func(a, b domain.StaffAccount) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// update changes one account in a transaction; f may also queue writes of the
// token and link hashes on p.
func (st *Staff) update(ctx context.Context, name string, f func(rec *staffRecord, tx *redis.Tx) (func(p redis.Pipeliner), error)) (*staffRecord, error) {
	keys := []string{st.key("accounts"), st.key("tokens"), st.key("links")}
	for range 10 {
		var out *staffRecord
		err := st.s.rdb.Watch(ctx, func(tx *redis.Tx) error {
			rec, err := st.get(ctx, tx, name)
			if err != nil {
				return err
			}
			extra, err := f(rec, tx)
			if err != nil {
				return err
			}
			b, err := json.Marshal(rec)
			if err != nil {
				return err
			}
			_, err = tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
				p.HSet(ctx, keys[0], name, b)
				if extra != nil {
					extra(p)
				}
				return nil
			})
			out = rec
			return err
		}, keys...)
		if errors.Is(err, redis.TxFailedErr) {
			continue
		}
		return out, err
	}
	return nil, fmt.Errorf("store: staff account %s changes too often", name)
}

// Disable stops an account: its password and tokens no longer let anyone in.
func (st *Staff) Disable(ctx context.Context, name string) error {
	_, err := st.update(ctx, name, func(rec *staffRecord, _ *redis.Tx) (func(redis.Pipeliner), error) {
		rec.Disabled = true
		return nil, nil
	})
	return err
}

// SetPassword replaces an account's password and lifts a lockout.
func (st *Staff) SetPassword(ctx context.Context, name, password string) error {
	hash, err := hashPassword(password)
	if err != nil {
		return err
	}
	_, err = st.update(ctx, name, func(rec *staffRecord, _ *redis.Tx) (func(redis.Pipeliner), error) {
		rec.Password, rec.Failures, rec.LockedUntil = hash, 0, time.Time{}
		return nil, nil
	})
	return err
}

// NewToken gives an account a new personal API token (32 random bytes) and returns
// it; only its SHA-256 is kept.
func (st *Staff) NewToken(ctx context.Context, name string) (string, error) {
	raw := make([]byte, 32)
	rand.Read(raw)
	token := "lyn_" + base64.RawURLEncoding.EncodeToString(raw)
	sum := tokenSum(token)
	_, err := st.update(ctx, name, func(rec *staffRecord, _ *redis.Tx) (func(redis.Pipeliner), error) {
		rec.Tokens = append(rec.Tokens, sum)
		return func(p redis.Pipeliner) { p.HSet(ctx, st.key("tokens"), sum, name) }, nil
	})
	if err != nil {
		return "", err
	}
	return token, nil
}

// ByToken returns the account a personal token belongs to; an unknown token or a
// disabled account is domain.ErrNotFound.
func (st *Staff) ByToken(ctx context.Context, token string) (domain.StaffAccount, error) {
	return st.by(ctx, "tokens", tokenSum(token))
}

// ByIdentity returns the account a chat identity (telegram:123) is linked to.
func (st *Staff) ByIdentity(ctx context.Context, identity string) (domain.StaffAccount, error) {
	return st.by(ctx, "links", identity)
}

func (st *Staff) by(ctx context.Context, kind, field string) (domain.StaffAccount, error) {
	name, err := st.s.rdb.HGet(ctx, st.key(kind), field).Result()
	if errors.Is(err, redis.Nil) {
		return domain.StaffAccount{}, ErrNotFound
	}
	if err != nil {
		return domain.StaffAccount{}, fmt.Errorf("store: staff %s: %w", kind, err)
	}
	acc, err := st.Get(ctx, name)
	if err != nil {
		return domain.StaffAccount{}, err
	}
	if acc.Disabled {
		return domain.StaffAccount{}, ErrNotFound
	}
	return acc, nil
}

// Link lets a chat identity (channel:id, e.g. telegram:123) act as the account.
func (st *Staff) Link(ctx context.Context, name, identity string) error {
	channel, id, ok := strings.Cut(identity, ":")
	if !ok || channel == "" || id == "" || strings.ContainsAny(identity, " \t\n") {
		return fmt.Errorf("%w: a chat identity is channel:id, e.g. telegram:123", domain.ErrBadAccount)
	}
	_, err := st.update(ctx, name, func(rec *staffRecord, tx *redis.Tx) (func(redis.Pipeliner), error) {
		owner, err := tx.HGet(ctx, st.key("links"), identity).Result()
		if err != nil && !errors.Is(err, redis.Nil) {
			return nil, err
		}
		if owner != "" && owner != name {
			return nil, fmt.Errorf("%s (%s): %w", identity, owner, ErrIdentityTaken)
		}
		if !slices.Contains(rec.Links, identity) {
			rec.Links = append(rec.Links, identity)
		}
		return func(p redis.Pipeliner) { p.HSet(ctx, st.key("links"), identity, name) }, nil
	})
	return err
}

// Verify checks a sign-in. A wrong password counts as a failure; after
// MaxSignInFailures in a row the account is locked for LockoutDuration and Verify
// answers a *LockedError without looking at the password. A right password resets
// the count. An unknown name, a disabled account and a wrong password are all
// ErrBadCredentials, and take about as long.
func (st *Staff) Verify(ctx context.Context, name, password string) (domain.StaffAccount, error) {
	rec, err := st.get(ctx, st.s.rdb, name)
	if errors.Is(err, ErrNotFound) {
		checkPassword(dummyHash(), password)
		return domain.StaffAccount{}, ErrBadCredentials
	}
	if err != nil {
		return domain.StaffAccount{}, err
	}
	now := st.now()
	if now.Before(rec.LockedUntil) {
		return domain.StaffAccount{}, &LockedError{Until: rec.LockedUntil}
	}
	right := checkPassword(rec.Password, password)
	if rec.Disabled {
		return domain.StaffAccount{}, ErrBadCredentials
	}
	if right && rec.Failures == 0 {
		return rec.StaffAccount, nil
	}
	var locked time.Time
	rec, err = st.update(ctx, name, func(r *staffRecord, _ *redis.Tx) (func(redis.Pipeliner), error) {
		if right {
			r.Failures = 0
			return nil, nil
		}
		r.Failures++
		if r.Failures >= MaxSignInFailures {
			r.Failures, r.LockedUntil = 0, now.Add(LockoutDuration)
			locked = r.LockedUntil
		}
		return nil, nil
	})
	if err != nil {
		return domain.StaffAccount{}, err
	}
	if !right {
		if !locked.IsZero() {
			return domain.StaffAccount{}, &LockedError{Until: locked}
		}
		return domain.StaffAccount{}, ErrBadCredentials
	}
	return rec.StaffAccount, nil
}

func tokenSum(token string) string {
	s := sha256.Sum256([]byte(token))
	return hex.EncodeToString(s[:])
}

// argon2id with RFC 9106's second recommended parameters (64 MiB, one pass, 4 lanes).
const (
	argonTime    = 1
	argonMemory  = 64 * 1024
	argonThreads = 4
	argonKeyLen  = 32
)

// dummyHash is compared with for an unknown name, so that it takes as long as a
// wrong password.
var dummyHash = sync.OnceValue(func() string { h, _ := hashPassword("not anybody's password"); return h })

func hashPassword(password string) (string, error) {
	if len([]rune(password)) < MinPasswordLength {
		return "", ErrWeakPassword
	}
	salt := make([]byte, 16)
	rand.Read(salt)
	key := argon2.IDKey([]byte(password), salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, argonMemory, argonTime, argonThreads,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key)), nil
}

// checkPassword compares a password with an encoded argon2id hash, with the
// parameters the hash was made with.
func checkPassword(encoded, password string) bool {
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false
	}
	var m, t uint32
	var p uint8
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &p); err != nil {
		return false
	}
	salt, err1 := base64.RawStdEncoding.DecodeString(parts[4])
	want, err2 := base64.RawStdEncoding.DecodeString(parts[5])
	if err1 != nil || err2 != nil {
		return false
	}
	got := argon2.IDKey([]byte(password), salt, t, m, p, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1
}
