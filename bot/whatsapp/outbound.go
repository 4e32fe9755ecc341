package whatsapp

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"go.mau.fi/whatsmeow"
	"go.mau.fi/whatsmeow/proto/waE2E"
	"go.mau.fi/whatsmeow/types"
	"google.golang.org/protobuf/proto"

	"github.com/layan-id/layan/bot"
)

// sendTimeout bounds one SendMessage call (whatsmeow's own limit is 75 s).
const sendTimeout = 30 * time.Second

// RateLimitPause is how long the whole channel waits after WhatsApp refused a
// message as too many or the account as restricted: long, since insisting is what
// turns a restriction into a ban.
const RateLimitPause = time.Minute

// Send implements bot.Channel: it delivers one reply to a chat as plain text. The
// reply's options become numbered lines ("1. Layanan publik") followed by the hint to
// answer with a number; a question for a location adds how to share one; texts longer
// than MaxText go as several messages, cut at paragraph, sentence or word boundaries.
// A reply's media is a photo kept in the media store (Media.Ref is its name, such as
// one staff sent): it is uploaded and sent as an image (a WebP as a JPEG) with the
// text as its caption when the text fits in bot.MaxCaption, else before the text; a
// photo no longer kept is a permanent failure. The channel's own words are in
// rcpt.Lang. rcpt.ChatID is a JID as in bot.Message.ChatID ("6281234567890@s.whatsapp.net", "123@lid", a group's
// "…@g.us" for staff) or a bare international phone number ("6281234567890"). When a
// later part fails, a retry of the reply may repeat the parts that were sent.
func (c *Channel) Send(ctx context.Context, rcpt bot.Recipient, r bot.Reply) error {
	to, err := parseChat(rcpt.ChatID)
	if err != nil {
		return &bot.SendError{Kind: bot.ErrPermanent, Err: err}
	}
	c.mu.RLock()
	cl, st := c.client, c.state
	c.mu.RUnlock()
	if cl == nil || st.paused() {
		return &bot.SendError{Kind: bot.ErrTemporary, Err: fmt.Errorf("%w: %s", ErrUnavailable, st.detail(c.cfg.Location))}
	}
	text := c.compose(rcpt.Lang, r)
	if r.Media != nil && r.Media.Ref != "" {
		caption := ""
		if utf8.RuneCountInString(text) <= bot.MaxCaption {
			caption, text = text, ""
		}
		if err := c.sendPhoto(ctx, cl, to, r.Media.Ref, caption); err != nil {
			return err
		}
	}
	parts := splitText(text, MaxText)
	for _, p := range parts {
		callCtx, cancel := context.WithTimeout(ctx, sendTimeout)
		_, err := cl.SendMessage(callCtx, to, &waE2E.Message{Conversation: proto.String(p)})
		cancel()
		if err != nil {
			return classify(redactErr(err, c.pseudo))
		}
	}
	return nil
}

// sendPhoto uploads the kept photo name (encrypted by whatsmeow) and sends it as an
// image with the caption.
func (c *Channel) sendPhoto(ctx context.Context, cl Client, to types.JID, name, caption string) error {
	f, err := c.media.Open(name)
	if err != nil {
		return &bot.SendError{Kind: bot.ErrPermanent, Err: fmt.Errorf("whatsapp: open kept photo: %w", err)}
	}
	data, mime, err := bot.SendablePhoto(f)
	f.Close()
	if err != nil {
		return &bot.SendError{Kind: bot.ErrPermanent, Err: fmt.Errorf("whatsapp: kept photo: %w", err)}
	}
	callCtx, cancel := context.WithTimeout(ctx, sendTimeout)
	up, err := cl.Upload(callCtx, data, whatsmeow.MediaImage)
	cancel()
	if err != nil {
		return classify(redactErr(fmt.Errorf("whatsapp: upload photo: %w", err), c.pseudo))
	}
	img := &waE2E.ImageMessage{
		Mimetype: proto.String(mime), URL: proto.String(up.URL), DirectPath: proto.String(up.DirectPath),
		MediaKey: up.MediaKey, FileEncSHA256: up.FileEncSHA256, FileSHA256: up.FileSHA256, FileLength: proto.Uint64(up.FileLength),
	}
	if cfg, _, err := image.DecodeConfig(bytes.NewReader(data)); err == nil {
		img.Width, img.Height = proto.Uint32(uint32(cfg.Width)), proto.Uint32(uint32(cfg.Height))
	}
	if caption != "" {
		img.Caption = proto.String(caption)
	}
	callCtx, cancel = context.WithTimeout(ctx, sendTimeout)
	_, err = cl.SendMessage(callCtx, to, &waE2E.Message{ImageMessage: img})
	cancel()
	if err != nil {
		return classify(redactErr(err, c.pseudo))
	}
	return nil
}

