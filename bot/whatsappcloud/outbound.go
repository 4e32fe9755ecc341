package whatsappcloud

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/cenkalti/backoff/v5"

	"github.com/layan-id/layan/bot"
)

// The Cloud API's limits on what one message holds.
const (
	MaxText        = 4096 // a text message's body
	maxBodyButtons = 1024 // the body of reply buttons or a location request
	maxBodyList    = 4096 // the body of a list message
	maxButtons     = 3
	maxButtonTitle = 20
	maxRows        = 10
	maxRowTitle    = 24
	maxRowDesc     = 72
	maxListButton  = 20
)

// pairWait is the first wait after Meta's pair rate limit refused a message to one
// person; it doubles for each refusal in a row, for pairAttempts tries.
const (
	pairWait     = 6 * time.Second
	pairAttempts = 3
)

// Send implements bot.Channel. Within the person's 24-hour window the reply goes
// out as text, reply buttons, a list, or a location request (see the package
// documentation). Outside it, a reply whose context carries a bot.Template goes out
// as the approved template for its purpose (once for all the replies sent with that
// Template); any other fails with bot.ErrOutsideWindow. A reply's media, a photo
// kept in the media store (Media.Ref its name, such as one staff sent), is uploaded
// and sent as an image inside the window, with the text as its caption when the
// reply is plain text that fits in bot.MaxCaption; outside it only the template
// goes. to.ChatID is the person's number (wa_id); the channel's own words and the
// template are in to.Lang.
func (c *Channel) Send(ctx context.Context, rcpt bot.Recipient, r bot.Reply) error {
	to, err := waID(rcpt.ChatID)
	if err != nil {
		return &bot.SendError{Kind: bot.ErrPermanent, Err: err}
	}
	c.mu.Lock()
	st := c.state
	c.mu.Unlock()
	if st.paused(c.cfg.Now()) {
		return &bot.SendError{Kind: bot.ErrTemporary, Err: fmt.Errorf("%w: %s", ErrUnavailable, st.detail())}
	}
	last, ok, err := c.store.LastInbound(ctx, to)
	if err != nil {
		return &bot.SendError{Kind: bot.ErrTemporary, Err: err}
	}
	tmpl := rcpt.Template
	if !ok || c.cfg.Now().Sub(last) >= windowLength {
		return c.sendTemplate(ctx, to, rcpt.Lang, tmpl)
	}
	msgs := c.compose(rcpt.Lang, to, r)
	if r.Media != nil && r.Media.Ref != "" {
		img, err := c.photoMessage(ctx, to, r.Media.Ref)
		if err != nil {
			return err
		}
		// The text of a plain reply goes as the photo's caption when it fits.
		if text := strings.TrimSpace(r.Text); len(msgs) == 1 && msgs[0]["type"] == "text" && utf8.RuneCountInString(text) <= bot.MaxCaption {
			img["image"].(map[string]any)["caption"] = text
			msgs = nil
		}
		msgs = append([]map[string]any{img}, msgs...)
	}
	for _, msg := range msgs {
		wamid, err := c.post(ctx, to, msg)
		if err != nil {
			return err
		}
		c.noteRun(ctx, tmpl, wamid)
	}
	return nil
}

// photoMessage uploads the photo kept in the media store as name (a WebP as a JPEG:
// WhatsApp shows WebP as stickers only) and returns the image message that shows it.
// A photo no longer kept is a permanent failure.
func (c *Channel) photoMessage(ctx context.Context, to, name string) (map[string]any, error) {
	f, err := c.cfg.Media.Open(name)
	if err != nil {
		return nil, &bot.SendError{Kind: bot.ErrPermanent, Err: fmt.Errorf("whatsapp cloud: open kept photo: %w", err)}
	}
	data, mime, err := bot.SendablePhoto(f)
	f.Close()
	if err != nil {
		return nil, &bot.SendError{Kind: bot.ErrPermanent, Err: fmt.Errorf("whatsapp cloud: kept photo: %w", err)}
	}
	id, err := c.upload(ctx, data, mime)
	if err != nil {
		c.noteAPIError(ctx, err)
		return nil, classify(err)
	}
	return map[string]any{"recipient_type": "individual", "to": to, "type": "image", "image": map[string]any{"id": id}}, nil
}

// windowLength is WhatsApp's customer service window.
const windowLength = 24 * time.Hour

