package store

import (
	"context"
	"fmt"
	"time"

	"github.com/go-redis/redis_rate/v10"
)

// RateLimits counts requests for every replica at once: a GCRA (generic cell rate
// algorithm) in one Lua script per request, go-redis/redis_rate's. Each counter is
// one key (rate:<prefix>rl:<name>) that expires once it no longer holds anything
// back; it uses Redis's clock, so the replicas' clocks do not matter.
type RateLimits struct {
	s   *Store
	lim *redis_rate.Limiter
}

// RateLimits returns the shared rate limiter.
func (s *Store) RateLimits() *RateLimits {
	return &RateLimits{s: s, lim: redis_rate.NewLimiter(s.rdb)}
}

// Allow reports whether one more request of key may go now, at n per period with a
// burst of burst.
func (r *RateLimits) Allow(ctx context.Context, key string, n int, per time.Duration, burst int) (bool, error) {
	res, err := r.lim.Allow(ctx, r.s.prefix+"rl:"+key, redis_rate.Limit{Rate: n, Period: per, Burst: burst})
	if err != nil {
		return false, fmt.Errorf("store: rate limit: %w", err)
	}
	return res.Allowed > 0, nil
}