// compose writes a reply as WhatsApp text: the text, how to share a location when
// asked for one, then the options as numbered lines and the hint to answer by number,
// the channel's own words in lang.
func (c *Channel) compose(lang string, r bot.Reply) string {
	var blocks []string
	if t := strings.TrimSpace(r.Text); t != "" {
		blocks = append(blocks, t)
	}
	if r.AskLocation {
		blocks = append(blocks, c.text(lang, "whatsapp.share_location", nil))
	}
	if len(r.Options) > 0 {
		lines := make([]string, len(r.Options))
		for i, o := range r.Options {
			label := o.Label
			if label == "" {
				label = o.ID
			}
			lines[i] = strconv.Itoa(i+1) + ". " + label
		}
		blocks = append(blocks, strings.Join(lines, "\n"), c.text(lang, "whatsapp.reply_with_number", nil))
	}
	return strings.Join(blocks, "\n\n")
}

// text renders one of the channel's own texts; a missing one is logged and left out.
func (c *Channel) text(lang, key string, data map[string]any) string {
	s, err := c.texts.Text(lang, key, data)
	if err != nil {
		c.log.Warn("whatsapp: text missing", "key", key, "err", err)
		return ""
	}
	return s
}

// CheckChat returns why chatID cannot be sent to, or nil: it must be a JID of a person
// or group ("120363…@g.us"), or an international phone number.
func CheckChat(chatID string) error {
	_, err := parseChat(chatID)
	return err
}

// parseChat reads a chat id: a JID of a person or group, or a bare phone number.
func parseChat(chatID string) (types.JID, error) {
	chatID = strings.TrimSpace(chatID)
	if !strings.ContainsRune(chatID, '@') {
		digits := strings.TrimPrefix(chatID, "+")
		if len(digits) < 7 || len(digits) > 15 || strings.TrimLeft(digits, "0123456789") != "" || digits[0] == '0' {
			return types.JID{}, errors.New("whatsapp: chat id is neither a JID nor an international phone number")
		}
		return types.NewJID(digits, types.DefaultUserServer), nil
	}
	jid, err := types.ParseJID(chatID)
	if err != nil {
		return types.JID{}, errors.New("whatsapp: chat id is not a valid JID")
	}
	switch jid.Server {
	case types.DefaultUserServer, types.HiddenUserServer, types.GroupServer:
	default:
		return types.JID{}, fmt.Errorf("whatsapp: cannot send to a chat on server %q", jid.Server)
	}
	if jid.User == "" {
		return types.JID{}, errors.New("whatsapp: chat id has no user")
	}
	return jid.ToNonAD(), nil
}

// classify sorts a whatsmeow send error by what the Sender should do about it.
func classify(err error) *bot.SendError {
	code := serverCode(err)
	var disconnected *whatsmeow.DisconnectedError
	switch {
	case errors.Is(err, whatsmeow.ErrIQRateOverLimit), errors.Is(err, whatsmeow.ErrIQResourceLimit),
		code == 429, code == 463, code == 479:
		// 429: too many messages; 463/479: the account is restricted from messaging
		// (people who did not write first, or after reports). Wait long.
		return &bot.SendError{Kind: bot.ErrRateLimited, RetryAfter: RateLimitPause, Err: err}
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded),
		errors.Is(err, whatsmeow.ErrNotConnected), errors.Is(err, whatsmeow.ErrNotLoggedIn),
		errors.Is(err, whatsmeow.ErrMessageTimedOut), errors.Is(err, whatsmeow.ErrIQTimedOut),
		errors.Is(err, whatsmeow.ErrNoSession), errors.As(err, &disconnected):
		return &bot.SendError{Kind: bot.ErrTemporary, Err: err}
	case errors.Is(err, whatsmeow.ErrUnknownServer), errors.Is(err, whatsmeow.ErrRecipientADJID),
		errors.Is(err, whatsmeow.ErrBroadcastListUnsupported), errors.Is(err, whatsmeow.ErrIQBadRequest),
		errors.Is(err, whatsmeow.ErrIQNotFound), errors.Is(err, whatsmeow.ErrIQNotAcceptable),
		code >= 400 && code < 500:
		return &bot.SendError{Kind: bot.ErrPermanent, Err: err}
	}
	return &bot.SendError{Kind: bot.ErrTemporary, Err: err} // 5xx, network, anything unknown
}

// serverCode returns the code of a whatsmeow "server returned error N", 0 for any
// other error. whatsmeow carries the code only in the text after its sentinel.
func serverCode(err error) int {
	if !errors.Is(err, whatsmeow.ErrServerReturnedError) {
		return 0
	}
	msg := err.Error()
	i := strings.LastIndex(msg, whatsmeow.ErrServerReturnedError.Error())
	if i < 0 {
		return 0
	}
	n, _ := strconv.Atoi(strings.TrimSpace(msg[i+len(whatsmeow.ErrServerReturnedError.Error()):]))
	return n
}

// splitText cuts s into parts of at most max characters.
func splitText(s string, max int) []string {
	return bot.SplitText(s, max, func(rune) int { return 1 })
}
