package domain

import (
	"testing"
	"time"
)

func TestRunIDsRoundTripAndBadOnesAreRefused(t *testing.T) {
	fire := time.Date(2026, 12, 6, 6, 0, 0, 0, time.UTC)
	for _, bc := range []string{"banjir-minggu", "tip:of:the:day", "a"} {
		id, at, ok := ParseRunID(RunID(bc, fire))
		if !ok || id != bc || !at.Equal(fire) {
			t.Errorf("ParseRunID(RunID(%q)) = %q %v %v", bc, id, at, ok)
		}
	}
	for _, bad := range []string{"", "tanpa-titik-dua", ":123", "banjir:", "banjir:jam6"} {
		if _, _, ok := ParseRunID(bad); ok {
			t.Errorf("ParseRunID(%q) accepted a malformed run id", bad)
		}
	}
}
