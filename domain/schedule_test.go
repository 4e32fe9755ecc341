package domain_test

import (
	"testing"

	"github.com/layan-id/layan/domain"
)

func TestAMalformedScheduleIsAnErrorNeverAPanic(t *testing.T) {
	bad := []struct{ name, expr string }{
		{"a time zone without a space before the fields", "TZ=Asia/Jakarta0 6 * * *"},
		{"a time zone and nothing else", "TZ=Asia/Jakarta"},
		{"an empty time zone and nothing else", "TZ="},
		{"a CRON_TZ time zone and nothing else", "CRON_TZ=Asia/Jakarta"},
		{"a time zone followed by tabs", "TZ=Asia/Jakarta\t0\t6\t*\t*\t*"},
		{"an unknown time zone", "CRON_TZ=Nowhere/Zone 0 6 * * *"},
		{"a time zone that is a path", "TZ=../../etc/passwd 0 6 * * *"},
		{"four fields", "0 6 * *"},
		{"an hour out of range", "0 25 * * *"},
		{"an interval", "@every 1h"},
		{"a day that never comes", "0 6 30 2 *"},
		{"nothing", ""},
	}
	for _, tc := range bad {
		t.Run(tc.name+" is refused", func(t *testing.T) {
			defer func() {
				if p := recover(); p != nil {
					t.Fatalf("ParseSchedule(%q) panicked: %v", tc.expr, p)
				}
			}()
			if _, err := domain.ParseSchedule(tc.expr); err == nil {
				t.Errorf("ParseSchedule(%q) accepted it", tc.expr)
			}
		})
	}
	for _, expr := range []string{"0 6 * * *", "0 6 * * 0", "TZ=Asia/Jakarta 0 6 * * *", "CRON_TZ=Asia/Makassar 30 7 * * 1-5", "@daily"} {
		t.Run(expr+" is a schedule", func(t *testing.T) {
			if _, err := domain.ParseSchedule(expr); err != nil {
				t.Errorf("ParseSchedule(%q) = %v", expr, err)
			}
		})
	}
}
