package domain

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// BroadcastAction is a change of a broadcast's state that staff ask for.
type BroadcastAction string

// The actions on a broadcast.
const (
	BroadcastPause  BroadcastAction = "pause"
	BroadcastResume BroadcastAction = "resume"
	BroadcastCancel BroadcastAction = "cancel"
)

// Valid reports whether a is one of the actions.
func (a BroadcastAction) Valid() bool {
	return a == BroadcastPause || a == BroadcastResume || a == BroadcastCancel
}

// ErrBroadcastState is returned (inside a *BroadcastStateError) for an action the
// broadcast's state does not allow.
var ErrBroadcastState = errors.New("not allowed in this state")

// BroadcastStateError says which action the broadcast's state did not allow.
type BroadcastStateError struct {
	Action BroadcastAction
	State  BroadcastState
}

func (e *BroadcastStateError) Error() string {
	return fmt.Sprintf("cannot %s a broadcast that is %s", e.Action, e.State)
}

func (e *BroadcastStateError) Unwrap() error { return ErrBroadcastState }

// Apply changes the state as the action asks: pause an active broadcast, resume a
// paused one, cancel one that is active or paused. A finished broadcast whose last run
// is still being delivered (lastRunDelivering) may be paused or cancelled too, which
// stops that run; once it is delivered, a finished broadcast changes no more. A refused
// action (a *BroadcastStateError, or an action that is not Valid) changes nothing.
func (b *Broadcast) Apply(a BroadcastAction, lastRunDelivering bool) error {
	var from []BroadcastState
	var to BroadcastState
	switch a {
	case BroadcastPause:
		from, to = []BroadcastState{BroadcastActive, BroadcastFinished}, BroadcastPaused
	case BroadcastResume:
		from, to = []BroadcastState{BroadcastPaused}, BroadcastActive
	case BroadcastCancel:
		from, to = []BroadcastState{BroadcastActive, BroadcastPaused, BroadcastFinished}, BroadcastCancelled
	default:
		return fmt.Errorf("unknown broadcast action %q", a)
	}
	if !slices.Contains(from, b.State) || b.State == BroadcastFinished && !lastRunDelivering {
		return &BroadcastStateError{Action: a, State: b.State}
	}
	b.State = to
	return nil
}

// ErrNotRepeated is returned for a new schedule of a broadcast that is not repeated.
var ErrNotRepeated = errors.New("only a repeated broadcast's schedule can be changed")

// Reschedule gives a repeated broadcast (Cron) a new schedule from now on, as by
// changed it: times of the new schedule before now are not sent. A finished or
// cancelled broadcast, a single one, or a schedule that cannot be read (domain
// ParseSchedule) is refused and nothing changes.
func (b *Broadcast) Reschedule(cron, by string, now time.Time) error {
	if b.Cron == "" || b.At != nil {
		return ErrNotRepeated
	}
	if b.State != BroadcastActive && b.State != BroadcastPaused {
		return &BroadcastStateError{Action: "reschedule", State: b.State}
	}
	if _, err := ParseSchedule(cron); err != nil {
		return err
	}
	b.Cron, b.RescheduledBy = cron, by
	if now.After(b.LastFire) {
		b.LastFire = now
	}
	return nil
}

// MaxBroadcastText is the longest text of a broadcast in one language, in characters,
// so that it goes out as one message on every channel.
const MaxBroadcastText = 4000

// PastGrace is how far in the past a broadcast's single time may be when it is
// created: "now" as the person confirmed it, a clock a little behind.
const PastGrace = time.Minute

// BroadcastLanguages are the languages a broadcast may have a text in; the first,
// Indonesian, is required.
func BroadcastLanguages() []string { return []string{"id", "en"} }

// ErrBadBroadcast is returned (inside a *BroadcastProblem) for a broadcast that
// cannot be scheduled as written.
var ErrBadBroadcast = errors.New("bad broadcast")

// BroadcastReason is what is wrong with a broadcast.
type BroadcastReason string

// The reasons a broadcast is refused.
const (
	NoTopic         BroadcastReason = "no_topic"
	UnknownTopic    BroadcastReason = "unknown_topic"
	TopicTwice      BroadcastReason = "topic_twice"
	UnknownChannel  BroadcastReason = "unknown_channel"
	NoText          BroadcastReason = "no_text" // no Indonesian text
	UnknownLanguage BroadcastReason = "unknown_language"
	EmptyText       BroadcastReason = "empty_text"
	LongText        BroadcastReason = "long_text"
	AtAndCron       BroadcastReason = "at_and_cron"
	NoWhen          BroadcastReason = "no_when"
	PastTime        BroadcastReason = "past"
	BadCron         BroadcastReason = "bad_cron"
	PastEnd         BroadcastReason = "past_end"
)

// BroadcastProblem says what is wrong with a broadcast: the field ("topics",
// "channels", "text", "at", "cron", "end", or "" for the broadcast as a whole), the
// reason, the value at fault (a topic, a channel, a language) and what is known
// instead. Its Error names the field, for the staff API.
type BroadcastProblem struct {
	Field  string
	Reason BroadcastReason
	Value  string
	Known  []string
	Err    error // why a cron schedule could not be read
}

