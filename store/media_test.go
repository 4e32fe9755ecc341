package store_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"image"
	"image/jpeg"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/layan-id/layan/bot"
	"github.com/layan-id/layan/store"
)

func pngBytes(t *testing.T) []byte {
	var b bytes.Buffer
	if err := png.Encode(&b, image.NewRGBA(image.Rect(0, 0, 4, 4))); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func jpegBytes(t *testing.T) []byte {
	var b bytes.Buffer
	if err := jpeg.Encode(&b, image.NewRGBA(image.Rect(0, 0, 4, 4)), nil); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// webpBytes is a 1×1 lossless WebP.
var webpBytes = []byte("RIFF\x1a\x00\x00\x00WEBPVP8L\x0d\x00\x00\x00\x2f\x00\x00\x00\x10\x07\x10\x11\x11\x88\x88\xfe\x07\x00")

// pngHeader is the start of a PNG that claims w×h pixels, followed by a chunk of
// padding bytes: its header decodes, whatever follows.
func pngHeader(w, h uint32, padding int) []byte {
	chunk := func(typ string, data []byte) []byte {
		var b bytes.Buffer
		binary.Write(&b, binary.BigEndian, uint32(len(data)))
		b.WriteString(typ)
		b.Write(data)
		binary.Write(&b, binary.BigEndian, crc32.ChecksumIEEE(append([]byte(typ), data...)))
		return b.Bytes()
	}
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], w)
	binary.BigEndian.PutUint32(ihdr[4:], h)
	ihdr[8], ihdr[9] = 8, 6 // 8 bits, RGBA
	out := append([]byte("\x89PNG\r\n\x1a\n"), chunk("IHDR", ihdr)...)
	return append(out, chunk("zPad", make([]byte, padding))...)
}

func TestPhotosAreJudgedByContentAndSize(t *testing.T) {
	dir := t.TempDir()
	m, err := store.NewMedia(dir)
	if err != nil {
		t.Fatal(err)
	}
	var kept int
	for _, tc := range []struct {
		name, mime, ext string
		data            []byte
	}{
		{"a PNG", "image/png", ".png", pngBytes(t)},
		{"a JPEG", "image/jpeg", ".jpg", jpegBytes(t)},
		{"a WebP", "image/webp", ".webp", webpBytes},
		{"a photo of 8160×6120 pixels (a 50-megapixel phone)", "image/png", ".png", pngHeader(8160, 6120, 0)},
	} {
		t.Run(tc.name+" is kept, readable by the service only", func(t *testing.T) {
			name, mime, err := m.Save(bytes.NewReader(tc.data))
			if err != nil || mime != tc.mime || !strings.HasSuffix(name, tc.ext) || len(name) < 32 {
				t.Fatalf("Save = %q %q %v", name, mime, err)
			}
			kept++
			f, err := m.Open(name)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			st, _ := f.Stat()
			if st.Mode().Perm() != 0o600 {
				t.Errorf("the photo's mode is %v, want 0600", st.Mode().Perm())
			}
		})
	}
	cases := []struct {
		name string
		data io.Reader
		want error
	}{
		{"a PDF", strings.NewReader("%PDF-1.4 ..."), store.ErrUnsupported},
		{"a script named like a photo", strings.NewReader("<html><script>alert(1)</script>"), store.ErrUnsupported},
		{"a PNG signature over junk", strings.NewReader("\x89PNG\r\n\x1a\n" + strings.Repeat("\x00", 64)), store.ErrUnsupported},
		{"a JPEG signature over junk", strings.NewReader("\xff\xd8\xff\xe0\x00\x10JFIF\x00" + strings.Repeat("\x00", 64)), store.ErrUnsupported},
		{"a PNG claiming 20000×100 pixels", bytes.NewReader(pngHeader(20000, 100, 0)), store.ErrDimensions},
		{"a PNG claiming 9000×9000 pixels", bytes.NewReader(pngHeader(9000, 9000, 0)), store.ErrDimensions},
		{"a photo over 10 MB", bytes.NewReader(pngHeader(4, 4, store.MaxPhoto)), store.ErrTooLarge},
	}
	for _, c := range cases {
		t.Run(c.name+" is refused and nothing is kept", func(t *testing.T) {
			_, _, err := m.Save(c.data)
			if !errors.Is(err, c.want) || !errors.Is(err, bot.ErrFileRefused) {
				t.Errorf("Save = %v, want %v", err, c.want)
			}
			files, _ := os.ReadDir(dir)
			if len(files) != kept {
				t.Errorf("%d files in the media directory, want only the %d kept", len(files), kept)
			}
		})
	}
	if _, err := m.Open("../" + filepath.Base(dir)); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a path outside the directory opened: %v", err)
	}
}

