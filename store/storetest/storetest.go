// Package storetest gives tests a store: always an in-process miniredis, and also the
// real Redis named by LAYAN_TEST_REDIS_URL when it is set (CI sets it, so every store
// behaviour is proven on real Redis). Each store gets its own key prefix and its keys
// are deleted when the test ends.
package storetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"os/exec"
	"testing"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/layan-id/layan/store"
)

// Backend is one Redis a test runs against.
type Backend struct {
	Name  string // "miniredis" or "redis"
	Store *store.Store
	Mini  *miniredis.Miniredis // nil on real Redis
}

// Backends returns miniredis and, when LAYAN_TEST_REDIS_URL is set, the real Redis.
func Backends(t testing.TB) []Backend {
	t.Helper()
	bs := []Backend{Mini(t)}
	if b, ok := Real(t); ok {
		bs = append(bs, b)
	}
	return bs
}

// Each runs f once per backend, as a subtest named after it.
func Each(t *testing.T, f func(t *testing.T, b Backend)) {
	t.Helper()
	for _, b := range Backends(t) {
		t.Run("on "+b.Name, func(t *testing.T) { f(t, b) })
	}
}

// Mini returns a store on a fresh in-process miniredis.
func Mini(t testing.TB) Backend {
	t.Helper()
	m := miniredis.RunT(t)
	rdb := redis.NewClient(&redis.Options{Addr: m.Addr()})
	t.Cleanup(func() { rdb.Close() })
	return Backend{Name: "miniredis", Store: store.New(rdb, "layan:"), Mini: m}
}

// Real returns a store on the Redis of LAYAN_TEST_REDIS_URL, under a prefix of its
// own, or false when the variable is unset.
func Real(t testing.TB) (Backend, bool) {
	t.Helper()
	url := os.Getenv("LAYAN_TEST_REDIS_URL")
	if url == "" {
		return Backend{}, false
	}
	opts, err := store.ClientOptions(url)
	if err != nil {
		t.Fatalf("LAYAN_TEST_REDIS_URL: %v", err)
	}
	rdb := store.NewClient(opts)
	ctx := context.Background()
	if err := rdb.Ping(ctx).Err(); err != nil {
		t.Fatalf("LAYAN_TEST_REDIS_URL is set but Redis does not answer: %v", err)
	}
	prefix := "layantest-" + randomHex(6) + ":"
	t.Cleanup(func() {
		iter := rdb.Scan(ctx, 0, prefix+"*", 1000).Iterator()
		for iter.Next(ctx) {
			rdb.Del(ctx, iter.Val())
		}
		rdb.Close()
	})
	return Backend{Name: "redis", Store: store.New(rdb, prefix)}, true
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// RedisServer returns the path of the redis-server binary, for tests that run their
// own servers (a replica, a cluster, a restart). Without it the test is skipped on a
// developer machine and fails where CI is set, since CI installs it (.ci/run).
func RedisServer(t testing.TB) string {
	t.Helper()
	path, err := exec.LookPath("redis-server")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("redis-server is not on PATH, and CI is set: CI must install redis-server (see .ci/run)")
		}
		t.Skip("redis-server is not on PATH: install it (apt-get install redis-server) to run this test")
	}
	return path
}
