package whatsappcloud

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/layan-id/layan/bot"
)

// callTimeout bounds one Graph API call.
const callTimeout = 30 * time.Second

// Meta's error codes the channel acts on.
const (
	codeTokenExpired   = 190    // access token expired, revoked or invalid
	codeThroughput     = 130429 // the number's messages-per-second limit
	codePairRate       = 131056 // too many messages to one person in a short time
	codeUndeliverable  = 131026 // not on WhatsApp, blocked the business, old app
	codeReEngagement   = 131047 // more than 24 hours since the person's last message
	codeAccountLocked  = 131031 // the business account is restricted or disabled
	codePolicyBlock    = 368    // temporarily blocked for policy violations
	codeSpamRate       = 131048 // restricted: too many messages were blocked or reported
	codeAppRate        = 4      // the app's call limit
	codeAppRate2       = 80007  // the WhatsApp Business Account's call limit
	codeTemplateParams = 132000 // a template's parameters do not match
	codeNoTemplate     = 132001 // the template does not exist in that language
)

// APIError is an error answer of the Graph API.
type APIError struct {
	Status  int    // HTTP status
	Code    int    `json:"code"`
	Subcode int    `json:"error_subcode"`
	Type    string `json:"type"`
	Message string `json:"message"`
}

func (e *APIError) Error() string {
	return fmt.Sprintf("graph api: %d %s (code %d/%d)", e.Status, e.Message, e.Code, e.Subcode)
}

// call sends a JSON request to the Graph API with the token and decodes the answer
// into out (when not nil). A non-2xx answer is an *APIError.
func (c *Channel) call(ctx context.Context, method, path string, body, out any) error {
	ctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return fmt.Errorf("whatsapp cloud: encode request: %w", err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.api+path, rd)
	if err != nil {
		return c.redact(fmt.Errorf("whatsapp cloud: %s %s: %w", method, path, err))
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	return c.do(req, out)
}

// do sends a request to the Graph API with the token and decodes the answer into
// out (when not nil). A non-2xx answer is an *APIError.
func (c *Channel) do(req *http.Request, out any) error {
	method, path := req.Method, req.URL.Path
	req.Header.Set("Authorization", "Bearer "+c.cfg.Token)
	resp, err := c.http.Do(req)
	if err != nil {
		return c.redact(fmt.Errorf("whatsapp cloud: %s %s: %w", method, path, err))
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return c.redact(fmt.Errorf("whatsapp cloud: %s %s: read answer: %w", method, path, err))
	}
	if resp.StatusCode/100 != 2 {
		var env struct {
			Error *APIError `json:"error"`
		}
		ae := &APIError{}
		if json.Unmarshal(raw, &env) == nil && env.Error != nil {
			ae = env.Error
		}
		ae.Status = resp.StatusCode
		return c.redact(fmt.Errorf("whatsapp cloud: %s %s: %w", method, path, ae))
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			return fmt.Errorf("whatsapp cloud: %s %s: unreadable answer: %w", method, path, err)
		}
	}
	return nil
}

// sendRaw posts one message object to the number's messages endpoint and returns
// its wamid.
func (c *Channel) sendRaw(ctx context.Context, msg map[string]any) (string, error) {
	msg["messaging_product"] = "whatsapp"
	var out struct {
		Messages []struct {
			ID string `json:"id"`
		} `json:"messages"`
	}
	if err := c.call(ctx, http.MethodPost, "/"+c.cfg.PhoneID+"/messages", msg, &out); err != nil {
		return "", err
	}
	if len(out.Messages) == 0 {
		return "", nil
	}
	return out.Messages[0].ID, nil
}

