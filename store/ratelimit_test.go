package store_test

import (
	"context"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/layan-id/layan/store"
	"github.com/layan-id/layan/store/storetest"
)

// TestRateLimitsAreSharedByReplicas: two replicas on one Redis share one count (a
// burst of 3 at 1 a minute lets 3 requests through in all, not 3 each), a client is
// counted apart from another, and the GCRA script runs on miniredis, the embedded
// store (whose clock moves once a second, journalled) and a real Redis.
func TestRateLimitsAreSharedByReplicas(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		var other redis.UniversalClient
		if b.Mini != nil {
			other = redis.NewClient(&redis.Options{Addr: b.Mini.Addr()})
		} else {
			opts, err := store.ClientOptions(os.Getenv("LAYAN_TEST_REDIS_URL"))
			if err != nil {
				t.Fatal(err)
			}
			other = store.NewClient(opts)
		}
		t.Cleanup(func() { other.Close() })
		replicas := []*store.RateLimits{b.Store.RateLimits(), store.New(other, b.Store.Prefix()).RateLimits()}
		sharedBurst(t, replicas)
	})
	t.Run("on the embedded store", func(t *testing.T) {
		e, err := store.StartEmbedded(t.Context(), t.TempDir(), slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { e.Close(context.Background()) })
		sharedBurst(t, []*store.RateLimits{store.New(e.Client(), "layan:").RateLimits()})
	})
}

func sharedBurst(t *testing.T, replicas []*store.RateLimits) {
	t.Helper()
	ctx := context.Background()
	allowed := 0
	for i := range 8 {
		ok, err := replicas[i%len(replicas)].Allow(ctx, "new:198.51.100.7", 1, time.Minute, 3)
		if err != nil {
			t.Fatal(err)
		}
		if ok {
			allowed++
		}
	}
	if allowed != 3 {
		t.Errorf("%d of 8 requests of one client through %d replicas allowed, want the burst of 3 in all", allowed, len(replicas))
	}
	if ok, err := replicas[0].Allow(ctx, "new:203.0.113.9", 1, time.Minute, 3); err != nil || !ok {
		t.Errorf("another client was held back by the first one's count (%v)", err)
	}
}