func (p *BroadcastProblem) Error() string {
	known := strings.Join(p.Known, ", ")
	switch p.Reason {
	case NoTopic:
		return `"topics": name at least one topic (` + known + ")"
	case UnknownTopic:
		return fmt.Sprintf(`"topics": unknown topic %q (known: %s)`, p.Value, known)
	case TopicTwice:
		return fmt.Sprintf(`"topics": %q is named twice`, p.Value)
	case UnknownChannel:
		return fmt.Sprintf(`"channels": unknown channel %q (known: %s)`, p.Value, known)
	case NoText:
		return `"text": the Indonesian text ("id") is required and may not be empty`
	case UnknownLanguage:
		return fmt.Sprintf(`"text": unknown language %q (use "id" and "en")`, p.Value)
	case EmptyText:
		return fmt.Sprintf(`"text": the %q text is empty`, p.Value)
	case LongText:
		return fmt.Sprintf(`"text": the %q text is longer than 4,000 characters`, p.Value)
	case AtAndCron:
		return `give either "at" or "cron", not both`
	case NoWhen:
		return `one of "at" (a time) or "cron" (a schedule) is required`
	case PastTime:
		return `"at": the time is in the past`
	case BadCron:
		return fmt.Sprintf(`"cron": not a schedule (%v); five fields: minute hour day month weekday, e.g. "0 6 * * 0"`, p.Err)
	case PastEnd:
		return `"end": the end date is in the past`
	}
	return fmt.Sprintf("%q: %s", p.Field, p.Reason)
}

func (p *BroadcastProblem) Unwrap() error { return ErrBadBroadcast }

// BroadcastRules are what a new broadcast is checked against: the topics and the
// channels that exist.
type BroadcastRules struct {
	Topics   []string
	Channels []string
}

// Check returns the first problem of a new broadcast (a *BroadcastProblem), in the
// order topics, channels, texts, time, end; nil when it may be scheduled at now.
func (r BroadcastRules) Check(bc *Broadcast, now time.Time) error {
	if err := r.CheckTopics(bc.Topics); err != nil {
		return err
	}
	if err := r.CheckChannels(bc.Channels); err != nil {
		return err
	}
	if err := CheckBroadcastTexts(bc.Text); err != nil {
		return err
	}
	return CheckBroadcastTiming(bc.At, bc.Cron, bc.End, now)
}

// CheckTopics: at least one topic, each known, none twice.
func (r BroadcastRules) CheckTopics(topics []string) error {
	if len(topics) == 0 {
		return &BroadcastProblem{Field: "topics", Reason: NoTopic, Known: r.Topics}
	}
	for i, t := range topics {
		if !slices.Contains(r.Topics, t) {
			return &BroadcastProblem{Field: "topics", Reason: UnknownTopic, Value: t, Known: r.Topics}
		}
		if slices.Contains(topics[:i], t) {
			return &BroadcastProblem{Field: "topics", Reason: TopicTwice, Value: t}
		}
	}
	return nil
}

// CheckChannels: each channel known; none means every channel.
func (r BroadcastRules) CheckChannels(channels []string) error {
	for _, c := range channels {
		if !slices.Contains(r.Channels, c) {
			return &BroadcastProblem{Field: "channels", Reason: UnknownChannel, Value: c, Known: r.Channels}
		}
	}
	return nil
}

// CheckBroadcastTexts: an Indonesian text, and every text in a language of
// BroadcastLanguages and fit by CheckBroadcastText.
func CheckBroadcastTexts(texts map[string]string) error {
	if strings.TrimSpace(texts["id"]) == "" {
		return &BroadcastProblem{Field: "text", Reason: NoText}
	}
	langs := make([]string, 0, len(texts))
	for lang := range texts {
		langs = append(langs, lang)
	}
	slices.Sort(langs)
	for _, lang := range langs {
		if err := CheckBroadcastText(lang, texts[lang]); err != nil {
			return err
		}
	}
	return nil
}

// CheckBroadcastText checks one language's text: a language of BroadcastLanguages,
// not empty (white space is empty), at most MaxBroadcastText characters.
func CheckBroadcastText(lang, text string) error {
	switch {
	case !slices.Contains(BroadcastLanguages(), lang):
		return &BroadcastProblem{Field: "text", Reason: UnknownLanguage, Value: lang}
	case strings.TrimSpace(text) == "":
		return &BroadcastProblem{Field: "text", Reason: EmptyText, Value: lang}
	case utf8.RuneCountInString(text) > MaxBroadcastText:
		return &BroadcastProblem{Field: "text", Reason: LongText, Value: lang}
	}
	return nil
}

// CheckBroadcastTiming checks when a broadcast runs: either one time (at, not more
// than PastGrace before now) or a cron schedule that ParseSchedule reads and that
// fires after now, and an optional end after now.
func CheckBroadcastTiming(at *time.Time, cron string, end *time.Time, now time.Time) error {
	switch {
	case at != nil && cron != "":
		return &BroadcastProblem{Reason: AtAndCron}
	case at != nil:
		if at.Before(now.Add(-PastGrace)) {
			return &BroadcastProblem{Field: "at", Reason: PastTime}
		}
	case cron != "":
		sched, err := ParseSchedule(cron)
		if err == nil && sched.Next(now).IsZero() {
			err = errors.New("the schedule never fires")
		}
		if err != nil {
			return &BroadcastProblem{Field: "cron", Reason: BadCron, Err: err}
		}
	default:
		return &BroadcastProblem{Reason: NoWhen}
	}
	if end != nil && !end.After(now) {
		return &BroadcastProblem{Field: "end", Reason: PastEnd}
	}
	return nil
}
