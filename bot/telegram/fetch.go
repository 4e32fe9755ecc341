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

	"github.com/layan-id/layan/bot"
)

// MaxFileSize is the largest file the Bot API lets a bot download (20 MB).
const MaxFileSize = 20 << 20

// ErrFileTooLarge is returned (by Fetch, or while reading its body) for a file over
// MaxFileSize. It wraps bot.ErrFileRefused.
var ErrFileTooLarge = fmt.Errorf("telegram: file is larger than 20 MB: %w", bot.ErrFileRefused)

// AcceptPhotos makes the channel download every photo a person sends and keep it in
// m before the flows see it: the message's Media.Ref is then the name in m, and a
// file m refuses (or Telegram will not hand out) arrives as bot.KindBadFile. Without
// it Media.Ref is Telegram's file id, for Fetch. Call it before Run.
func (c *Channel) AcceptPhotos(m bot.MediaSaver) { c.media = m }

// keepPhoto downloads the photo of m into the media store. An error means it could
// not be done now (network, the store's disk) and the update must be tried again.
func (c *Channel) keepPhoto(ctx context.Context, m *bot.Message) error {
	body, _, err := c.Fetch(ctx, m.Media.Ref)
	if err == nil {
		defer body.Close()
		var name, mime string
		name, mime, err = c.media.Save(body)
		if err == nil {
			m.Media = &bot.Media{Ref: name, MIME: mime, Size: m.Media.Size}
			return nil
		}
	}
	if errors.Is(err, bot.ErrFileRefused) {
		c.log.Info("telegram: a photo was refused", "conv", c.pseudo.Of(m.Key()), "err", err)
		m.Kind, m.Media = bot.KindBadFile, nil
		return nil
	}
	return fmt.Errorf("telegram: keep photo: %w", err)
}

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
		var te *tgbotapi.Error
		if errors.As(err, &te) && te.Code >= 400 && te.Code < 500 {
			// "file is too big", "wrong file_id": asking again will not help.
			return nil, "", fmt.Errorf("telegram: get file: %w: %w", bot.ErrFileRefused, c.redact(err))
		}
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
