package main

import (
	"context"

	"github.com/layan-id/layan/domain"
	"github.com/layan-id/layan/flows"
	"github.com/layan-id/layan/store"
)

// tips gives each subscriber of the tourism topic the tip they have had least often,
// so no tip repeats before all were sent.
type tips struct {
	tourism flows.Tourism
	store   *store.Broadcasts
}

// Next implements broadcast.Tips.
func (t tips) Next(ctx context.Context, r domain.Recipient) (string, error) {
	had, err := t.store.TipsHad(ctx, r.Key)
	if err != nil {
		return "", err
	}
	i, text := t.tourism.NextTip(r.Lang, had)
	if err := t.store.TipHad(ctx, r.Key, i); err != nil {
		return "", err
	}
	return text, nil
}

// tipOfTheDay is the service's own broadcast of a daily tip to the tourism topic.
func tipOfTheDay(schedule string) *domain.Broadcast {
	return &domain.Broadcast{
		ID: "tip-of-the-day", Kind: domain.TipOfTheDay, Topics: []string{"wisata"}, Cron: schedule,
		Text: map[string]string{"id": "(tip)"}, State: domain.BroadcastActive, CreatedBy: "system",
	}
}
