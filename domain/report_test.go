package domain

import (
	"testing"
	"time"
)

func TestTheLeadersReport(t *testing.T) {
	t0 := time.Date(2026, 11, 2, 1, 0, 0, 0, time.UTC)
	now := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	file := func(cat, agency string) *Complaint {
		return &Complaint{Category: cat, Agency: agency, Status: StatusReceived, CreatedAt: t0,
			History: []Event{{At: t0, Status: StatusReceived, By: "citizen"}}}
	}
	done := func(c *Complaint, after time.Duration, rating int) *Complaint {
		c.Verify("sari", "", t0)
		c.Finish("budi", "beres", t0.Add(after))
		c.Rating = rating
		return c
	}
	late := file("jalan", "pupr")
	late.Phase, late.Due = PhaseFollowUp, now.Add(-time.Hour)
	rejected := file("sampah", "dlh")
	rejected.Verify("sari", "", t0)
	rejected.Reject("sari", "di luar wilayah", t0)
	rows, total := Report([]*Complaint{
		done(file("jalan", "pupr"), 10*time.Hour, 4), done(file("jalan", "pupr"), 30*time.Hour, 0),
		done(file("jalan", "pupr"), 50*time.Hour, 5), late, rejected, file("lainnya", ""),
	}, now)
	if len(rows) != 3 {
		t.Fatalf("%d rows, want jalan/pupr, lainnya/none, sampah/dlh: %+v", len(rows), rows)
	}
	j := rows[0]
	if j.Category != "jalan" || j.Agency != "pupr" || j.Received != 4 || j.Finished != 3 || j.Overdue != 1 ||
		j.MedianHoursToFinish != 30 || j.Rated != 2 || j.AverageRating != 4.5 {
		t.Errorf("jalan/pupr: %+v", j)
	}
	if rows[1].Category != "lainnya" || rows[1].Agency != "" || rows[2].Rejected != 1 {
		t.Errorf("other rows: %+v", rows[1:])
	}
	if total.Received != 6 || total.Finished != 3 || total.Rejected != 1 || total.Overdue != 1 || total.MedianHoursToFinish != 30 {
		t.Errorf("total: %+v", total)
	}
	if _, empty := Report(nil, now); empty.Received != 0 || empty.MedianHoursToFinish != 0 || empty.AverageRating != 0 {
		t.Errorf("no complaints: %+v", empty)
	}
}
