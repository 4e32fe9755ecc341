package locales

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/layan-id/layan/domain"
)

// Schedule says when a broadcast runs in words, in lang: "setiap hari kerja pukul
// 06.00", "every Monday at 06:00", "sekali, Minggu 6 Desember 2026 pukul 06.00",
// "… sampai 31 Desember 2026"; a schedule without simple words is a generic phrase
// with the schedule as written and its next run. The texts are schedule.* (file
// schedule.<lang>.yaml). A missing or broken text shows as "[key]" in the result and
// is returned as an error too.
func (c *Catalog) Schedule(lang string, t domain.Timing) (string, error) {
	w := scheduleWords{c: c, lang: lang}
	var s string
	switch t.Repeat {
	case domain.Once:
		s = w.text("once", "Date", w.fullDate(t.At), "Time", w.clock(t.At.Hour(), t.At.Minute()))
	case domain.Hourly:
		minute := 0
		if len(t.Times) > 0 {
			minute = t.Times[0].Minute
		}
		s = w.text("hourly", "N", minute)
	case domain.Daily, domain.Weekdays:
		s = w.text(string(t.Repeat), "Time", w.times(t.Times))
	case domain.Weekly:
		days := make([]string, len(t.Days))
		for i, d := range t.Days {
			days[i] = w.name("days", int(d))
		}
		s = w.text("weekly", "Day", w.list(days), "Time", w.times(t.Times))
	case domain.Monthly:
		s = w.text("monthly", "N", t.Day, "Time", w.times(t.Times))
	case domain.Yearly:
		s = w.text("yearly", "Date", w.text("day_month", "N", t.Day, "Month", w.name("months", int(t.Month)-1)),
			"Time", w.times(t.Times))
	default:
		if t.At.IsZero() {
			s = w.text("custom_none", "Text", t.Cron)
		} else {
			s = w.text("custom", "Text", t.Cron, "Date", w.fullDate(t.At), "Time", w.clock(t.At.Hour(), t.At.Minute()))
		}
	}
	if t.Zone != "" {
		s = w.text("zone", "Text", s, "Location", t.Zone)
	}
	if t.Until != nil {
		u := *t.Until
		s = w.text("until", "Text", s, "Date", w.text("date", "N", u.Day(), "Month", w.name("months", int(u.Month())-1), "Year", u.Year()))
	}
	return s, errors.Join(w.errs...)
}

// scheduleWords renders the pieces of a schedule in one language, collecting errors.
type scheduleWords struct {
	c    *Catalog
	lang string
	errs []error
}

func (w *scheduleWords) text(key string, kv ...any) string {
	data := map[string]any{}
	for i := 0; i+1 < len(kv); i += 2 {
		data[kv[i].(string)] = kv[i+1]
	}
	s, err := w.c.Text(w.lang, "schedule."+key, data)
	if err != nil {
		w.errs = append(w.errs, err)
	}
	return s
}

// name is the i-th of a comma-separated list of names (days from Sunday, months from
// January).
func (w *scheduleWords) name(list string, i int) string {
	names := strings.Split(w.text(list), ",")
	if len(names) != map[string]int{"days": 7, "months": 12}[list] || i < 0 || i >= len(names) {
		w.errs = append(w.errs, fmt.Errorf("locales: schedule.%s in %s: want the names in order, comma-separated", list, w.lang))
		return "?"
	}
	return strings.TrimSpace(names[i])
}

func (w *scheduleWords) clock(h, m int) string {
	return w.text("clock", "Hour", fmt.Sprintf("%02d", h), "Minute", fmt.Sprintf("%02d", m))
}

func (w *scheduleWords) times(ts []domain.Clock) string {
	out := make([]string, len(ts))
	for i, t := range ts {
		out[i] = w.clock(t.Hour, t.Minute)
	}
	return w.list(out)
}

func (w *scheduleWords) fullDate(t time.Time) string {
	return w.text("full_date", "Day", w.name("days", int(t.Weekday())), "N", t.Day(),
		"Month", w.name("months", int(t.Month())-1), "Year", t.Year())
}

// list joins items as a sentence does: "a", "a dan b", "a, b dan c".
func (w *scheduleWords) list(items []string) string {
	if len(items) <= 1 {
		return strings.Join(items, "")
	}
	return strings.Join(items[:len(items)-1], ", ") + " " + w.text("and") + " " + items[len(items)-1]
}
