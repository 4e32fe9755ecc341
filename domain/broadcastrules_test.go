package domain_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/layan-id/layan/domain"
)

func TestBroadcastStateChanges(t *testing.T) {
	for _, tc := range []struct {
		from       domain.BroadcastState
		action     domain.BroadcastAction
		delivering bool
		want       domain.BroadcastState // "" when refused
	}{
		{domain.BroadcastActive, domain.BroadcastPause, false, domain.BroadcastPaused},
		{domain.BroadcastActive, domain.BroadcastCancel, false, domain.BroadcastCancelled},
		{domain.BroadcastActive, domain.BroadcastResume, false, ""},
		{domain.BroadcastPaused, domain.BroadcastResume, false, domain.BroadcastActive},
		{domain.BroadcastPaused, domain.BroadcastCancel, false, domain.BroadcastCancelled},
		{domain.BroadcastPaused, domain.BroadcastPause, false, ""},
		{domain.BroadcastCancelled, domain.BroadcastResume, false, ""},
		{domain.BroadcastCancelled, domain.BroadcastPause, true, ""},
		{domain.BroadcastCancelled, domain.BroadcastCancel, false, ""},
		// A finished broadcast can be stopped only while its last run is delivered.
		{domain.BroadcastFinished, domain.BroadcastPause, true, domain.BroadcastPaused},
		{domain.BroadcastFinished, domain.BroadcastCancel, true, domain.BroadcastCancelled},
		{domain.BroadcastFinished, domain.BroadcastPause, false, ""},
		{domain.BroadcastFinished, domain.BroadcastCancel, false, ""},
		{domain.BroadcastFinished, domain.BroadcastResume, true, ""},
	} {
		bc := &domain.Broadcast{State: tc.from}
		err := bc.Apply(tc.action, tc.delivering)
		if tc.want == "" {
			var refused *domain.BroadcastStateError
			if !errors.As(err, &refused) || !errors.Is(err, domain.ErrBroadcastState) || bc.State != tc.from {
				t.Errorf("%s a %s broadcast (delivering %v): %v, state %s; want refused and unchanged", tc.action, tc.from, tc.delivering, err, bc.State)
			}
			if err != nil && err.Error() != "cannot "+string(tc.action)+" a broadcast that is "+string(tc.from) {
				t.Errorf("the refusal says %q", err)
			}
			continue
		}
		if err != nil || bc.State != tc.want {
			t.Errorf("%s a %s broadcast (delivering %v): %v, state %s; want %s", tc.action, tc.from, tc.delivering, err, bc.State, tc.want)
		}
	}
	bc := &domain.Broadcast{State: domain.BroadcastActive}
	if err := bc.Apply("delete", false); err == nil || bc.State != domain.BroadcastActive || domain.BroadcastAction("delete").Valid() {
		t.Errorf("an unknown action: %v, state %s", err, bc.State)
	}
}

func TestBroadcastRules(t *testing.T) {
	now := time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)
	rules := domain.BroadcastRules{Topics: []string{"wisata", "darurat"}, Channels: []string{"telegram", "whatsapp"}}
	at := func(d time.Duration) *time.Time { t := now.Add(d); return &t }
	good := func() *domain.Broadcast {
		return &domain.Broadcast{Topics: []string{"darurat"}, Text: map[string]string{"id": "Waspada banjir", "en": "Flood warning"}, At: at(time.Hour)}
	}
	if err := rules.Check(good(), now); err != nil {
		t.Fatalf("a good broadcast: %v", err)
	}
	for _, tc := range []struct {
		name   string
		change func(*domain.Broadcast)
		field  string
		reason domain.BroadcastReason
		says   string // what the message names
	}{
		{"no topic", func(b *domain.Broadcast) { b.Topics = nil }, "topics", domain.NoTopic, "wisata, darurat"},
		{"an unknown topic", func(b *domain.Broadcast) { b.Topics = []string{"olahraga"} }, "topics", domain.UnknownTopic, `"olahraga"`},
		{"a topic twice", func(b *domain.Broadcast) { b.Topics = []string{"darurat", "darurat"} }, "topics", domain.TopicTwice, "twice"},
		{"an unknown channel", func(b *domain.Broadcast) { b.Channels = []string{"sms"} }, "channels", domain.UnknownChannel, `"sms"`},
		{"no Indonesian text", func(b *domain.Broadcast) { delete(b.Text, "id") }, "text", domain.NoText, `"id"`},
		{"an Indonesian text of spaces", func(b *domain.Broadcast) { b.Text["id"] = "  " }, "text", domain.NoText, `"id"`},
		{"an empty English text", func(b *domain.Broadcast) { b.Text["en"] = "\n" }, "text", domain.EmptyText, `"en"`},
		{"a text in another language", func(b *domain.Broadcast) { b.Text["jv"] = "Ati-ati banjir" }, "text", domain.UnknownLanguage, `"jv"`},
		{"a text too long", func(b *domain.Broadcast) { b.Text["en"] = strings.Repeat("é", domain.MaxBroadcastText+1) }, "text", domain.LongText, "4,000"},
		{"a time and a schedule", func(b *domain.Broadcast) { b.Cron = "0 6 * * 0" }, "", domain.AtAndCron, "not both"},
		{"neither time nor schedule", func(b *domain.Broadcast) { b.At = nil }, "", domain.NoWhen, "required"},
		{"a time past", func(b *domain.Broadcast) { b.At = at(-domain.PastGrace - time.Second) }, "at", domain.PastTime, "past"},
		{"a malformed schedule", func(b *domain.Broadcast) { b.At, b.Cron = nil, "TZ=Asia/Jakarta" }, "cron", domain.BadCron, `"cron"`},
		{"a schedule that never fires", func(b *domain.Broadcast) { b.At, b.Cron = nil, "0 6 30 2 *" }, "cron", domain.BadCron, `"cron"`},
		{"an end past", func(b *domain.Broadcast) { b.At, b.Cron, b.End = nil, "0 6 * * *", at(-time.Hour) }, "end", domain.PastEnd, `"end"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bc := good()
			tc.change(bc)
			err := rules.Check(bc, now)
			var p *domain.BroadcastProblem
			if !errors.As(err, &p) || !errors.Is(err, domain.ErrBadBroadcast) {
				t.Fatalf("Check = %v, want a problem", err)
			}
			if p.Field != tc.field || p.Reason != tc.reason || !strings.Contains(err.Error(), tc.says) {
				t.Errorf("problem %q (field %q, reason %s), want field %q, reason %s, naming %s", err, p.Field, p.Reason, tc.field, tc.reason, tc.says)
			}
		})
	}
	t.Run("a time within the grace, a schedule and an end to come are fine", func(t *testing.T) {
		for _, bc := range []*domain.Broadcast{
			{Topics: []string{"wisata"}, Text: map[string]string{"id": "Festival"}, At: at(-domain.PastGrace + time.Second)},
			{Topics: []string{"wisata", "darurat"}, Channels: []string{"whatsapp"}, Text: map[string]string{"id": "Festival"}, Cron: "TZ=Asia/Makassar 0 6 * * 1-5", End: at(24 * time.Hour)},
		} {
			if err := rules.Check(bc, now); err != nil {
				t.Errorf("%+v: %v", bc, err)
			}
		}
	})
}
