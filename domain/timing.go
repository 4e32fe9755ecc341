package domain

import (
	"math/bits"
	"slices"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
)

// Repeat says how a broadcast's schedule repeats, in the words people use for it.
type Repeat string

// The ways a schedule repeats.
const (
	Once     Repeat = "once"     // at one time (At)
	Hourly   Repeat = "hourly"   // every hour, at Times[0].Minute
	Daily    Repeat = "daily"    // every day at Times
	Weekdays Repeat = "weekdays" // Monday to Friday at Times
	Weekly   Repeat = "weekly"   // on Days at Times
	Monthly  Repeat = "monthly"  // on day Day of every month at Times
	Yearly   Repeat = "yearly"   // on day Day of Month every year at Times
	Custom   Repeat = "custom"   // no simple words: Cron as written, next run at At
)

// Clock is a time of day in the schedule's time zone.
type Clock struct {
	Hour, Minute int
}

// Timing is when a broadcast runs, as a person says it ("every weekday at 06:00",
// "once, Sunday 6 December 2026 at 06:00", "… until 31 December 2026"): what
// locales.Catalog.Schedule puts in words, in the chat and in the staff's pages alike.
// A cron schedule that simple words do not fit is Custom: the schedule as written
// and its next run, never the cron text alone.
type Timing struct {
	Repeat Repeat
	// At is the single time of a Once, and the next run of a Custom (zero when none
	// comes), in the region's time zone.
	At    time.Time
	Times []Clock        // the times of day, earliest first
	Days  []time.Weekday // Weekly: the days, Monday first
	Day   int            // Monthly, Yearly: the day of the month
	Month time.Month     // Yearly
	// Until is the end of a repeating schedule, when it has one, in the region's zone.
	Until *time.Time
	// Zone is the time zone the cron schedule names ("TZ=Asia/Makassar …") when it is
	// not the region's: its Times are in it.
	Zone string
	Cron string // Custom: the schedule as written
}

// Timing describes when the broadcast runs, in the region's time zone loc; now is the
// moment a Custom schedule's next run is counted from.
func (b *Broadcast) Timing(loc *time.Location, now time.Time) Timing {
	if b.At != nil {
		return Timing{Repeat: Once, At: b.At.In(loc)}
	}
	t := DescribeSchedule(b.Cron, loc, now)
	if b.End != nil {
		end := b.End.In(loc)
		t.Until = &end
	}
	return t
}

// DescribeSchedule describes a cron schedule (as ParseSchedule reads it) read in the
// region's time zone loc: in simple words when one of the Repeat kinds fits, else
// Custom with its next run after now.
func DescribeSchedule(expr string, loc *time.Location, now time.Time) Timing {
	custom := Timing{Repeat: Custom, Cron: strings.TrimSpace(expr)}
	sched, err := ParseSchedule(expr)
	if err != nil {
		return custom
	}
	custom.At = sched.Next(now.In(loc))
	spec, ok := sched.(*cron.SpecSchedule)
	if !ok {
		return custom
	}
	t, ok := describeSpec(spec)
	if !ok {
		return custom
	}
	if zone, named := zonePrefix(strings.TrimSpace(expr)); named && spec.Location.String() != loc.String() {
		_, t.Zone, _ = strings.Cut(zone, "=")
	}
	return t
}

// starBit marks a cron field written "*" (robfig/cron's SpecSchedule).
const starBit = 1 << 63

// describeSpec puts a parsed schedule in simple words, when some fit.
func describeSpec(s *cron.SpecSchedule) (Timing, bool) {
	star := func(field uint64) bool { return field&starBit != 0 }
	minutes, hours := setBits(s.Minute), setBits(s.Hour)
	days, months, weekdays := setBits(s.Dom), setBits(s.Month), setBits(s.Dow)
	if len(setBits(s.Second)) != 1 || len(minutes) == 0 || len(hours) == 0 {
		return Timing{}, false
	}
	if star(s.Hour) {
		if len(minutes) == 1 && star(s.Dom) && star(s.Month) && star(s.Dow) {
			return Timing{Repeat: Hourly, Times: []Clock{{Minute: minutes[0]}}}, true
		}
		return Timing{}, false
	}
	if len(minutes)*len(hours) > 4 { // more than a few times a day has no short words
		return Timing{}, false
	}
	t := Timing{}
	for _, h := range hours {
		for _, m := range minutes {
			t.Times = append(t.Times, Clock{Hour: h, Minute: m})
		}
	}
	switch {
	case star(s.Dom) && star(s.Month) && (star(s.Dow) || len(weekdays) == 7):
		t.Repeat = Daily
	case star(s.Dom) && star(s.Month) && slices.Equal(weekdays, []int{1, 2, 3, 4, 5}):
		t.Repeat = Weekdays
	case star(s.Dom) && star(s.Month):
		t.Repeat = Weekly
		for _, d := range weekdays {
			t.Days = append(t.Days, time.Weekday(d))
		}
		// Monday first, as a week is read in the region.
		slices.SortFunc(t.Days, func(a, b time.Weekday) int { return (int(a)+6)%7 - (int(b)+6)%7 })
	case star(s.Dow) && star(s.Month) && len(days) == 1:
		t.Repeat, t.Day = Monthly, days[0]
	case star(s.Dow) && len(months) == 1 && len(days) == 1:
		t.Repeat, t.Day, t.Month = Yearly, days[0], time.Month(months[0])
	default:
		return Timing{}, false
	}
	return t, true
}

// setBits lists the values a cron field holds, smallest first.
func setBits(field uint64) []int {
	field &^= starBit
	var out []int
	for field != 0 {
		i := bits.TrailingZeros64(field)
		out = append(out, i)
		field &^= 1 << i
	}
	return out
}
