package domain

import (
	"strconv"
	"strings"
	"time"
)

// Broadcast is an announcement, tip or warning that staff schedule for the people
// subscribed to its topics: once at a time, or on a cron schedule in the region's time
// zone, until an optional end.
type Broadcast struct {
	ID        string            `json:"id"`
	Topics    []string          `json:"topics"`
	Channels  []string          `json:"channels,omitempty"` // empty: every channel
	Text      map[string]string `json:"text"`               // language → text; "id" required
	At        *time.Time        `json:"at,omitempty"`       // a single run
	Cron      string            `json:"cron,omitempty"`     // or a schedule
	End       *time.Time        `json:"end,omitempty"`
	State     BroadcastState    `json:"state"`
	CreatedAt time.Time         `json:"created_at"`
	CreatedBy string            `json:"created_by"`
	// LastFire is the latest scheduled time that was run or recorded as missed.
	LastFire time.Time `json:"last_fire,omitzero"`
	// Kind is "" for a broadcast of its Text, or TipOfTheDay: each recipient gets the
	// next tip they have not had yet.
	Kind string `json:"kind,omitempty"`
	// RescheduledBy is who last changed the schedule of a repeated broadcast
	// (Reschedule), "" while it keeps the one it was created with: the tip of the
	// day then follows TIP_SCHEDULE, after that the staff's choice.
	RescheduledBy string `json:"rescheduled_by,omitempty"`
}

// TipOfTheDay is the kind of the broadcast that sends each subscriber of the tourism
// topic one tip a day.
const TipOfTheDay = "tip"

// BroadcastState says whether a broadcast still runs.
type BroadcastState string

// The states of a broadcast.
const (
	BroadcastActive    BroadcastState = "active"
	BroadcastPaused    BroadcastState = "paused"
	BroadcastCancelled BroadcastState = "cancelled"
	BroadcastFinished  BroadcastState = "finished" // its single time or its end has passed
)

// TextIn returns the text in lang, else the Indonesian one.
func (b *Broadcast) TextIn(lang string) string {
	if t := b.Text[lang]; t != "" {
		return t
	}
	return b.Text["id"]
}

// RunID names the run of broadcast at its scheduled time fire: "<broadcast>:<unix
// seconds>". Broadcast ids may themselves hold ':'; ParseRunID reads from the right.
func RunID(broadcast string, fire time.Time) string {
	return broadcast + ":" + strconv.FormatInt(fire.Unix(), 10)
}

// ParseRunID splits a run id made by RunID; ok is false for anything else.
func ParseRunID(run string) (broadcast string, fire time.Time, ok bool) {
	i := strings.LastIndexByte(run, ':')
	if i <= 0 {
		return "", time.Time{}, false
	}
	sec, err := strconv.ParseInt(run[i+1:], 10, 64)
	if err != nil {
		return "", time.Time{}, false
	}
	return run[:i], time.Unix(sec, 0), true
}

// Run is one scheduled time of a broadcast and what became of its deliveries.
type Run struct {
	Broadcast  string    `json:"broadcast"`
	Fire       time.Time `json:"fire"` // the scheduled time
	State      RunState  `json:"state"`
	Recipients int64     `json:"recipients"`
	Sent       int64     `json:"sent"`
	Failed     int64     `json:"failed"`
	Skipped    int64     `json:"skipped"` // not on a channel the broadcast is for, or cancelled
	Unknown    int64     `json:"unknown"` // in flight when a process died, at most once: never resent
	Resent     int64     `json:"resent"`  // in flight when a process died, at least once: sent again
	Pending    int64     `json:"pending"`
	Guarantee  Guarantee `json:"guarantee"`
	Started    time.Time `json:"started,omitzero"`
	Finished   time.Time `json:"finished,omitzero"`
}

// Guarantee is what a run promises a recipient whose delivery a dying process cut off
// (SIGKILL, a lost machine) in the middle of the send, when nobody can know whether the
// message left.
type Guarantee string

// The guarantees, set per topic in the region content (region.yaml, delivery).
const (
	// AtMostOnce never sends twice: the recipient is counted unknown. Right for tips
	// and announcements, where a repeat annoys and a rare miss costs little.
	AtMostOnce Guarantee = "at_most_once"
	// AtLeastOnce sends again once the dead process's lease on the delivery lapses:
	// a duplicate rather than a missed warning (darurat). The web chat drops a repeat
	// of the same run; Telegram and WhatsApp may show it twice.
	AtLeastOnce Guarantee = "at_least_once"
)

// ParseGuarantee reads a guarantee as region.yaml spells it.
func ParseGuarantee(s string) (Guarantee, bool) {
	switch g := Guarantee(s); g {
	case AtMostOnce, AtLeastOnce:
		return g, true
	}
	return "", false
}

// RunState says where a run stands.
type RunState string

// The states of a run.
const (
	RunDelivering RunState = "delivering"
	RunDone       RunState = "done"
	RunMissed     RunState = "missed" // the service was down longer than the grace window
	RunCancelled  RunState = "cancelled"
)

// Recipient is a subscriber: where to deliver, and in which language.
type Recipient struct {
	Key     string `json:"key"` // conversation key (Message.Key)
	Channel string `json:"channel"`
	ChatID  string `json:"chat_id"`
	Lang    string `json:"lang,omitempty"`
}

// Delivery is what became of one delivery of a run.
type Delivery string

// Delivery outcomes.
const (
	Sent    Delivery = "sent"
	Failed  Delivery = "failed"
	Skipped Delivery = "skipped"
)
