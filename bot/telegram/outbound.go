package telegram

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"
	json "github.com/goccy/go-json" // the same JSON as encoding/json, faster

	"github.com/layan-id/layan/bot"
)

// MaxText is the longest text Telegram accepts in one message, in UTF-16 code units
// (what Telegram counts; a character outside the Basic Multilingual Plane, such as
// most emoji, counts twice). Longer replies are sent as several messages.
const MaxText = 4096

// MaxCallbackData is the most bytes Telegram carries in a button's callback_data.
const MaxCallbackData = 64

// longPrefix starts the callback data of an option whose id is too long to travel
// as is; the rest is a hash of the id, mapped back through the store.
const longPrefix = "~"

// optionKeyTTL is how long a pressed button with a long option id keeps working.
const optionKeyTTL = 30 * 24 * time.Hour

// aboutTTL is how long a reply to a message about something (Reply.About) is traced
// back to it.
const aboutTTL = 30 * 24 * time.Hour

// callTimeout bounds one Bot API call other than getUpdates.
const callTimeout = 20 * time.Second

// Send implements bot.Channel: it delivers one reply to a chat, as plain text (no
// parse_mode, so nothing in it is read as Markdown or HTML), split at MaxText, with
// the reply's options as an inline keyboard on its last part, or a share-location
// keyboard. A reply with media sends the photo (or file) first: Media.Ref is a
// Telegram file id, an http(s) URL, or with AcceptPhotos the name of a photo kept in
// the media store (uploaded from there). When a later part fails, a retry of the reply
// may repeat the parts that were sent. The share-location button is labelled in
// to.Lang.
func (c *Channel) Send(ctx context.Context, to bot.Recipient, r bot.Reply) error {
	chatID := to.ChatID
	id, err := strconv.ParseInt(chatID, 10, 64)
	if err != nil || id == 0 {
		return &bot.SendError{Kind: bot.ErrPermanent, Err: fmt.Errorf("telegram: chat id %q is not a Telegram chat id", chatID)}
	}
	private := id > 0 // users have positive ids, groups negative
	keyboard, err := c.keyboard(ctx, to.Lang, r, private)
	if err != nil {
		return &bot.SendError{Kind: bot.ErrTemporary, Err: err}
	}
	if r.Media != nil && r.Media.Ref != "" {
		if err := c.sendMedia(ctx, id, r.Media); err != nil {
			if se := (*bot.SendError)(nil); errors.As(err, &se) {
				return se // decided here: a kept photo that is gone
			}
			return c.sendError(ctx, chatID, err)
		}
	}
	parts := splitText(r.Text, MaxText)
	if len(parts) == 0 {
		if len(r.Options) == 0 && !r.AskLocation {
			return nil
		}
		parts = []string{"…"} // a keyboard needs a message to hang on
	}
	for i, p := range parts {
		var kb []byte
		if i == len(parts)-1 {
			kb = keyboard
		}
		callCtx, cancel := context.WithTimeout(ctx, callTimeout)
		msgID, err := c.sendMessage(callCtx, id, p, kb)
		cancel()
		if err != nil {
			return c.sendError(ctx, chatID, err)
		}
		if r.About != "" {
			// A reply to any part of it is a reply about the same thing. Sent is sent:
			// a failure here costs only the tracing of a reply.
			if err := c.store.SaveAbout(ctx, id, msgID, r.About, aboutTTL); err != nil {
				c.log.Warn("telegram: remember what a message is about", "err", err)
			}
		}
	}
	return nil
}

// keyboard returns the JSON of the keyboard for a reply, or nil. In a private chat
// a reply without options removes a share-location keyboard left from an earlier
// question.
func (c *Channel) keyboard(ctx context.Context, lang string, r bot.Reply, private bool) ([]byte, error) {
	var markup any
	switch {
	case r.AskLocation && private: // Telegram offers location buttons in private chats only
		label, err := c.texts.Text(lang, "telegram.share_location", nil)
		if err != nil {
			c.log.Warn("telegram: text missing", "err", err)
		}
		rows := [][]tgbotapi.KeyboardButton{{tgbotapi.NewKeyboardButtonLocation(label)}}
		for _, o := range r.Options {
			rows = append(rows, []tgbotapi.KeyboardButton{tgbotapi.NewKeyboardButton(optionLabel(o))})
		}
		markup = tgbotapi.ReplyKeyboardMarkup{Keyboard: rows, ResizeKeyboard: true, OneTimeKeyboard: true}
	case len(r.Options) > 0:
		// Every menu: written at once, as json.Marshal writes a
		// tgbotapi.InlineKeyboardMarkup with one button per row.
		b := make([]byte, 0, 64*len(r.Options))
		b = append(b, `{"inline_keyboard":[`...)
		for i, o := range r.Options {
			data, err := c.callbackData(ctx, o.ID)
			if err != nil {
				return nil, err
			}
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `[{"text":`...)
			b = appendJSONString(b, optionLabel(o))
			b = append(b, `,"callback_data":`...)
			b = appendJSONString(b, data)
			b = append(b, "}]"...)
		}
		return append(b, "]}"...), nil
	case private:
		markup = tgbotapi.NewRemoveKeyboard(false)
	default:
		return nil, nil
	}
	b, err := json.Marshal(markup)
	if err != nil {
		return nil, fmt.Errorf("telegram: encode keyboard: %w", err)
	}
	return b, nil
}

