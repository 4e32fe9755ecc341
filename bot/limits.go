package bot

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ParseLimits reads sending limits as an operator writes them, over def (the channel's
// defaults): "off" lifts the rates (for a local test server, or paid broadcasts that
// allow more), else a comma-separated list of a rate for the whole channel and
// name=value settings:
//
//	25/s,chat=1/s          25 messages a second in bulk, one a second to one chat
//	1000/s,burst=100       Telegram's paid broadcasts
//	1/s,chat=30/min,jitter=1.5s
//
// Rates are N/s, N/min or N/h; burst is a count; jitter a duration. Anything not named
// keeps def's value; tries and backoff always do.
func ParseLimits(s string, def Limits) (Limits, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return def, nil
	}
	l := def
	if strings.EqualFold(s, "off") {
		l.PerSecond, l.PerChat, l.Jitter = 0, 0, 0
		return l, nil
	}
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		name, value, named := strings.Cut(part, "=")
		if !named {
			r, err := parseRate(part)
			if err != nil {
				return def, err
			}
			l.PerSecond = r
			continue
		}
		var err error
		switch strings.TrimSpace(name) {
		case "chat":
			l.PerChat, err = parseRate(value)
		case "burst":
			l.Burst, err = strconv.Atoi(strings.TrimSpace(value))
			if err == nil && l.Burst < 1 {
				err = fmt.Errorf("burst %q: want 1 or more", value)
			}
		case "jitter":
			l.Jitter, err = time.ParseDuration(strings.TrimSpace(value))
			if err == nil && l.Jitter < 0 {
				err = fmt.Errorf("jitter %q: want a duration such as 1.5s", value)
			}
		default:
			err = fmt.Errorf("%q: unknown setting (want a rate such as 25/s, chat=, burst= or jitter=)", name)
		}
		if err != nil {
			return def, err
		}
	}
	return l, nil
}

// parseRate reads N/s, N/min or N/h as messages per second.
func parseRate(s string) (float64, error) {
	n, per, ok := strings.Cut(strings.TrimSpace(s), "/")
	f, err := strconv.ParseFloat(strings.TrimSpace(n), 64)
	if !ok || err != nil || f <= 0 {
		return 0, fmt.Errorf("rate %q: want a number per s, min or h, such as 25/s", s)
	}
	switch strings.TrimSpace(per) {
	case "s":
		return f, nil
	case "min":
		return f / 60, nil
	case "h":
		return f / 3600, nil
	}
	return 0, fmt.Errorf("rate %q: want per s, min or h", s)
}
