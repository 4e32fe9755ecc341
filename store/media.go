package store

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/layan-id/layan/bot"
)

// MaxPhoto is the largest photo accepted, in bytes.
const MaxPhoto = bot.MaxPhotoSize

// Errors for refused files; both are a bot.ErrFileRefused.
var (
	ErrTooLarge    = fmt.Errorf("store: larger than 10 MB: %w", bot.ErrFileRefused)
	ErrUnsupported = fmt.Errorf("store: not a JPEG, PNG or WebP image: %w", bot.ErrFileRefused)
)

// Media keeps the photos people send, as files with random names in one directory
// (DATA_DIR/media). A file's type is judged by its content, never by its name.
type Media struct{ dir string }

// NewMedia returns the media store in dir, creating it.
func NewMedia(dir string) (*Media, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("store: create media directory: %w", err)
	}
	return &Media{dir: dir}, nil
}

// mediaTypes are the accepted content types and their file extensions.
func mediaTypes() map[string]string {
	return map[string]string{"image/jpeg": ".jpg", "image/png": ".png", "image/webp": ".webp"}
}

// Save stores a photo read from r and returns its name and content type. It refuses,
// with ErrTooLarge or ErrUnsupported, what is over MaxPhoto bytes or not a JPEG, PNG
// or WebP image; nothing is kept then.
func (m *Media) Save(r io.Reader) (name, mime string, err error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxPhoto+1))
	if err != nil {
		return "", "", fmt.Errorf("store: read photo: %w", err)
	}
	if len(data) > MaxPhoto {
		return "", "", ErrTooLarge
	}
	mime = http.DetectContentType(data)
	ext, ok := mediaTypes()[mime]
	if !ok {
		return "", "", ErrUnsupported
	}
	b := make([]byte, 16)
	rand.Read(b)
	name = hex.EncodeToString(b) + ext
	tmp, err := os.CreateTemp(m.dir, ".upload-*")
	if err != nil {
		return "", "", fmt.Errorf("store: save photo: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := io.Copy(tmp, bytes.NewReader(data)); err != nil {
		tmp.Close()
		return "", "", fmt.Errorf("store: save photo: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return "", "", fmt.Errorf("store: save photo: %w", err)
	}
	if err := os.Rename(tmp.Name(), filepath.Join(m.dir, name)); err != nil {
		return "", "", fmt.Errorf("store: save photo: %w", err)
	}
	return name, mime, nil
}

// Open opens a stored photo by name (for staff tools).
func (m *Media) Open(name string) (*os.File, error) {
	if filepath.Base(name) != name || name == "" || name[0] == '.' {
		return nil, ErrNotFound
	}
	f, err := os.Open(filepath.Join(m.dir, name))
	if errors.Is(err, os.ErrNotExist) {
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
			removed++
		}
	}
	return removed, nil
}