func optionLabel(o bot.Option) string {
	if o.Label != "" {
		return o.Label
	}
	return o.ID
}

// callbackData is what a button carries for option id: the id itself when it fits,
// else "~" and 22 characters of its hash, remembered in the store.
func (c *Channel) callbackData(ctx context.Context, id string) (string, error) {
	if len(id) <= MaxCallbackData && !strings.HasPrefix(id, longPrefix) && id != "" {
		return id, nil
	}
	sum := sha256.Sum256([]byte(id))
	key := longPrefix + base64.RawURLEncoding.EncodeToString(sum[:16])
	if err := c.store.SaveOption(ctx, key, id, optionKeyTTL); err != nil {
		return "", fmt.Errorf("telegram: remember long option id: %w", err)
	}
	return key, nil
}

func (c *Channel) sendMedia(ctx context.Context, chat int64, m *bot.Media) error {
	var file tgbotapi.RequestFileData = tgbotapi.FileID(m.Ref)
	if strings.HasPrefix(m.Ref, "https://") || strings.HasPrefix(m.Ref, "http://") {
		file = tgbotapi.FileURL(m.Ref)
	} else if o, ok := c.media.(bot.MediaStore); ok && keptName.MatchString(m.Ref) {
		// A photo kept in the media store (one staff sent): uploaded from there.
		f, err := o.Open(m.Ref)
		if err != nil {
			return &bot.SendError{Kind: bot.ErrPermanent, Err: fmt.Errorf("telegram: open kept photo: %w", err)}
		}
		defer f.Close()
		file = tgbotapi.FileReader{Name: m.Ref, Reader: f}
	}
	var conf tgbotapi.Chattable = tgbotapi.NewDocument(chat, file)
	if m.MIME == "" || strings.HasPrefix(m.MIME, "image/") {
		conf = tgbotapi.NewPhoto(chat, file)
	}
	ctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	_, err := c.api(ctx).Send(conf)
	return err
}

// sendError turns a failed call into a *bot.SendError (the token redacted), and
// reports a person who blocked the bot to Config.Blocked.
func (c *Channel) sendError(ctx context.Context, chatID string, err error) error {
	se := classify(c.redact(err))
	if se.Kind == bot.ErrBlocked && c.cfg.Blocked != nil && !strings.HasPrefix(chatID, "-") {
		c.cfg.Blocked(ctx, ChannelName+":"+chatID)
	}
	return se
}

// classify sorts a Bot API error by what the Sender should do about it. Telegram's
// error codes say most of it; a 403 says "blocked" or "deactivated" when the person
// opted out (other 403s: the bot was removed from a group, may not write first).
func classify(err error) *bot.SendError {
	var te *tgbotapi.Error
	if !errors.As(err, &te) {
		return &bot.SendError{Kind: bot.ErrTemporary, Err: err} // network, timeout, a proxy's HTML
	}
	msg := strings.ToLower(te.Message)
	switch {
	case te.RetryAfter > 0: // the upload path leaves Code at 0: test this first
		return &bot.SendError{Kind: bot.ErrRateLimited, RetryAfter: time.Duration(te.RetryAfter) * time.Second, Err: err}
	case te.Code == 429:
		return &bot.SendError{Kind: bot.ErrRateLimited, Err: err}
	case te.Code == 403 && (strings.Contains(msg, "blocked") || strings.Contains(msg, "deactivated")):
		return &bot.SendError{Kind: bot.ErrBlocked, Err: err}
	case te.Code >= 400 && te.Code < 500: // chat not found, bad request, unauthorized ...
		return &bot.SendError{Kind: bot.ErrPermanent, Err: err}
	}
	return &bot.SendError{Kind: bot.ErrTemporary, Err: err} // 5xx, or no code at all
}

// splitText cuts s into parts of at most max UTF-16 code units, as Telegram counts.
func splitText(s string, max int) []string { return bot.SplitText(s, max, utf16Units) }

// utf16Units is how many UTF-16 code units a character takes.
func utf16Units(r rune) int {
	if r >= 0x10000 {
		return 2
	}
	return 1
}

func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		n++
		if r >= 0x10000 {
			n++
		}
	}
	return n
}

// keptName is the name the media store gives a photo (never a Telegram file id,
// which has no dot).
var keptName = regexp.MustCompile(`^[0-9a-f]{32}\.(jpg|png|webp)$`)
