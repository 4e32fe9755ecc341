package locales_test

import (
	"testing"
	"time"

	"github.com/layan-id/layan/domain"
)

func TestSchedulesReadAsWords(t *testing.T) {
	c := load(t, "")
	jakarta, err := time.LoadLocation("Asia/Jakarta")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 27, 9, 0, 0, 0, jakarta)
	sunday := time.Date(2026, 12, 6, 6, 0, 0, 0, jakarta)
	end := time.Date(2026, 12, 31, 0, 0, 0, 0, jakarta)
	for _, tc := range []struct {
		name   string
		timing domain.Timing
		id, en string
	}{
		{"once", (&domain.Broadcast{At: &sunday}).Timing(jakarta, now),
			"sekali, Minggu 6 Desember 2026 pukul 06.00", "once, Sunday 6 December 2026 at 06:00"},
		{"weekdays", domain.DescribeSchedule("0 6 * * 1-5", jakarta, now),
			"setiap hari kerja pukul 06.00", "every weekday at 06:00"},
		{"every Monday", domain.DescribeSchedule("0 6 * * 1", jakarta, now),
			"setiap Senin pukul 06.00", "every Monday at 06:00"},
		{"three days", domain.DescribeSchedule("30 16 * * 0,3,5", jakarta, now),
			"setiap Rabu, Jumat dan Minggu pukul 16.30", "every Wednesday, Friday and Sunday at 16:30"},
		{"twice a day", domain.DescribeSchedule("0 6,18 * * *", jakarta, now),
			"setiap hari pukul 06.00 dan 18.00", "every day at 06:00 and 18:00"},
		{"every hour", domain.DescribeSchedule("5 * * * *", jakarta, now),
			"setiap jam pada menit ke-5", "every hour at minute 5"},
		{"monthly", domain.DescribeSchedule("0 7 1 * *", jakarta, now),
			"setiap tanggal 1 pukul 07.00", "on day 1 of every month at 07:00"},
		{"yearly", domain.DescribeSchedule("0 7 17 8 *", jakarta, now),
			"setiap 17 Agustus pukul 07.00", "every year on 17 August at 07:00"},
		{"until", (&domain.Broadcast{Cron: "0 6 * * 1-5", End: &end}).Timing(jakarta, now),
			"setiap hari kerja pukul 06.00 sampai 31 Desember 2026", "every weekday at 06:00 until 31 December 2026"},
		{"another zone", domain.DescribeSchedule("TZ=Asia/Makassar 0 6 * * *", jakarta, now),
			"setiap hari pukul 06.00 waktu Asia/Makassar", "every day at 06:00 Asia/Makassar time"},
		{"no simple words", domain.DescribeSchedule("0 6 1-7 * 1", jakarta, now),
			"menurut jadwal khusus (0 6 1-7 * 1), berikutnya Senin 30 November 2026 pukul 06.00",
			"on a custom schedule (0 6 1-7 * 1), next on Monday 30 November 2026 at 06:00"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for lang, want := range map[string]string{"id": tc.id, "en": tc.en} {
				got, err := c.Schedule(lang, tc.timing)
				if err != nil || got != want {
					t.Errorf("in %s: %q (%v), want %q", lang, got, err, want)
				}
			}
		})
	}
}
