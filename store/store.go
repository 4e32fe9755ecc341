// Package store keeps everything Layan must remember in Redis, through go-redis's
// UniversalClient: sessions, the memory of handled messages, per-chat locks, web chat
// tokens and inboxes, complaints, subscribers, broadcasts, handoffs, and the reliable
// queues (Queue): the webhooks' updates, the outbox and complaint news.
//
// The Redis is a real one (ClientOptions reads REDIS_URL) or the embedded default
// (StartEmbedded): an in-process miniredis whose every write is journalled and fsynced
// before it is acknowledged, replayed at start over a snapshot rebuilt in the
// background (see Embedded).
//
// Every key starts with a configurable prefix (default "layan:") so several regions can
// share one Redis. Keys of one conversation share a hash tag ({c:<key>}) so the Lua
// scripts that touch them work on Redis Cluster.
package store

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// Store is the Redis-backed store. Its methods are safe for concurrent use.
type Store struct {
	rdb    redis.UniversalClient
	prefix string
	// runLayouts remembers, per broadcast run, under which keys it lives (see
	// Broadcasts.keysOf); a run's layout never changes.
	runLayouts *sync.Map
	// batch sends the hot path's commands (conversation locks, webhook queues) of
	// concurrent callers in pipelines.
	batch *batcher
	// unreplicated counts promises no replica confirmed in time (see promise).
	unreplicated *atomic.Int64
}

// New wraps a connected client. prefix is prepended to every key.
func New(rdb redis.UniversalClient, prefix string) *Store {
	return &Store{rdb: rdb, prefix: prefix, runLayouts: &sync.Map{}, batch: newBatcher(rdb), unreplicated: &atomic.Int64{}}
}

// Client returns the underlying client (for backups and benchmarks).
func (s *Store) Client() redis.UniversalClient { return s.rdb }

// Prefix returns the key prefix.
func (s *Store) Prefix() string { return s.prefix }

// Ping reports whether the store can serve: Redis answers, and on Redis Cluster every
// master answers and the cluster covers every slot (a dead master not yet replaced
// makes it fail).
func (s *Store) Ping(ctx context.Context) error {
	if cc, ok := s.rdb.(*redis.ClusterClient); ok {
		if err := clusterReady(ctx, cc); err != nil {
			return fmt.Errorf("store: cluster: %w", err)
		}
		return nil
	}
	if err := s.rdb.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("store: ping: %w", err)
	}
	return nil
}

// key builds a prefixed key from parts joined by ':'.
func (s *Store) key(parts ...string) string {
	return s.prefix + strings.Join(parts, ":")
}

// convKey builds a key of one conversation; all of them share the hash tag {c:conv}.
func (s *Store) convKey(conv, kind string) string {
	return s.prefix + "{c:" + conv + "}:" + kind
}

// ClientOptions turns a REDIS_URL into options for NewClient.
//
// Accepted forms:
//
//	redis://[user:pass@]host:port[/db][?pool_size=…&dial_timeout=…]   one server (go-redis's options)
//	rediss://...                                   the same over TLS
//	redis+sentinel://[user:pass@]h1:p1,h2:p2/master[/db]   Sentinel, master name after the hosts
//	redis+cluster://[user:pass@]h1:p1,h2:p2         Redis Cluster
func ClientOptions(raw string) (*redis.UniversalOptions, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("store: parse REDIS_URL: %w", redactURLError(err))
	}
	var o *redis.UniversalOptions
	switch u.Scheme {
	case "redis", "rediss":
		single, err := redis.ParseURL(raw)
		if err != nil {
			return nil, fmt.Errorf("store: parse REDIS_URL: %w", redactURLError(err))
		}
		o = &redis.UniversalOptions{
			Addrs: []string{single.Addr}, Username: single.Username, Password: single.Password,
			DB: single.DB, TLSConfig: single.TLSConfig, Protocol: single.Protocol,
			ClientName: single.ClientName, MaxRetries: single.MaxRetries,
			MinRetryBackoff: single.MinRetryBackoff, MaxRetryBackoff: single.MaxRetryBackoff,
			DialTimeout: single.DialTimeout, ReadTimeout: single.ReadTimeout, WriteTimeout: single.WriteTimeout,
			PoolFIFO: single.PoolFIFO, PoolSize: single.PoolSize, PoolTimeout: single.PoolTimeout,
			MinIdleConns: single.MinIdleConns, MaxIdleConns: single.MaxIdleConns, MaxActiveConns: single.MaxActiveConns,
			ConnMaxIdleTime: single.ConnMaxIdleTime, ConnMaxLifetime: single.ConnMaxLifetime,
		}
	case "redis+sentinel", "rediss+sentinel", "redis+cluster", "rediss+cluster":
		o = &redis.UniversalOptions{Addrs: strings.Split(u.Host, ",")}
		if u.User != nil {
			o.Username = u.User.Username()
			o.Password, _ = u.User.Password()
		}
		if strings.HasPrefix(u.Scheme, "rediss") {
			o.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS12}
		}
		path := strings.Split(strings.Trim(u.Path, "/"), "/")
		if strings.HasSuffix(u.Scheme, "sentinel") {
			if path[0] == "" {
				return nil, fmt.Errorf("store: REDIS_URL: a sentinel URL needs the master name as its path")
			}
			o.MasterName = path[0]
			if len(path) > 1 {
				if _, err := fmt.Sscan(path[1], &o.DB); err != nil {
					return nil, fmt.Errorf("store: REDIS_URL: bad db number %q", path[1])
				}
			}
		} else {
			o.IsClusterMode = true
		}
	default:
		return nil, fmt.Errorf("store: REDIS_URL: unsupported scheme %q (want redis, rediss, redis+sentinel or redis+cluster)", u.Scheme)
	}
	o.ContextTimeoutEnabled = true
	if o.DialTimeout == 0 {
		o.DialTimeout = 5 * time.Second
	}
	return o, nil
}

// redactURLError drops the URL (which may hold a password) from a parse error.
func redactURLError(err error) error {
	if ue, ok := err.(*url.Error); ok {
		return ue.Err
	}
	return err
}

// Secret returns the deployment's secret of the given name, creating 32 random bytes
// the first time; every replica sharing the store gets the same one.
func (s *Store) Secret(ctx context.Context, name string) ([]byte, error) {
	key := s.key("secret", name)
	fresh := make([]byte, 32)
	rand.Read(fresh)
	if err := s.rdb.SetNX(ctx, key, fresh, 0).Err(); err != nil {
		return nil, fmt.Errorf("store: create secret %s: %w", name, err)
	}
	b, err := s.rdb.Get(ctx, key).Bytes()
	if err != nil {
		return nil, fmt.Errorf("store: read secret %s: %w", name, err)
	}
	return b, nil
}
