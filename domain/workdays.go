package domain

import (
	"fmt"
	"time"
)

// Calendar knows the region's working days: Monday to Friday, minus the holidays
// (the content's holidays.yaml), in the region's time zone. Office hours and the
// complaint deadlines read the same calendar.
type Calendar struct {
	loc      *time.Location
	holidays map[string]bool // "2026-12-25"
}

// NewCalendar returns the calendar of loc (nil: UTC) with the given holidays, dates
// written as 2026-12-25.
func NewCalendar(loc *time.Location, holidays []string) (Calendar, error) {
	if loc == nil {
		loc = time.UTC
	}
	c := Calendar{loc: loc, holidays: map[string]bool{}}
	for _, d := range holidays {
		if _, err := time.Parse(time.DateOnly, d); err != nil {
			return c, fmt.Errorf("holiday %q: want a date such as 2026-12-25", d)
		}
		c.holidays[d] = true
	}
	return c, nil
}

// Location is the calendar's time zone.
func (c Calendar) Location() *time.Location {
	if c.loc == nil {
		return time.UTC
	}
	return c.loc
}

// Holiday reports whether the day of t (in the region) is a holiday.
func (c Calendar) Holiday(t time.Time) bool {
	return c.holidays[t.In(c.Location()).Format(time.DateOnly)]
}

// WorkingDay reports whether the day of t (in the region) is a working day.
func (c Calendar) WorkingDay(t time.Time) bool {
	t = t.In(c.Location())
	return t.Weekday() != time.Saturday && t.Weekday() != time.Sunday && !c.Holiday(t)
}

// startOfDay is midnight at the start of t's day in the region.
func (c Calendar) startOfDay(t time.Time) time.Time {
	t = t.In(c.Location())
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, c.Location())
}

// AddWorkingDays returns the deadline n working days after t: the end (midnight) of
// the n-th working day after the day of t. The day of t itself never counts, however
// early (a complaint filed on Monday morning with 3 days is due at the end of
// Thursday; one filed on Friday evening or on Saturday, at the end of Wednesday).
// n of 0 or less is the end of the day of t.
func (c Calendar) AddWorkingDays(t time.Time, n int) time.Time {
	day := c.startOfDay(t)
	for n > 0 {
		day = day.AddDate(0, 0, 1)
		if c.WorkingDay(day) {
			n--
		}
	}
	return day.AddDate(0, 0, 1)
}

// WorkingDaysBetween counts the working days after the day of a up to and including
// the day of b (0 when b is on a's day or before it).
func (c Calendar) WorkingDaysBetween(a, b time.Time) int {
	from, to := c.startOfDay(a), c.startOfDay(b)
	n := 0
	for d := from.AddDate(0, 0, 1); !d.After(to); d = d.AddDate(0, 0, 1) {
		if c.WorkingDay(d) {
			n++
		}
	}
	return n
}
