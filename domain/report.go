package domain

import (
	"cmp"
	"math"
	"slices"
	"time"
)

// ReportRow is one line of the leaders' report: the complaints of one category and
// agency filed in the period, and what became of them.
type ReportRow struct {
	Category string `json:"category"`
	Agency   string `json:"agency"` // "" with the admins, not passed on
	Received int    `json:"received"`
	Finished int    `json:"finished"` // selesai now
	Rejected int    `json:"rejected"` // ditolak now (duplicates too)
	Overdue  int    `json:"overdue"`  // open and past their deadline at the report's time
	// MedianHoursToFinish is the median time from filing to the last finish of the
	// finished ones, in hours (0 when none is finished).
	MedianHoursToFinish float64 `json:"median_hours_to_finish"`
	Rated               int     `json:"rated"`          // finished ones the reporter rated
	AverageRating       float64 `json:"average_rating"` // of those, 1–5 (0 when none)
}

// Report groups complaints by category and agency, sorted by category then agency,
// with the total over all of them; now decides which are overdue.
func Report(cs []*Complaint, now time.Time) ([]ReportRow, ReportRow) {
	type acc struct {
		row     ReportRow
		hours   []float64
		ratings int
	}
	groups := map[[2]string]*acc{}
	all := &acc{}
	for _, c := range cs {
		k := [2]string{c.Category, c.Agency}
		g := groups[k]
		if g == nil {
			g = &acc{row: ReportRow{Category: c.Category, Agency: c.Agency}}
			groups[k] = g
		}
		for _, a := range []*acc{g, all} {
			a.row.Received++
			switch c.Status {
			case StatusDone:
				a.row.Finished++
				a.hours = append(a.hours, c.doneAt().Sub(c.CreatedAt).Hours())
			case StatusRejected:
				a.row.Rejected++
			}
			if c.Overdue(now) {
				a.row.Overdue++
			}
			if c.Rating > 0 {
				a.row.Rated++
				a.ratings += c.Rating
			}
		}
	}
	finish := func(a *acc) ReportRow {
		a.row.MedianHoursToFinish = median(a.hours)
		if a.row.Rated > 0 {
			a.row.AverageRating = math.Round(float64(a.ratings)/float64(a.row.Rated)*100) / 100
		}
		return a.row
	}
	rows := make([]ReportRow, 0, len(groups))
	for _, g := range groups {
		rows = append(rows, finish(g))
	}
	slices.SortFunc(rows, func(a, b ReportRow) int {
		return cmp.Or(cmp.Compare(a.Category, b.Category), cmp.Compare(a.Agency, b.Agency))
	})
	return rows, finish(all)
}

// median of xs rounded to a tenth, 0 for none.
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	slices.Sort(xs)
	m := xs[len(xs)/2]
	if len(xs)%2 == 0 {
		m = (xs[len(xs)/2-1] + xs[len(xs)/2]) / 2
	}
	return math.Round(m*10) / 10
}
