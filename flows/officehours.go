package flows

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/layan-id/layan/domain"
)

// OfficeHours says when staff answer people: spans of the day per weekday in the
// region's time zone, minus holidays. The zero value is always open.
type OfficeHours struct {
	always bool
	days   [7][]span // by time.Weekday
	cal    domain.Calendar
	loc    *time.Location
}

// span is a part of a day, in minutes from midnight, [from, to).
type span struct{ from, to int }

// DefaultOfficeHours is the spec used when neither OFFICE_HOURS nor the region's
// content names the office hours.
const DefaultOfficeHours = "mon-fri 08:00-16:00"

var weekdays = map[string]time.Weekday{
	"sun": time.Sunday, "mon": time.Monday, "tue": time.Tuesday, "wed": time.Wednesday,
	"thu": time.Thursday, "fri": time.Friday, "sat": time.Saturday,
	"min": time.Sunday, "sen": time.Monday, "sel": time.Tuesday, "rab": time.Wednesday,
	"kam": time.Thursday, "jum": time.Friday, "sab": time.Saturday,
}

// ParseOfficeHours reads a spec such as "mon-fri 08:00-16:00; sat 08:00-12:00" or
// "always", in loc; holidays are dates (2026-12-25) on which the office is closed.
func ParseOfficeHours(spec string, holidays []string, loc *time.Location) (OfficeHours, error) {
	h := OfficeHours{loc: loc}
	if loc == nil {
		h.loc = time.UTC
	}
	cal, err := domain.NewCalendar(h.loc, holidays)
	if err != nil {
		return h, err
	}
	h.cal = cal
	spec = strings.ToLower(strings.TrimSpace(spec))
	if spec == "always" {
		h.always = true
		return h, nil
	}
	if spec == "" {
		return h, fmt.Errorf("office hours: empty (want e.g. %q or \"always\")", DefaultOfficeHours)
	}
	for part := range strings.SplitSeq(spec, ";") {
		fields := strings.Fields(part)
		if len(fields) < 2 {
			return h, fmt.Errorf("office hours %q: want days and times, e.g. %q", part, DefaultOfficeHours)
		}
		days, err := parseDays(fields[0])
		if err != nil {
			return h, err
		}
		for _, f := range fields[1:] {
			s, err := parseSpan(f)
			if err != nil {
				return h, err
			}
			for _, d := range days {
				h.days[d] = append(h.days[d], s)
			}
		}
	}
	return h, nil
}

func parseDays(s string) ([]time.Weekday, error) {
	var out []time.Weekday
	for item := range strings.SplitSeq(s, ",") {
		a, b, isRange := strings.Cut(item, "-")
		from, ok1 := weekdays[a]
		to, ok2 := weekdays[b]
		if !ok1 || isRange && !ok2 {
			return nil, fmt.Errorf("office hours: %q is not a day or range of days (mon, tue, ..., sun; mon-fri)", item)
		}
		if !isRange {
			to = from
		}
		for d := from; ; d = (d + 1) % 7 {
			out = append(out, d)
			if d == to {
				break
			}
		}
	}
	return out, nil
}

func parseSpan(s string) (span, error) {
	a, b, ok := strings.Cut(s, "-")
	from, err1 := minutes(a)
	to, err2 := minutes(b)
	if !ok || err1 != nil || err2 != nil || to <= from {
		return span{}, fmt.Errorf("office hours: %q is not a time span such as 08:00-16:00", s)
	}
	return span{from, to}, nil
}

func minutes(s string) (int, error) {
	hh, mm, ok := strings.Cut(strings.ReplaceAll(s, ".", ":"), ":")
	h, err1 := strconv.Atoi(hh)
	m, err2 := strconv.Atoi(mm)
	if !ok || err1 != nil || err2 != nil || h < 0 || h > 24 || m < 0 || m > 59 || h*60+m > 24*60 {
		return 0, fmt.Errorf("bad time %q", s)
	}
	return h*60 + m, nil
}

// Open reports whether the office is open at t.
func (h OfficeHours) Open(t time.Time) bool {
	if h.always || h.loc == nil {
		return true
	}
	t = t.In(h.loc)
	if h.cal.Holiday(t) {
		return false
	}
	m := t.Hour()*60 + t.Minute()
	for _, s := range h.days[t.Weekday()] {
		if m >= s.from && m < s.to {
			return true
		}
	}
	return false
}

// NextOpen returns when the office next opens after t (t itself when it is open),
// in the region's time zone; false when it never opens in the coming weeks.
func (h OfficeHours) NextOpen(t time.Time) (time.Time, bool) {
	if h.Open(t) {
		return t, true
	}
	t = t.In(h.loc)
	day := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, h.loc)
	for i := range 60 {
		d := day.AddDate(0, 0, i)
		if h.cal.Holiday(d) {
			continue
		}
		best := -1
		for _, s := range h.days[d.Weekday()] {
			at := d.Add(time.Duration(s.from) * time.Minute)
			if at.After(t) && (best < 0 || s.from < best) {
				best = s.from
			}
		}
		if best >= 0 {
			return d.Add(time.Duration(best) * time.Minute), true
		}
	}
	return time.Time{}, false
}
