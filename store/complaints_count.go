package store

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/layan-id/layan/domain"
)

// Counts returns how many complaints are in each status, and how many of those still
// received (not yet verified) were filed before overdueBefore, from the status
// indexes in one round trip, whatever the number of complaints (for metrics).
func (c *Complaints) Counts(ctx context.Context, overdueBefore time.Time) (map[domain.Status]int64, int64, error) {
	statuses := domain.Statuses()
	cards := make([]*redis.IntCmd, len(statuses))
	var overdue *redis.IntCmd
	_, err := c.s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, st := range statuses {
			cards[i] = p.ZCard(ctx, c.key("status", string(st)))
		}
		overdue = p.ZCount(ctx, c.key("status", string(domain.StatusReceived)), "-inf", "("+strconv.FormatInt(overdueBefore.UnixMilli(), 10))
		return nil
	})
	if err != nil {
		return nil, 0, fmt.Errorf("store: count complaints: %w", err)
	}
	out := make(map[domain.Status]int64, len(statuses))
	for i, st := range statuses {
		out[st] = cards[i].Val()
	}
	return out, overdue.Val(), nil
}
