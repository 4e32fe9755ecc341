package domain

import (
	"fmt"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
)

// ParseSchedule reads a cron schedule (five fields: minute hour day month weekday, or
// a descriptor such as @daily), optionally after a time zone ("TZ=Asia/Jakarta 0 6 *
// * *"). It refuses "@every" intervals and schedules that never fire (30 February),
// and returns an error, never a panic, for any text: robfig/cron v3.0.1's parser
// panics on some malformed specs ("TZ=Asia/Jakarta" with nothing after it).
func ParseSchedule(expr string) (cron.Schedule, error) {
	if strings.HasPrefix(strings.TrimSpace(expr), "@every") {
		return nil, fmt.Errorf("@every is not a calendar schedule")
	}
	if zone, ok := zonePrefix(expr); ok && !strings.Contains(expr, " ") {
		return nil, fmt.Errorf("%s must be followed by a space and the five fields, e.g. %s 0 6 * * *", zone, zone)
	}
	sched, err := parseStandard(expr)
	if err != nil {
		return nil, err
	}
	if sched.Next(time.Now()).IsZero() {
		return nil, fmt.Errorf("the schedule never fires")
	}
	return sched, nil
}

// zonePrefix returns the "TZ=…" or "CRON_TZ=…" that starts expr, as far as the first
// space.
func zonePrefix(expr string) (string, bool) {
	if !strings.HasPrefix(expr, "TZ=") && !strings.HasPrefix(expr, "CRON_TZ=") {
		return "", false
	}
	zone, _, _ := strings.Cut(expr, " ")
	return zone, true
}

// parseStandard is cron.ParseStandard with its panics turned into errors.
func parseStandard(expr string) (sched cron.Schedule, err error) {
	defer func() {
		if p := recover(); p != nil {
			sched, err = nil, fmt.Errorf("not a schedule the cron parser can read (%v)", p)
		}
	}()
	return cron.ParseStandard(expr)
}