// sendTemplate sends, outside the window, the template for the purpose of tmpl in
// lang: once per Template.
func (c *Channel) sendTemplate(ctx context.Context, to, lang string, tmpl *bot.Template) error {
	if tmpl == nil {
		return &bot.SendError{Kind: bot.ErrPermanent, Err: fmt.Errorf("whatsapp cloud: %w", bot.ErrOutsideWindow)}
	}
	tp, ok := c.cfg.Templates.Find(tmpl.Purposes, lang)
	if !ok {
		return &bot.SendError{Kind: bot.ErrPermanent, Err: fmt.Errorf("whatsapp cloud: no template for %s: %w",
			strings.Join(tmpl.Purposes, ", "), bot.ErrOutsideWindow)}
	}
	if !tmpl.Claim() {
		return nil // sent for an earlier reply of the same news
	}
	params := tmpl.Params
	if _, ok := params["region"]; !ok {
		params = maps.Clone(params)
		if params == nil {
			params = map[string]string{}
		}
		params["region"] = c.text(lang, "region")
	}
	wamid, err := c.post(ctx, to, tp.message(to, params))
	if err != nil {
		if k := bot.KindOf(err); k != bot.ErrPermanent && k != bot.ErrBlocked {
			tmpl.Unclaim() // not sent: the Sender's retry sends it
		}
		return err
	}
	c.log.Debug("whatsapp cloud: sent a template outside the window", "template", tp.Name, "conv", c.pseudo.Of(ChannelName+":"+to))
	c.noteRun(ctx, tmpl, wamid)
	return nil
}

// noteRun remembers which broadcast run a message belongs to, for its statuses.
func (c *Channel) noteRun(ctx context.Context, tmpl *bot.Template, wamid string) {
	if tmpl == nil || tmpl.Run == "" || wamid == "" {
		return
	}
	if err := c.store.NoteSent(ctx, wamid, tmpl.Run); err != nil {
		c.log.Warn("whatsapp cloud: remember a broadcast message", "err", err)
	}
}

// post sends one message, waiting out Meta's pair rate limit for this person a few
// times, and classifies a failure.
func (c *Channel) post(ctx context.Context, to string, msg map[string]any) (string, error) {
	// Meta asks for at least this long: the pauses are not drawn at random.
	wait := &backoff.ExponentialBackOff{InitialInterval: pairWait, Multiplier: 2, MaxInterval: pairWait << pairAttempts}
	for attempt := 1; ; attempt++ {
		c.mu.Lock()
		until := c.pairs[to]
		c.mu.Unlock()
		if d := until.Sub(c.cfg.Now()); d > 0 {
			if err := bot.Sleep(ctx, d); err != nil {
				return "", &bot.SendError{Kind: bot.ErrTemporary, Err: err}
			}
		}
		wamid, err := c.sendRaw(ctx, msg)
		if err == nil {
			c.mu.Lock()
			delete(c.pairs, to)
			c.mu.Unlock()
			c.mu.Lock()
			recovered := c.state.kind != stateConnected
			c.mu.Unlock()
			if recovered {
				c.setState(ctx, state{kind: stateConnected})
			}
			return wamid, nil
		}
		var ae *APIError
		if errors.As(err, &ae) && ae.Code == codePairRate && attempt < pairAttempts {
			c.mu.Lock()
			c.pairs[to] = c.cfg.Now().Add(wait.NextBackOff())
			c.mu.Unlock()
			continue
		}
		c.noteAPIError(ctx, err)
		if errors.As(err, &ae) && ae.Code == codeReEngagement {
			if err := c.store.CloseWindow(ctx, to); err != nil {
				c.log.Warn("whatsapp cloud: forget a closed window", "err", err)
			}
		}
		return "", classify(err)
	}
}