// upload puts a photo in the number's media store (POST /<phone id>/media, as a
// form with the file) and returns its media id, which an image message names. Meta
// keeps it 30 days.
func (c *Channel) upload(ctx context.Context, data []byte, mime string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	var body bytes.Buffer
	form := multipart.NewWriter(&body)
	form.WriteField("messaging_product", "whatsapp")
	form.WriteField("type", mime)
	part, err := form.CreatePart(textproto.MIMEHeader{
		"Content-Disposition": {`form-data; name="file"; filename="photo` + photoExt(mime) + `"`},
		"Content-Type":        {mime},
	})
	if err != nil {
		return "", fmt.Errorf("whatsapp cloud: upload photo: %w", err)
	}
	part.Write(data)
	if err := form.Close(); err != nil {
		return "", fmt.Errorf("whatsapp cloud: upload photo: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.api+"/"+c.cfg.PhoneID+"/media", &body)
	if err != nil {
		return "", c.redact(fmt.Errorf("whatsapp cloud: upload photo: %w", err))
	}
	req.Header.Set("Content-Type", form.FormDataContentType())
	var out struct {
		ID string `json:"id"`
	}
	if err := c.do(req, &out); err != nil {
		return "", err
	}
	if out.ID == "" {
		return "", errors.New("whatsapp cloud: upload photo: the answer names no media id")
	}
	return out.ID, nil
}

func photoExt(mime string) string {
	if mime == "image/png" {
		return ".png"
	}
	return ".jpg"
}

// markRead tells the person their message was read (the blue ticks). Failure costs
// nothing but the ticks.
func (c *Channel) markRead(ctx context.Context, wamid string) {
	_, err := c.sendRaw(ctx, map[string]any{"status": "read", "message_id": wamid})
	if err != nil {
		c.log.Debug("whatsapp cloud: mark read failed", "err", err)
		c.noteAPIError(ctx, err)
	}
}

// probe asks the Graph API about the phone number: it proves the token works.
func (c *Channel) probe(ctx context.Context) error {
	return c.call(ctx, http.MethodGet, "/"+c.cfg.PhoneID+"?fields="+url.QueryEscape("id"), nil, nil)
}

// fetchMedia downloads a media object a person sent: its URL from the media
// endpoint, then the file, both with the token. A media object Meta no longer has, or
// one larger than a photo may be, is bot.ErrFileRefused.
func (c *Channel) fetchMedia(ctx context.Context, id string) (io.ReadCloser, error) {
	var meta struct {
		URL      string `json:"url"`
		MIME     string `json:"mime_type"`
		FileSize int64  `json:"file_size"`
	}
	if err := c.call(ctx, http.MethodGet, "/"+url.PathEscape(id), nil, &meta); err != nil {
		var ae *APIError
		if errors.As(err, &ae) && ae.Status >= 400 && ae.Status < 500 && ae.Code != codeTokenExpired && ae.Status != 429 {
			return nil, fmt.Errorf("%w: %w", bot.ErrFileRefused, err)
		}
		return nil, err
	}
	if meta.FileSize > bot.MaxPhotoSize {
		return nil, fmt.Errorf("whatsapp cloud: media of %d bytes: %w", meta.FileSize, bot.ErrFileRefused)
	}
	if meta.URL == "" {
		return nil, fmt.Errorf("whatsapp cloud: media without a URL: %w", bot.ErrFileRefused)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, meta.URL, nil)
	if err != nil {
		return nil, c.redact(fmt.Errorf("whatsapp cloud: download media: %w", err))
	}
	req.Header.Set("Authorization", "Bearer "+c.cfg.Token)
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, c.redact(fmt.Errorf("whatsapp cloud: download media: %w", err))
	}
	switch {
	case resp.StatusCode == http.StatusOK:
	case resp.StatusCode == 404 || resp.StatusCode == 410:
		resp.Body.Close()
		return nil, fmt.Errorf("whatsapp cloud: download media: status %d: %w", resp.StatusCode, bot.ErrFileRefused)
	default:
		resp.Body.Close()
		return nil, fmt.Errorf("whatsapp cloud: download media: status %d", resp.StatusCode)
	}
	return &limited{ReadCloser: resp.Body, left: bot.MaxPhotoSize}, nil
}

// limited fails a read past its limit instead of silently cutting the file.
type limited struct {
	io.ReadCloser
	left int64
}

func (r *limited) Read(p []byte) (int, error) {
	if int64(len(p)) > r.left+1 {
		p = p[:r.left+1]
	}
	n, err := r.ReadCloser.Read(p)
	r.left -= int64(n)
	if r.left < 0 {
		return n, fmt.Errorf("whatsapp cloud: photo over %d bytes: %w", bot.MaxPhotoSize, bot.ErrFileRefused)
	}
	return n, err
}

// noteAPIError changes the channel's state for errors about the token or the number.
func (c *Channel) noteAPIError(ctx context.Context, err error) {
	var ae *APIError
	if !errors.As(err, &ae) {
		return
	}
	switch {
	case ae.Code == codeTokenExpired || ae.Status == http.StatusUnauthorized:
		c.setState(ctx, state{kind: stateTokenExpired})
	case ae.Code == codeAccountLocked || ae.Code == codePolicyBlock || ae.Code == codeSpamRate:
		c.setState(ctx, state{kind: stateRestricted, code: ae.Code, until: c.cfg.Now().Add(restrictedPause)})
	}
}

// restrictedPause is how long the channel stops sending after Meta restricted the number.
const restrictedPause = 10 * time.Minute

// classify sorts a send error by what the Sender should do about it.
func classify(err error) *bot.SendError {
	var ae *APIError
	if !errors.As(err, &ae) {
		if errors.Is(err, bot.ErrOutsideWindow) {
			return &bot.SendError{Kind: bot.ErrPermanent, Err: err}
		}
		return &bot.SendError{Kind: bot.ErrTemporary, Err: err} // network
	}
	switch {
	case ae.Code == codeThroughput || ae.Code == codeAppRate || ae.Code == codeAppRate2 || ae.Status == 429:
		return &bot.SendError{Kind: bot.ErrRateLimited, RetryAfter: 2 * time.Second, Err: err}
	case ae.Code == codePairRate:
		return &bot.SendError{Kind: bot.ErrTemporary, Err: err}
	case ae.Code == codeUndeliverable:
		return &bot.SendError{Kind: bot.ErrBlocked, Err: err}
	case ae.Code == codeReEngagement:
		return &bot.SendError{Kind: bot.ErrPermanent, Err: fmt.Errorf("%w: %w", bot.ErrOutsideWindow, err)}
	case ae.Code == codeTokenExpired || ae.Status == http.StatusUnauthorized,
		ae.Code == codeAccountLocked || ae.Code == codePolicyBlock || ae.Code == codeSpamRate:
		return &bot.SendError{Kind: bot.ErrTemporary, Err: fmt.Errorf("%w: %w", ErrUnavailable, err)}
	case ae.Status >= 500 || ae.Status == 0:
		return &bot.SendError{Kind: bot.ErrTemporary, Err: err}
	}
	return &bot.SendError{Kind: bot.ErrPermanent, Err: err}
}

// waID returns the digits of a chat id, or an error. A whatsmeow chat id of a number
// ("6281…@s.whatsapp.net", kept in subscriptions and complaints from before a move to
// the Cloud API) is its number.
func waID(chatID string) (string, error) {
	chatID = strings.TrimSuffix(chatID, "@s.whatsapp.net")
	if len(chatID) < 7 || len(chatID) > 15 || chatID[0] == '0' {
		return "", fmt.Errorf("whatsapp cloud: chat id is not an international number")
	}
	if _, err := strconv.ParseUint(chatID, 10, 64); err != nil {
		return "", fmt.Errorf("whatsapp cloud: chat id is not an international number")
	}
	return chatID, nil
}
