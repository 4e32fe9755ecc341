package domain_test

import (
	"reflect"
	"testing"
	"time"

	"github.com/layan-id/layan/domain"
)

func TestSchedulesAreDescribedInSimpleWordsWhereTheyFit(t *testing.T) {
	jakarta, err := time.LoadLocation("Asia/Jakarta")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 27, 9, 0, 0, 0, jakarta) // a Friday
	at6 := []domain.Clock{{Hour: 6}}
	for _, tc := range []struct {
		cron string
		want domain.Timing
	}{
		{"0 6 * * *", domain.Timing{Repeat: domain.Daily, Times: at6}},
		{"@daily", domain.Timing{Repeat: domain.Daily, Times: []domain.Clock{{}}}},
		{"0 6 * * 0-6", domain.Timing{Repeat: domain.Daily, Times: at6}},
		{"0 6 * * 1-5", domain.Timing{Repeat: domain.Weekdays, Times: at6}},
		{"0 6 * * MON-FRI", domain.Timing{Repeat: domain.Weekdays, Times: at6}},
		{"0 6 * * 1", domain.Timing{Repeat: domain.Weekly, Times: at6, Days: []time.Weekday{time.Monday}}},
		{"30 17 * * 0,4", domain.Timing{Repeat: domain.Weekly, Times: []domain.Clock{{Hour: 17, Minute: 30}}, Days: []time.Weekday{time.Thursday, time.Sunday}}},
		{"@weekly", domain.Timing{Repeat: domain.Weekly, Times: []domain.Clock{{}}, Days: []time.Weekday{time.Sunday}}},
		{"0 6,18 * * *", domain.Timing{Repeat: domain.Daily, Times: []domain.Clock{{Hour: 6}, {Hour: 18}}}},
		{"15 * * * *", domain.Timing{Repeat: domain.Hourly, Times: []domain.Clock{{Minute: 15}}}},
		{"0 7 1 * *", domain.Timing{Repeat: domain.Monthly, Times: []domain.Clock{{Hour: 7}}, Day: 1}},
		{"0 7 17 8 *", domain.Timing{Repeat: domain.Yearly, Times: []domain.Clock{{Hour: 7}}, Day: 17, Month: time.August}},
		{"TZ=Asia/Makassar 0 6 * * *", domain.Timing{Repeat: domain.Daily, Times: at6, Zone: "Asia/Makassar"}},
		{"TZ=Asia/Jakarta 0 6 * * *", domain.Timing{Repeat: domain.Daily, Times: at6}},
		// No simple words: the schedule as written and its next run.
		{"0 6 1-7 * 1", domain.Timing{Repeat: domain.Custom, Cron: "0 6 1-7 * 1", At: time.Date(2026, 11, 30, 6, 0, 0, 0, jakarta)}},
		{"*/10 8-16 * * *", domain.Timing{Repeat: domain.Custom, Cron: "*/10 8-16 * * *", At: time.Date(2026, 11, 27, 9, 10, 0, 0, jakarta)}},
		{"0 6 1,15 * *", domain.Timing{Repeat: domain.Custom, Cron: "0 6 1,15 * *", At: time.Date(2026, 12, 1, 6, 0, 0, 0, jakarta)}},
		{"not a schedule", domain.Timing{Repeat: domain.Custom, Cron: "not a schedule"}},
	} {
		t.Run(tc.cron, func(t *testing.T) {
			got := domain.DescribeSchedule(tc.cron, jakarta, now)
			if got.Repeat == domain.Custom && !got.At.IsZero() && got.At.Equal(tc.want.At) {
				got.At = tc.want.At // the same instant; compare the rest
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("DescribeSchedule(%q) = %+v, want %+v", tc.cron, got, tc.want)
			}
		})
	}
}

func TestABroadcastsTimingIsItsTimeOrItsScheduleUntilItsEnd(t *testing.T) {
	jakarta, err := time.LoadLocation("Asia/Jakarta")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 27, 2, 0, 0, 0, time.UTC)
	at := time.Date(2026, 12, 5, 23, 0, 0, 0, time.UTC) // Sunday 6 December, 06:00 in Jakarta
	once := (&domain.Broadcast{At: &at}).Timing(jakarta, now)
	if once.Repeat != domain.Once || once.At.Location() != jakarta || once.At.Day() != 6 || once.At.Hour() != 6 {
		t.Errorf("a single time: %+v", once)
	}
	end := time.Date(2026, 12, 31, 0, 0, 0, 0, jakarta)
	weekly := (&domain.Broadcast{Cron: "0 6 * * 1", End: &end}).Timing(jakarta, now)
	if weekly.Repeat != domain.Weekly || weekly.Until == nil || !weekly.Until.Equal(end) {
		t.Errorf("a schedule with an end: %+v", weekly)
	}
}
