package main

import (
	"strings"
	"testing"
)

func TestTheWhatsAppCloudConfiguration(t *testing.T) {
	full := func(extra map[string]string) map[string]string {
		v := map[string]string{
			"WHATSAPP_CLOUD_TOKEN": cloudToken, "WHATSAPP_CLOUD_PHONE_ID": cloudPhoneID,
			"WHATSAPP_CLOUD_APP_SECRET": cloudSecret, "WHATSAPP_CLOUD_VERIFY_TOKEN": cloudVerify,
		}
		for k, x := range extra {
			v[k] = x
		}
		return v
	}
	for _, tc := range []struct {
		name  string
		vars  map[string]string
		names []string
	}{
		{"whatsmeow and the Cloud API at once is a start error naming both", full(map[string]string{"WHATSAPP_ENABLED": "true"}), []string{"WHATSAPP_ENABLED", "WHATSAPP_CLOUD_TOKEN"}},
		{"a token alone names what is missing", map[string]string{"WHATSAPP_CLOUD_TOKEN": cloudToken}, []string{"WHATSAPP_CLOUD_PHONE_ID", "WHATSAPP_CLOUD_APP_SECRET", "WHATSAPP_CLOUD_VERIFY_TOKEN"}},
		{"a phone id that is not digits", full(map[string]string{"WHATSAPP_CLOUD_PHONE_ID": "+62 857"}), []string{"WHATSAPP_CLOUD_PHONE_ID"}},
		{"an API that is no URL", full(map[string]string{"WHATSAPP_CLOUD_API": "graph.facebook.com"}), []string{"WHATSAPP_CLOUD_API"}},
		{"a rate that is no number", full(map[string]string{"WHATSAPP_CLOUD_MPS": "fast"}), []string{"WHATSAPP_CLOUD_MPS"}},
		{"staff alerts to a WhatsApp group cannot go through the Cloud API", full(map[string]string{"STAFF_NOTIFY": "whatsapp:120363000000000000@g.us"}), []string{"STAFF_NOTIFY"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := loadConfig(env(tc.vars))
			if err == nil {
				t.Fatal("accepted")
			}
			for _, n := range tc.names {
				if !strings.Contains(err.Error(), n) {
					t.Errorf("%v: does not name %s", err, n)
				}
			}
			for _, secret := range []string{cloudToken, cloudSecret, cloudVerify} {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("the error repeats a secret: %v", err)
				}
			}
		})
	}
	t.Run("a complete configuration runs the whatsapp channel and lets staff alerts go to a number", func(t *testing.T) {
		c, err := loadConfig(env(full(map[string]string{"STAFF_NOTIFY": "whatsapp:+6281234567890"})))
		if err != nil {
			t.Fatal(err)
		}
		if !c.WhatsAppCloud.Enabled() || c.WhatsAppCloud.PerSecond != 80 || c.StaffNotify != "whatsapp:6281234567890" {
			t.Errorf("config %+v, notify %q", c.WhatsAppCloud.PerSecond, c.StaffNotify)
		}
	})
}

func TestSendingLimitsAreConfigurablePerChannel(t *testing.T) {
	load := func(vars map[string]string) (config, error) {
		return loadConfig(func(k string) string { return vars[k] })
	}
	c, err := load(map[string]string{"DATA_DIR": t.TempDir(), "TELEGRAM_TOKEN": "1:x", "TELEGRAM_SEND_LIMITS": "1000/s,burst=100", "WHATSAPP_SEND_LIMITS": "off"})
	if err != nil {
		t.Fatal(err)
	}
	if c.TelegramLimits == nil || c.TelegramLimits.PerSecond != 1000 || c.TelegramLimits.Burst != 100 || c.TelegramLimits.PerChat != 1 {
		t.Errorf("TELEGRAM_SEND_LIMITS=1000/s,burst=100 gave %+v; want 1000/s, burst 100, the per-chat default kept", c.TelegramLimits)
	}
	if c.WhatsAppLimits == nil || c.WhatsAppLimits.PerSecond != 0 || c.WhatsAppLimits.Jitter != 0 || c.WhatsAppCloudLimits == nil || c.WhatsAppCloudLimits.PerSecond != 0 {
		t.Errorf("WHATSAPP_SEND_LIMITS=off left rates: %+v %+v", c.WhatsAppLimits, c.WhatsAppCloudLimits)
	}
	if c, _ := load(map[string]string{"DATA_DIR": t.TempDir()}); c.TelegramLimits != nil || c.WhatsAppLimits != nil {
		t.Error("without the variables the channels' own defaults should apply")
	}
	_, err = load(map[string]string{"DATA_DIR": t.TempDir(), "WHATSAPP_SEND_LIMITS": "fast"})
	if err == nil || !strings.Contains(err.Error(), "WHATSAPP_SEND_LIMITS") || strings.Count(err.Error(), "WHATSAPP_SEND_LIMITS") != 1 {
		t.Errorf("a bad WHATSAPP_SEND_LIMITS = %v, want one error naming it", err)
	}
}
