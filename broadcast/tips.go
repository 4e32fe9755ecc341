package broadcast

import (
	"context"
	"time"

	"github.com/layan-id/layan/domain"
)

// TipPool is the tips to choose from (flows.Tourism is one): NextTip returns the tip
// for a person who had the tips with the indexes in had, as often as each was had.
type TipPool interface {
	NextTip(lang string, had []int) (index int, text string)
}

// TipLog remembers which tips each subscriber had (*store.Broadcasts is one).
type TipLog interface {
	TipsHad(ctx context.Context, key string) ([]int, error)
	TipHad(ctx context.Context, key string, index int) error
}

// Rotation is the Tips of the tip of the day: each subscriber gets the tip they have
// had least often, so no tip repeats before all were sent.
type Rotation struct {
	Pool TipPool
	Log  TipLog
}

// Next implements Tips.
func (t Rotation) Next(ctx context.Context, r domain.Recipient) (string, error) {
	had, err := t.Log.TipsHad(ctx, r.Key)
	if err != nil {
		return "", err
	}
	i, text := t.Pool.NextTip(r.Lang, had)
	if err := t.Log.TipHad(ctx, r.Key, i); err != nil {
		return "", err
	}
	return text, nil
}

// TipOfTheDay is the service's own broadcast of a daily tip to the tourism topic on
// schedule (TIP_SCHEDULE), created now. Its text is chosen per person (Rotation).
func TipOfTheDay(schedule string, now time.Time) *domain.Broadcast {
	return &domain.Broadcast{
		ID: "tip-of-the-day", Kind: domain.TipOfTheDay, Topics: []string{"wisata"}, Cron: schedule,
		Text: map[string]string{"id": "(tip)"}, State: domain.BroadcastActive, CreatedBy: "system", CreatedAt: now,
	}
}
