package main

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/layan-id/layan/bot"
	"github.com/layan-id/layan/bot/clientip"
	"github.com/layan-id/layan/bot/webchat"
	"github.com/layan-id/layan/store"
)

// webConfig is what the web chat and its photos read from the environment.
type webConfig struct {
	Limits         webchat.Limits // WEBCHAT_LIMITS: the web chat's rate limits, or off per client address
	FrameAncestors string         // WEBCHAT_FRAME_ANCESTORS: who may frame the page, default 'self'
	MediaQuota     int64          // MEDIA_QUOTA: bytes DATA_DIR/media may hold, default 2 GiB
	// TrustedProxies (TRUSTED_PROXIES): proxies whose X-Forwarded-For names the client.
	TrustedProxies clientip.Trusted
}

// load reads the web chat's variables through get (name, default → value) and
// returns what is wrong with them, each naming its variable.
func (w *webConfig) load(get func(name, def string) string) []error {
	var errs []error
	limits, err := webchat.ParseLimits(get("WEBCHAT_LIMITS", ""))
	if err != nil {
		errs = append(errs, fmt.Errorf("WEBCHAT_LIMITS: %w (e.g. new=20/min,burst=30,messages=5/s, or off)", err))
	}
	w.Limits = limits
	fa, err := webchat.ParseFrameAncestors(get("WEBCHAT_FRAME_ANCESTORS", webchat.DefaultFrameAncestors))
	if err != nil {
		errs = append(errs, fmt.Errorf("WEBCHAT_FRAME_ANCESTORS: %w", err))
	}
	w.FrameAncestors = fa
	tp, err := clientip.Parse(get("TRUSTED_PROXIES", ""))
	if err != nil {
		errs = append(errs, fmt.Errorf("TRUSTED_PROXIES: %w", err))
	}
	w.TrustedProxies = tp
	w.MediaQuota = store.DefaultMediaQuota
	if v := get("MEDIA_QUOTA", ""); v != "" {
		q, err := parseSize(v)
		switch {
		case err != nil:
			errs = append(errs, fmt.Errorf("MEDIA_QUOTA: %w", err))
		case q < bot.MaxPhotoSize:
			errs = append(errs, fmt.Errorf("MEDIA_QUOTA %q: want room for at least one 10 MB photo, e.g. 500MiB or 2GiB", v))
		}
		w.MediaQuota = q
	}
	return errs
}

// parseSize reads a size such as 2GiB, 500MiB, 1.5GB or 1048576 (bytes). Binary
// units (KiB, MiB, GiB, TiB) count in 1024s, decimal ones (KB, MB, GB, TB) in 1000s;
// the case does not matter.
func parseSize(s string) (int64, error) {
	units := []struct {
		suffix string
		scale  float64
	}{
		{"kib", 1 << 10}, {"mib", 1 << 20}, {"gib", 1 << 30}, {"tib", 1 << 40},
		{"kb", 1e3}, {"mb", 1e6}, {"gb", 1e9}, {"tb", 1e12}, {"b", 1},
	}
	num, scale := strings.ToLower(strings.TrimSpace(s)), 1.0
	for _, u := range units {
		if n, ok := strings.CutSuffix(num, u.suffix); ok {
			num, scale = strings.TrimSpace(n), u.scale
			break
		}
	}
	f, err := strconv.ParseFloat(num, 64)
	if err != nil || f < 0 || math.IsInf(f*scale, 0) || f*scale > math.MaxInt64/2 {
		return 0, fmt.Errorf("%q is not a size such as 2GiB or 500MiB", s)
	}
	return int64(f * scale), nil
}

// webLimits counts the web chat's limits in Redis, for every replica at once.
type webLimits struct{ rl *store.RateLimits }

func (l webLimits) Allow(ctx context.Context, key string, r webchat.Rate, burst int) (bool, error) {
	return l.rl.Allow(ctx, key, r.N, r.Per, burst)
}
