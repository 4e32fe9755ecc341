package store

import (
	"context"
	"time"

	"github.com/layan-id/layan/domain"
)

// Counts returns how many complaints are in each status, and how many are past their
// running deadline at now, from the indexes in one round trip, whatever the number of
// complaints (for metrics).
func (c *Complaints) Counts(ctx context.Context, now time.Time) (map[domain.Status]int64, int64, error) {
	page := domain.InboxPage{Counts: map[domain.Status]int64{}}
	if err := c.counts(ctx, "", now, &page); err != nil {
		return nil, 0, err
	}
	return page.Counts, page.Overdue, nil
}
