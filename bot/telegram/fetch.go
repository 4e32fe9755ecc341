package telegram

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"path"
	"strings"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"
)

// MaxFileSize is the largest file the Bot API lets a bot download (20 MB).
const MaxFileSize = 20 << 20

// ErrFileTooLarge is returned (by Fetch, or while reading its body) for a file over
// MaxFileSize.
var ErrFileTooLarge = errors.New("telegram: file is larger than 20 MB")

// Fetch downloads a file a person sent (bot.Media.Ref of an image) through the
// configured endpoints: getFile, then a GET of the file path under the file
// endpoint, so a local Bot API server or the emulator works as well as Telegram. The
// caller reads and closes the body, within ctx; mime is the file's media type as the
// server states it, else guessed from the file name.
func (c *Channel) Fetch(ctx context.Context, fileID string) (body io.ReadCloser, mimeType string, err error) {
	callCtx, cancel := context.WithTimeout(ctx, callTimeout)
	f, err := c.api(callCtx).GetFile(tgbotapi.FileConfig{FileID: fileID})
	cancel()
	if err != nil {
		return nil, "", fmt.Errorf("telegram: get file: %w", c.redact(err))
	}
	if f.FilePath == "" {
		return nil, "", errors.New("telegram: get file: the server gave no file path")
	}
	if f.FileSize > MaxFileSize {
		return nil, "", ErrFileTooLarge
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, fmt.Sprintf(c.fileEP, c.cfg.Token, f.FilePath), nil)
	if err != nil {
		return nil, "", fmt.Errorf("telegram: download file: %w", c.redact(err))
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, "", fmt.Errorf("telegram: download file: %w", c.redact(err))
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		return nil, "", fmt.Errorf("telegram: download file: status %d", resp.StatusCode)
	}
	if resp.ContentLength > MaxFileSize {
		resp.Body.Close()
		return nil, "", ErrFileTooLarge
	}
	mimeType, _, _ = mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if mimeType == "" || mimeType == "application/octet-stream" {
		mimeType = "application/octet-stream"
		if byName := mime.TypeByExtension(strings.ToLower(path.Ext(f.FilePath))); byName != "" {
			mimeType, _, _ = mime.ParseMediaType(byName)
		}
	}
	return &capped{ReadCloser: resp.Body, left: MaxFileSize}, mimeType, nil
}

// capped fails a read past its limit instead of silently cutting the file.
type capped struct {
	io.ReadCloser
	left int64
}

func (r *capped) Read(p []byte) (int, error) {
	if r.left < 0 {
		return 0, ErrFileTooLarge
	}
	if int64(len(p)) > r.left+1 {
		p = p[:r.left+1]
	}
	n, err := r.ReadCloser.Read(p)
	r.left -= int64(n)
	if r.left < 0 {
		return n + int(r.left), ErrFileTooLarge
	}
	return n, err
}
