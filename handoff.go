package main

import (
	"fmt"
	"strconv"
	"time"

	"github.com/layan-id/layan/flows"
)

// handoffConfig is what talking to a person reads from the environment.
type handoffConfig struct {
	Wait        time.Duration // HANDOFF_WAIT: how long a person waits before being told nobody came yet
	OfficeHours string        // OFFICE_HOURS: "" = the region's content, else DefaultOfficeHours
	HistoryDays int           // HISTORY_DAYS: how long recent messages and staff transcripts are kept
}

// load reads the variables through get and returns what is wrong with them, each
// naming its variable.
func (h *handoffConfig) load(get func(name, def string) string) []error {
	var errs []error
	wait, err := time.ParseDuration(get("HANDOFF_WAIT", "10m"))
	if err != nil || wait < time.Minute {
		errs = append(errs, fmt.Errorf("HANDOFF_WAIT: want a duration of a minute or more, such as 10m"))
	}
	h.Wait = wait
	h.OfficeHours = get("OFFICE_HOURS", "")
	if h.OfficeHours != "" {
		if _, err := flows.ParseOfficeHours(h.OfficeHours, nil, time.UTC); err != nil {
			errs = append(errs, fmt.Errorf("OFFICE_HOURS: %w", err))
		}
	}
	days, err := strconv.Atoi(get("HISTORY_DAYS", "30"))
	if err != nil || days < 1 || days > 365 {
		errs = append(errs, fmt.Errorf("HISTORY_DAYS: want a whole number of days from 1 to 365"))
	}
	h.HistoryDays = days
	return errs
}

// keep is how long recent messages and staff transcripts are kept.
func (h handoffConfig) keep() time.Duration { return time.Duration(h.HistoryDays) * 24 * time.Hour }

// historyLines is how many recent messages a session keeps (both sides).
const historyLines = 30
