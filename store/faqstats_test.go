package store_test

import (
	"context"
	"strings"
	"testing"

	"github.com/layan-id/layan/store"
	"github.com/layan-id/layan/store/storetest"
)

func TestUnansweredQuestionsAreCountedMaskedAndRanked(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		ctx := context.Background()
		st := b.Store.FAQStats()
		for _, q := range []string{"cara bikin paspor", "Cara  bikin PASPOR", "nik saya 3325012345678901 salah", "resep rendang"} {
			if err := st.CountUnanswered(ctx, q); err != nil {
				t.Fatal(err)
			}
		}
		top, err := st.TopUnanswered(ctx, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(top) != 3 || top[0].Question != "cara bikin paspor" || top[0].Count != 2 || top[0].Last.IsZero() {
			t.Fatalf("top = %+v, want the paspor question first, counted twice, with when it was last asked", top)
		}
		for _, c := range top {
			if strings.Contains(c.Question, "3325") {
				t.Errorf("a NIK was stored: %q", c.Question)
			}
		}
	})
}

func TestFeedbackIsCountedPerEntry(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		ctx := context.Background()
		st := b.Store.FAQStats()
		st.CountFeedback(ctx, "ktp-hilang", true)
		st.CountFeedback(ctx, "ktp-hilang", true)
		st.CountFeedback(ctx, "ktp-hilang", false)
		fb, err := st.Feedback(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if fb["ktp-hilang"] != [2]int64{2, 1} {
			t.Errorf("feedback = %v, want 2 helpful and 1 not", fb)
		}
	})
}

func TestMaskQuestionKeepsQuestionsShortAndWithoutLongNumbers(t *testing.T) {
	if got := store.MaskQuestion("HP saya 081234567890 hilang"); got != "hp saya ############ hilang" {
		t.Errorf("masked = %q", got)
	}
	if got := store.MaskQuestion(strings.Repeat("é", 300)); len(got) > 200 {
		t.Errorf("masked to %d bytes, want at most 200", len(got))
	}
}
