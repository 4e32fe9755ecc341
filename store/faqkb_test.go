package store_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/layan-id/layan/domain"
	"github.com/layan-id/layan/store/storetest"
)

func TestStaffEntriesArePublishedWithAVersionAndAHistory(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		ctx := context.Background()
		kb := b.Store.FAQBase()
		if v, err := kb.Version(ctx); err != nil || v != 0 {
			t.Fatalf("version before any publish = %d, %v; want 0", v, err)
		}
		at := time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)
		first := domain.FAQEntry{ID: "paspor", Questions: map[string][]string{"id": {"cara bikin paspor"}}, Answer: map[string]string{"id": "Ke kantor imigrasi."}}
		v1, err := kb.Publish(ctx, first, nil, "sari", at)
		if err != nil {
			t.Fatal(err)
		}
		second := first.Clone()
		second.Answer["en"] = "At the immigration office."
		v2, err := kb.Publish(ctx, second, &first, "budi", at.Add(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		if v2 <= v1 {
			t.Errorf("versions %d then %d: want each publish to raise it", v1, v2)
		}
		entries, v, err := kb.Entries(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if v != v2 || len(entries) != 1 || entries[0].Answer["en"] != "At the immigration office." {
			t.Fatalf("entries = %+v at version %d; want the second paspor at %d", entries, v, v2)
		}
		hist, err := kb.Changes(ctx, "paspor", 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(hist) != 2 || hist[0].By != "budi" || !slices.Equal(hist[0].Fields, []string{"answer.en"}) ||
			hist[1].By != "sari" || hist[1].Before != nil || !hist[0].At.Equal(at.Add(time.Hour)) {
			t.Errorf("history = %+v; want budi's English answer, then sari's new entry", hist)
		}
		if all, _ := kb.Changes(ctx, "", 10); len(all) != 2 {
			t.Errorf("all changes = %d, want 2", len(all))
		}
		if other, _ := kb.Changes(ctx, "ktp-hilang", 10); len(other) != 0 {
			t.Errorf("an untouched entry has history %+v", other)
		}
	})
}

func TestUnansweredQuestionsKeepWhenTheyWereLastAsked(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		ctx := context.Background()
		st := b.Store.FAQStats()
		for _, q := range []string{"cara bikin paspor", "resep rendang", "cara bikin paspor"} {
			if err := st.CountUnanswered(ctx, q); err != nil {
				t.Fatal(err)
			}
		}
		newest, err := st.NewestUnanswered(ctx, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(newest) != 2 || newest[0].Last.IsZero() {
			t.Fatalf("newest = %+v; want both questions with the time they were asked", newest)
		}
		counts := map[string]int64{}
		for _, c := range newest {
			counts[c.Question] = c.Count
		}
		if counts["cara bikin paspor"] != 2 || counts["resep rendang"] != 1 {
			t.Errorf("counts = %v", counts)
		}
	})
}
