package main

import (
	"net/netip"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/layan-id/layan/bot/clientip"
	"github.com/layan-id/layan/bot/webchat"
)

func TestWebChatSettings(t *testing.T) {
	load := func(vars map[string]string) (config, error) {
		return loadConfig(func(k string) string { return vars[k] })
	}
	t.Run("the defaults limit per address, frame only from the site itself, and keep 2 GiB of photos", func(t *testing.T) {
		c, err := load(nil)
		if err != nil {
			t.Fatal(err)
		}
		if c.Web.Limits != webchat.DefaultLimits() || c.Web.FrameAncestors != "'self'" || c.Web.MediaQuota != 2<<30 {
			t.Errorf("defaults %+v", c.Web)
		}
	})
	def, off := webchat.DefaultLimits(), webchat.DefaultLimits()
	off.Off = true
	tight := def
	tight.New, tight.NewBurst, tight.Messages = webchat.Rate{N: 5, Per: time.Minute}, 10, webchat.Rate{N: 2, Per: time.Second}
	for _, tc := range []struct {
		name string
		vars map[string]string
		want webConfig
	}{
		{"WEBCHAT_LIMITS sets the rates", map[string]string{"WEBCHAT_LIMITS": "new=5/min, burst=10,messages=2/s"}, webConfig{tight, "'self'", 2 << 30, nil}},
		{"WEBCHAT_LIMITS=off lifts the limits per address", map[string]string{"WEBCHAT_LIMITS": "off"}, webConfig{off, "'self'", 2 << 30, nil}},
		{"the regency's site may frame the page", map[string]string{"WEBCHAT_FRAME_ANCESTORS": "'self' https://batangkab.go.id, https://*.batangkab.go.id"},
			webConfig{def, "'self' https://batangkab.go.id https://*.batangkab.go.id", 2 << 30, nil}},
		{"MEDIA_QUOTA in MiB", map[string]string{"MEDIA_QUOTA": "500MiB"}, webConfig{def, "'self'", 500 << 20, nil}},
		{"MEDIA_QUOTA in decimal gigabytes", map[string]string{"MEDIA_QUOTA": "1.5GB"}, webConfig{def, "'self'", 1_500_000_000, nil}},
		{"MEDIA_QUOTA in bytes", map[string]string{"MEDIA_QUOTA": "104857600"}, webConfig{def, "'self'", 100 << 20, nil}},
		{"TRUSTED_PROXIES, CIDRs and single addresses", map[string]string{"TRUSTED_PROXIES": "10.0.0.0/8, 127.0.0.1"},
			webConfig{def, "'self'", 2 << 30, clientip.Trusted{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("127.0.0.1/32")}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := load(tc.vars)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(c.Web, tc.want) {
				t.Errorf("got %+v, want %+v", c.Web, tc.want)
			}
		})
	}
	for _, tc := range []struct{ name, variable, value string }{
		{"a limits switch that is neither on nor off", "WEBCHAT_LIMITS", "sometimes"},
		{"a rate without a period", "WEBCHAT_LIMITS", "new=20"},
		{"a fractional rate", "WEBCHAT_LIMITS", "messages=0.5/s"},
		{"an unknown limit", "WEBCHAT_LIMITS", "photos=3/min"},
		{"a burst of none", "WEBCHAT_LIMITS", "burst=0"},
		{"a frame source that would break the header", "WEBCHAT_FRAME_ANCESTORS", "https://a.go.id; script-src *"},
		{"'none' with other sources", "WEBCHAT_FRAME_ANCESTORS", "'none' https://a.go.id"},
		{"a path instead of an origin", "WEBCHAT_FRAME_ANCESTORS", "https://a.go.id/chat?x=1"},
		{"a quota that is not a size", "MEDIA_QUOTA", "banyak"},
		{"a quota without room for one photo", "MEDIA_QUOTA", "1MiB"},
		{"a negative quota", "MEDIA_QUOTA", "-2GiB"},
		{"a proxy named by host name", "TRUSTED_PROXIES", "proxy.batangkab.go.id"},
	} {
		t.Run(tc.name+" stops the start, naming "+tc.variable, func(t *testing.T) {
			_, err := load(map[string]string{tc.variable: tc.value})
			if err == nil || !strings.Contains(err.Error(), tc.variable) {
				t.Errorf("%s=%q: error %v, want one naming %s", tc.variable, tc.value, err, tc.variable)
			}
		})
	}
}
