package store_test

import (
	"bytes"
	"errors"
	"image"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/layan-id/layan/store"
)

func pngBytes(t *testing.T) []byte {
	var b bytes.Buffer
	if err := png.Encode(&b, image.NewRGBA(image.Rect(0, 0, 4, 4))); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestPhotosAreJudgedByContentAndSize(t *testing.T) {
	dir := t.TempDir()
	m, err := store.NewMedia(dir)
	if err != nil {
		t.Fatal(err)
	}
	name, mime, err := m.Save(bytes.NewReader(pngBytes(t)))
	if err != nil || mime != "image/png" || !strings.HasSuffix(name, ".png") || len(name) < 32 {
		t.Fatalf("a PNG: %q %q %v", name, mime, err)
	}
	f, err := m.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	cases := []struct {
		name string
		data io.Reader
		want error
	}{
		{"a PDF", strings.NewReader("%PDF-1.4 ..."), store.ErrUnsupported},
		{"a script named like a photo", strings.NewReader("<html><script>alert(1)</script>"), store.ErrUnsupported},
		{"a photo over 10 MB", io.MultiReader(bytes.NewReader(pngBytes(t)), bytes.NewReader(make([]byte, store.MaxPhoto))), store.ErrTooLarge},
	}
	for _, c := range cases {
		t.Run(c.name+" is refused and nothing is kept", func(t *testing.T) {
			if _, _, err := m.Save(c.data); !errors.Is(err, c.want) {
				t.Errorf("Save = %v, want %v", err, c.want)
			}
			files, _ := os.ReadDir(dir)
			if len(files) != 1 {
				t.Errorf("%d files in the media directory, want only the PNG", len(files))
			}
		})
	}
	if _, err := m.Open("../" + filepath.Base(dir)); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a path outside the directory opened: %v", err)
	}
}

func TestPhotosOfDraftsNeverFiledArePruned(t *testing.T) {
	dir := t.TempDir()
	m, _ := store.NewMedia(dir)
	kept, _, _ := m.Save(bytes.NewReader(pngBytes(t)))
	stray, _, _ := m.Save(bytes.NewReader(pngBytes(t)))
	fresh, _, _ := m.Save(bytes.NewReader(pngBytes(t)))
	old := time.Now().Add(-48 * time.Hour)
	os.Chtimes(filepath.Join(dir, kept), old, old)
	os.Chtimes(filepath.Join(dir, stray), old, old)
	n, err := m.Prune(24*time.Hour, func(name string) (bool, error) { return name == kept, nil })
	if err != nil || n != 1 {
		t.Fatalf("pruned %d (%v), want 1", n, err)
	}
	for name, want := range map[string]bool{kept: true, stray: false, fresh: true} {
		if _, err := os.Stat(filepath.Join(dir, name)); (err == nil) != want {
			t.Errorf("%s exists: %v, want %v", name, err == nil, want)
		}
	}
}
