package flows_test

import (
	"testing"
	"time"

	"github.com/layan-id/layan/flows"
)

func TestOfficeHoursSayWhenStaffAnswerAndWhenTheyOpenNext(t *testing.T) {
	jakarta, _ := time.LoadLocation("Asia/Jakarta")
	h, err := flows.ParseOfficeHours("mon-fri 08:00-16:00; sat 08:00-12:00", []string{"2026-12-25"}, jakarta)
	if err != nil {
		t.Fatal(err)
	}
	at := func(s string) time.Time {
		tm, err := time.ParseInLocation("2006-01-02 15:04", s, jakarta)
		if err != nil {
			t.Fatal(err)
		}
		return tm
	}
	for _, tc := range []struct {
		name, at, next string
	}{
		{"a Friday morning is open", "2026-11-27 09:00", "2026-11-27 09:00"},
		{"Friday at four has closed; Saturday opens", "2026-11-27 16:00", "2026-11-28 08:00"},
		{"Saturday afternoon waits for Monday", "2026-11-28 12:30", "2026-11-30 08:00"},
		{"early Monday waits for eight", "2026-11-30 06:59", "2026-11-30 08:00"},
		{"Christmas (a holiday) waits for Saturday", "2026-12-25 10:00", "2026-12-26 08:00"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			next, ok := h.NextOpen(at(tc.at))
			if !ok || !next.Equal(at(tc.next)) {
				t.Errorf("next open after %s = %v (%v), want %s", tc.at, next, ok, tc.next)
			}
			if open := h.Open(at(tc.at)); open != (tc.at == tc.next) {
				t.Errorf("open at %s = %v", tc.at, open)
			}
		})
	}
	always, _ := flows.ParseOfficeHours("always", nil, jakarta)
	if !always.Open(at("2026-11-29 03:00")) {
		t.Error(`"always" is closed on a Sunday night`)
	}
	for _, bad := range []string{"", "mon-fri", "weekdays 08:00-16:00", "mon 16:00-08:00", "mon 8-16"} {
		if _, err := flows.ParseOfficeHours(bad, nil, jakarta); err == nil {
			t.Errorf("%q was accepted", bad)
		}
	}
}