// compose turns a reply into Cloud API messages.
func (c *Channel) compose(lang, to string, r bot.Reply) []map[string]any {
	var msgs []map[string]any
	text := strings.TrimSpace(r.Text)
	interactive := r.AskLocation || len(r.Options) > 0
	opts := r.Options
	kind := optionKind(opts)
	// The text goes as text messages, except its last part when an interactive
	// message follows and the part fits in its body.
	bodyMax := maxBodyButtons
	if !r.AskLocation && kind == kindList {
		bodyMax = maxBodyList
	}
	var body string
	parts := bot.SplitText(text, MaxText, func(rune) int { return 1 })
	if interactive && len(parts) > 0 && utf8.RuneCountInString(parts[len(parts)-1]) <= bodyMax {
		body, parts = parts[len(parts)-1], parts[:len(parts)-1]
	}
	if kind == kindNumbered && !r.AskLocation {
		// Too many options for a list: numbered lines, with the text.
		parts = append(parts, numbered(body, opts, c.text(lang, "whatsapp.reply_with_number")))
		body, opts, interactive = "", nil, false
	}
	for _, p := range parts {
		if p = strings.TrimSpace(p); p != "" {
			msgs = append(msgs, textMessage(to, p))
		}
	}
	if !interactive {
		return msgs
	}
	if r.AskLocation {
		if body == "" {
			body = c.text(lang, "whatsappcloud.share_location")
		}
		msgs = append(msgs, map[string]any{
			"recipient_type": "individual", "to": to, "type": "interactive",
			"interactive": map[string]any{
				"type": "location_request_message", "body": map[string]any{"text": body},
				"action": map[string]any{"name": "send_location"},
			},
		})
		if len(opts) == 0 {
			return msgs
		}
		body = c.text(lang, "whatsappcloud.or_choose")
	}
	if body == "" {
		body = c.text(lang, "whatsappcloud.choose")
	}
	switch kind {
	case kindButtons:
		buttons := make([]any, len(opts))
		for i, o := range opts {
			buttons[i] = map[string]any{"type": "reply", "reply": map[string]any{"id": o.ID, "title": label(o)}}
		}
		msgs = append(msgs, interactiveMessage(to, "button", body, map[string]any{"buttons": buttons}))
	case kindList:
		rows := make([]any, len(opts))
		for i, o := range opts {
			row := map[string]any{"id": o.ID, "title": cut(label(o), maxRowTitle)}
			if utf8.RuneCountInString(label(o)) > maxRowTitle {
				row["description"] = cut(label(o), maxRowDesc)
			}
			rows[i] = row
		}
		msgs = append(msgs, interactiveMessage(to, "list", body, map[string]any{
			"button":   cut(c.text(lang, "whatsappcloud.list_button"), maxListButton),
			"sections": []any{map[string]any{"rows": rows}},
		}))
	default:
		msgs = append(msgs, textMessage(to, numbered(body, opts, c.text(lang, "whatsapp.reply_with_number"))))
	}
	return msgs
}

type optKind int

const (
	kindNone optKind = iota
	kindButtons
	kindList
	kindNumbered
)

// optionKind chooses how options are shown: buttons for at most three short ones,
// a list for at most ten, numbered text beyond (or for ids too long to carry).
func optionKind(opts []bot.Option) optKind {
	if len(opts) == 0 {
		return kindNone
	}
	short := true
	for _, o := range opts {
		if o.ID == "" || len(o.ID) > maxOptionID {
			return kindNumbered
		}
		short = short && utf8.RuneCountInString(label(o)) <= maxButtonTitle
	}
	switch {
	case len(opts) <= maxButtons && short:
		return kindButtons
	case len(opts) <= maxRows:
		return kindList
	}
	return kindNumbered
}

func label(o bot.Option) string {
	if o.Label != "" {
		return o.Label
	}
	return o.ID
}

// cut shortens s to n characters, ending in "…" when cut.
func cut(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return strings.TrimSpace(string(r[:n-1])) + "…"
}

func numbered(body string, opts []bot.Option, hint string) string {
	var b strings.Builder
	if body != "" {
		b.WriteString(body + "\n\n")
	}
	for i, o := range opts {
		b.WriteString(strconv.Itoa(i+1) + ". " + label(o) + "\n")
	}
	b.WriteString("\n" + hint)
	return b.String()
}

func textMessage(to, text string) map[string]any {
	return map[string]any{
		"recipient_type": "individual", "to": to, "type": "text",
		"text": map[string]any{"body": text, "preview_url": false},
	}
}

func interactiveMessage(to, kind, body string, action map[string]any) map[string]any {
	return map[string]any{
		"recipient_type": "individual", "to": to, "type": "interactive",
		"interactive": map[string]any{"type": kind, "body": map[string]any{"text": body}, "action": action},
	}
}

// text renders one of the channel's own texts; a missing one is logged and left out.
func (c *Channel) text(lang, key string) string {
	s, err := c.texts.Text(lang, key, nil)
	if err != nil {
		c.log.Warn("whatsapp cloud: text missing", "key", key, "err", err)
		return ""
	}
	return s
}