// countingReader counts what is read from it.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

func TestAPhotoIsStreamedToDisk(t *testing.T) {
	m, err := store.NewMedia(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	big := pngHeader(4000, 3000, 9<<20) // 9 MB
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	if _, _, err := m.Save(bytes.NewReader(big)); err != nil {
		t.Fatal(err)
	}
	runtime.ReadMemStats(&after)
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 1<<20 {
		t.Errorf("saving a 9 MB photo allocated %d KiB, want it streamed (under 1 MiB)", alloc>>10)
	}

	endless := &countingReader{r: io.MultiReader(bytes.NewReader(pngHeader(4, 4, 0)), zeros{})}
	if _, _, err := m.Save(endless); !errors.Is(err, store.ErrTooLarge) {
		t.Errorf("an endless upload: %v, want ErrTooLarge", err)
	}
	if endless.n > store.MaxPhoto+1<<16 {
		t.Errorf("an endless upload was read for %d bytes, want it cut at 10 MB", endless.n)
	}
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) { clear(p); return len(p), nil }

func TestTheMediaQuotaIsKept(t *testing.T) {
	dir := t.TempDir()
	photo := pngHeader(4, 4, 40<<10) // 40 KiB
	old, _ := store.NewMedia(dir)
	first, _, err := old.Save(bytes.NewReader(photo))
	if err != nil {
		t.Fatal(err)
	}

	// A restart counts what the directory already holds.
	m, err := store.NewMedia(dir)
	if err != nil {
		t.Fatal(err)
	}
	m.SetQuota(int64(len(photo)) * 5 / 2) // room for two and a half photos
	if m.Full() {
		t.Fatal("full with one photo of two and a half")
	}
	if _, _, err := m.Save(bytes.NewReader(photo)); err != nil {
		t.Fatalf("the second photo: %v", err)
	}
	if _, _, err := m.Save(bytes.NewReader(photo)); !errors.Is(err, store.ErrMediaFull) || !errors.Is(err, bot.ErrMediaFull) {
		t.Fatalf("the third photo, past the quota: %v, want ErrMediaFull", err)
	}
	if files, _ := os.ReadDir(dir); len(files) != 2 {
		t.Errorf("%d files after the refusal, want the two kept", len(files))
	}
	if _, _, err := m.Save(bytes.NewReader(pngBytes(t))); err != nil {
		t.Errorf("a small photo that still fits: %v", err)
	}

	// Pruning a stray photo makes room again.
	past := time.Now().Add(-48 * time.Hour)
	os.Chtimes(filepath.Join(dir, first), past, past)
	if n, err := m.Prune(24*time.Hour, func(string) (bool, error) { return false, nil }); n != 1 || err != nil {
		t.Fatalf("pruned %d (%v), want 1", n, err)
	}
	if _, _, err := m.Save(bytes.NewReader(photo)); err != nil {
		t.Errorf("after pruning: %v, want the photo kept", err)
	}
	m.SetQuota(1)
	if !m.Full() {
		t.Error("over its quota the media store does not say it is full")
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
