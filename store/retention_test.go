package store_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/layan-id/layan/domain"
	"github.com/layan-id/layan/store"
	"github.com/layan-id/layan/store/storetest"
)

// A day after they were sent, photos that no filed complaint holds are removed; the
// photos of a filed complaint and those of today stay.
func TestPhotosNoFiledComplaintHoldsAreRemovedAfterADay(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		ctx := context.Background()
		dir := t.TempDir()
		media, err := store.NewMedia(dir)
		if err != nil {
			t.Fatal(err)
		}
		save := func(age time.Duration) string {
			name, _, err := media.Save(bytes.NewReader(pngBytes(t)))
			if err != nil {
				t.Fatal(err)
			}
			at := time.Now().Add(-age)
			os.Chtimes(filepath.Join(dir, name), at, at)
			return name
		}
		filed, draft, today := save(30*time.Hour), save(30*time.Hour), save(time.Hour)
		complaints := b.Store.Complaints("ADU", time.UTC)
		at := time.Now().Add(-30 * time.Hour)
		if _, _, err := complaints.Create(ctx, &domain.Complaint{
			Status: domain.StatusReceived, Category: "jalan", Description: "jalan berlubang", Photos: []string{filed},
			Reporter:  domain.Reporter{Channel: "webchat", ChatID: "a", Key: "webchat:a"},
			CreatedAt: at, UpdatedAt: at, History: []domain.Event{{At: at, Status: domain.StatusReceived, By: "citizen"}},
		}, "webchat:a:1"); err != nil {
			t.Fatal(err)
		}
		n, err := complaints.PrunePhotos(ctx, media)
		if err != nil || n != 1 {
			t.Fatalf("removed %d photos (%v), want the draft's one", n, err)
		}
		for name, want := range map[string]bool{filed: true, draft: false, today: true} {
			if _, err := os.Stat(filepath.Join(dir, name)); (err == nil) != want {
				t.Errorf("%s on disk: %v, want %v", name, err == nil, want)
			}
		}
	})
}
