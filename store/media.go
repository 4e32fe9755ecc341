package store

import (
	"bufio"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"image"
	_ "image/jpeg" // DecodeConfig reads JPEG headers
	_ "image/png"  // and PNG
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	_ "golang.org/x/image/webp" // and WebP, which the standard library lacks

	"github.com/layan-id/layan/bot"
)

// MaxPhoto is the largest photo accepted, in bytes.
const MaxPhoto = bot.MaxPhotoSize

// The largest photo accepted in pixels: a side, and the whole. A phone's photo is
// well within (a 50-megapixel camera gives 8160×6120); a file that claims more is a
// trap for whatever later decodes it.
const (
	MaxPhotoSide   = 12_000
	MaxPhotoPixels = 64_000_000
)

// DefaultMediaQuota is how much DATA_DIR/media may hold when MEDIA_QUOTA is not set.
const DefaultMediaQuota = 2 << 30

// Errors for refused files; each is a bot.ErrFileRefused, and ErrMediaFull also a
// bot.ErrMediaFull.
var (
	ErrTooLarge    = fmt.Errorf("store: larger than 10 MB: %w", bot.ErrFileRefused)
	ErrUnsupported = fmt.Errorf("store: not a JPEG, PNG or WebP image: %w", bot.ErrFileRefused)
	ErrDimensions  = fmt.Errorf("store: more than %d pixels a side or %d in all: %w", MaxPhotoSide, MaxPhotoPixels, bot.ErrFileRefused)
	ErrMediaFull   = fmt.Errorf("store: media quota reached: %w", bot.ErrMediaFull)
)

// Media keeps the photos people send, as files with random names in one directory
// (DATA_DIR/media), readable by the service's user only. A file is streamed to disk,
// never held whole in memory, and its type is judged by its content, never by its
// name: the image's header must decode. The directory holds at most its quota.
type Media struct {
	dir   string
	quota int64

	mu   sync.Mutex
	used int64 // bytes of the photos in dir
}

// NewMedia returns the media store in dir, creating it, holding at most
// DefaultMediaQuota bytes (see SetQuota). It counts what dir holds already.
func NewMedia(dir string) (*Media, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("store: create media directory: %w", err)
	}
	m := &Media{dir: dir, quota: DefaultMediaQuota}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("store: list media: %w", err)
	}
	for _, e := range entries {
		if info, err := e.Info(); err == nil && info.Mode().IsRegular() && e.Name()[0] != '.' {
			m.used += info.Size()
		}
	}
	return m, nil
}

// SetQuota sets how many bytes the directory may hold (MEDIA_QUOTA); 0 or less
// keeps DefaultMediaQuota.
func (m *Media) SetQuota(bytes int64) {
	if bytes <= 0 {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.quota = bytes
}

// mediaTypes are the accepted content types, their file extensions and the names
// image.DecodeConfig gives their formats.
func mediaTypes() map[string]struct{ ext, format string } {
	return map[string]struct{ ext, format string }{
		"image/jpeg": {".jpg", "jpeg"},
		"image/png":  {".png", "png"},
		"image/webp": {".webp", "webp"},
	}
}

// Full reports whether the quota is reached, so that a caller can refuse a photo
// before reading it.
func (m *Media) Full() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.used >= m.quota
}

// Used returns how many bytes the stored photos take.
func (m *Media) Used() int64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.used
}

// Save stores a photo read from r and returns its name and content type. It refuses,
// keeping nothing, what is over MaxPhoto bytes (ErrTooLarge), not a JPEG, PNG or WebP
// image whose header decodes (ErrUnsupported), larger than MaxPhotoSide or
// MaxPhotoPixels (ErrDimensions), or what would pass the quota (ErrMediaFull). It
// reads no more than MaxPhoto+1 bytes of r.
func (m *Media) Save(r io.Reader) (name, mime string, err error) {
	if m.Full() {
		return "", "", ErrMediaFull
	}
	br := bufio.NewReaderSize(io.LimitReader(r, MaxPhoto+1), 4096)
	head, err := br.Peek(512)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, bufio.ErrBufferFull) {
		return "", "", fmt.Errorf("store: read photo: %w", err)
	}
	mime = http.DetectContentType(head)
	kind, ok := mediaTypes()[mime]
	if !ok {
		return "", "", ErrUnsupported
	}
	tmp, err := os.CreateTemp(m.dir, ".upload-*") // mode 0600
	if err != nil {
		return "", "", fmt.Errorf("store: save photo: %w", err)
	}
	defer os.Remove(tmp.Name()) // after the rename, a no-op
	defer tmp.Close()
	n, err := io.Copy(tmp, br)
	if err != nil {
		return "", "", fmt.Errorf("store: save photo: %w", err)
	}
	if n > MaxPhoto {
		return "", "", ErrTooLarge
	}
	if _, err := tmp.Seek(0, io.SeekStart); err != nil {
		return "", "", fmt.Errorf("store: save photo: %w", err)
	}
	cfg, format, err := image.DecodeConfig(bufio.NewReader(tmp))
	if err != nil || format != kind.format {
		return "", "", ErrUnsupported
	}
	if cfg.Width < 1 || cfg.Height < 1 || cfg.Width > MaxPhotoSide || cfg.Height > MaxPhotoSide ||
		int64(cfg.Width)*int64(cfg.Height) > MaxPhotoPixels {
		return "", "", ErrDimensions
	}
	if err := tmp.Sync(); err != nil {
		return "", "", fmt.Errorf("store: save photo: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return "", "", fmt.Errorf("store: save photo: %w", err)
	}
	if !m.reserve(n) {
		return "", "", ErrMediaFull
	}
	b := make([]byte, 16)
	rand.Read(b)
	name = hex.EncodeToString(b) + kind.ext
	if err := os.Rename(tmp.Name(), filepath.Join(m.dir, name)); err != nil {
		m.release(n)
		return "", "", fmt.Errorf("store: save photo: %w", err)
	}
	return name, mime, nil
}

// reserve counts n more bytes, unless they would pass the quota.
func (m *Media) reserve(n int64) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.used+n > m.quota {
		return false
	}
	m.used += n
	return true
}

func (m *Media) release(n int64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.used = max(m.used-n, 0)
}

// Open opens a stored photo by name (for staff tools).
func (m *Media) Open(name string) (*os.File, error) {
	if filepath.Base(name) != name || name == "" || name[0] == '.' {
		return nil, ErrNotFound
	}
	f, err := os.Open(filepath.Join(m.dir, name))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, ErrNotFound
	}
	return f, err
}

// Prune removes the photos older than age that keep reports false for (photos sent
// for drafts never filed, or sent outside a complaint), and returns how many it
// removed. A photo the check cannot decide on is kept.
func (m *Media) Prune(age time.Duration, keep func(name string) (bool, error)) (int, error) {
	entries, err := os.ReadDir(m.dir)
	if err != nil {
		return 0, fmt.Errorf("store: list media: %w", err)
	}
	removed := 0
	for _, e := range entries {
		info, err := e.Info()
		if err != nil || e.IsDir() || time.Since(info.ModTime()) < age {
			continue
		}
		if e.Name()[0] == '.' { // an upload cut off mid-write
			os.Remove(filepath.Join(m.dir, e.Name()))
			continue
		}
		kept, err := keep(e.Name())
		if err != nil || kept {
			continue
		}
		if os.Remove(filepath.Join(m.dir, e.Name())) == nil {
			m.release(info.Size())
			removed++
		}
	}
	return removed, nil
}
