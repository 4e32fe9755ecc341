package bot

import (
	"testing"
	"time"
)

func TestSendingLimitsAsOperatorsWriteThem(t *testing.T) {
	def := Limits{PerSecond: 25, Burst: 5, PerChat: 1, Attempts: 4, Backoff: 500 * time.Millisecond}
	for in, want := range map[string]Limits{
		"":                               def,
		"off":                            {Burst: 5, Attempts: 4, Backoff: 500 * time.Millisecond},
		"1000/s,burst=100":               {PerSecond: 1000, Burst: 100, PerChat: 1, Attempts: 4, Backoff: 500 * time.Millisecond},
		"25/s, chat=1/s":                 def,
		"60/min,chat=30/min,jitter=1.5s": {PerSecond: 1, Burst: 5, PerChat: 0.5, Jitter: 1500 * time.Millisecond, Attempts: 4, Backoff: 500 * time.Millisecond},
		"3600/h":                         {PerSecond: 1, Burst: 5, PerChat: 1, Attempts: 4, Backoff: 500 * time.Millisecond},
	} {
		got, err := ParseLimits(in, def)
		if err != nil || got != want {
			t.Errorf("ParseLimits(%q) = %+v, %v; want %+v", in, got, err, want)
		}
	}
	for _, bad := range []string{"25", "25/day", "-1/s", "chat=fast", "burst=0", "speed=1/s", "jitter=-1s"} {
		if _, err := ParseLimits(bad, def); err == nil {
			t.Errorf("ParseLimits(%q) accepted it", bad)
		}
	}
}
