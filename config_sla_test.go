package main

import (
	"strings"
	"testing"
)

func TestDeadlinesAreWorkingDaysAndTheOldSettingStillWorks(t *testing.T) {
	for _, c := range []struct {
		name           string
		vars           map[string]string
		verify, follow int
		warn, err      string
	}{
		{"defaults", nil, 3, 5, "", ""},
		{"set", map[string]string{"SLA_VERIFY_DAYS": "2", "SLA_FOLLOWUP_DAYS": "10"}, 2, 10, "", ""},
		{"COMPLAINT_SLA alone is read, rounded up to whole days", map[string]string{"COMPLAINT_SLA": "36h"}, 2, 5, "SLA_VERIFY_DAYS=2", ""},
		{"COMPLAINT_SLA beside SLA_VERIFY_DAYS is ignored", map[string]string{"COMPLAINT_SLA": "96h", "SLA_VERIFY_DAYS": "3"}, 3, 5, "ignored", ""},
		{"a bad COMPLAINT_SLA still stops the start", map[string]string{"COMPLAINT_SLA": "dua hari"}, 0, 0, "", "COMPLAINT_SLA"},
		{"zero days", map[string]string{"SLA_FOLLOWUP_DAYS": "0"}, 0, 0, "", "SLA_FOLLOWUP_DAYS"},
		{"not a number", map[string]string{"SLA_VERIFY_DAYS": "3d"}, 0, 0, "", "SLA_VERIFY_DAYS"},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg, err := loadConfig(env(c.vars))
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("error %v, want one naming %s", err, c.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if cfg.VerifyDays != c.verify || cfg.FollowUpDays != c.follow {
				t.Errorf("verify %d, follow-up %d working days; want %d, %d", cfg.VerifyDays, cfg.FollowUpDays, c.verify, c.follow)
			}
			warned := strings.Join(cfg.Warnings, "\n")
			if c.warn == "" && warned != "" || !strings.Contains(warned, c.warn) || c.warn != "" && !strings.Contains(warned, "deprecated") {
				t.Errorf("warnings %q, want one saying %q", warned, c.warn)
			}
		})
	}
}

// An agency's staff chat is checked at start like STAFF_NOTIFY.
func TestAnAgencysChatIsCheckedLikeStaffNotify(t *testing.T) {
	cfg, err := loadConfig(env(map[string]string{}))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cfg.NotifyTarget("agencies[pupr].notify", "telegram:-100123"); err == nil || !strings.Contains(err.Error(), "TELEGRAM_TOKEN") {
		t.Errorf("a Telegram chat without Telegram: %v", err)
	}
	if _, err := cfg.NotifyTarget("agencies[pupr].notify", "sms:123"); err == nil || !strings.Contains(err.Error(), "agencies[pupr].notify") {
		t.Errorf("an unknown channel: %v", err)
	}
	token := strings.Repeat("Ab1_", 8)
	if got, err := cfg.NotifyTarget("agencies[pupr].notify", "webchat:"+token); err != nil || strings.Contains(got, token) {
		t.Errorf("a web chat: %q, %v; want its conversation, not the token", got, err)
	}
}
