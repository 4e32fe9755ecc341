package whatsappcloud

import (
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/layan-id/layan/bot"
	"github.com/layan-id/layan/domain"
)

// payload is a webhook notification: entries of changes, each with messages from
// people and statuses of messages sent.
type payload struct {
	Object string `json:"object"`
	Entry  []struct {
		ID      string `json:"id"`
		Changes []struct {
			Field string `json:"field"`
			Value struct {
				MessagingProduct string `json:"messaging_product"`
				Metadata         struct {
					PhoneNumberID string `json:"phone_number_id"`
				} `json:"metadata"`
				Messages []message `json:"messages"`
				Statuses []status  `json:"statuses"`
			} `json:"value"`
		} `json:"changes"`
	} `json:"entry"`
}

type message struct {
	From      string `json:"from"`
	ID        string `json:"id"`
	Timestamp string `json:"timestamp"`
	Type      string `json:"type"`
	Text      *struct {
		Body string `json:"body"`
	} `json:"text"`
	Interactive *struct {
		Type        string `json:"type"`
		ButtonReply *struct {
			ID    string `json:"id"`
			Title string `json:"title"`
		} `json:"button_reply"`
		ListReply *struct {
			ID    string `json:"id"`
			Title string `json:"title"`
		} `json:"list_reply"`
	} `json:"interactive"`
	Button *struct {
		Payload string `json:"payload"`
		Text    string `json:"text"`
	} `json:"button"`
	Location *struct {
		Latitude  float64 `json:"latitude"`
		Longitude float64 `json:"longitude"`
	} `json:"location"`
	Image *struct {
		ID       string `json:"id"`
		MIMEType string `json:"mime_type"`
		Caption  string `json:"caption"`
	} `json:"image"`
}

type status struct {
	ID          string `json:"id"`
	Status      string `json:"status"`
	Timestamp   string `json:"timestamp"`
	RecipientID string `json:"recipient_id"`
	Errors      []struct {
		Code  int    `json:"code"`
		Title string `json:"title"`
	} `json:"errors"`
}

// item is one thing of a payload to handle: a message for the engine, or a status.
type item struct {
	lane string // one person's items are handled in order
	// a message:
	msg     *bot.Message
	mediaID string // a photo to download first
	// a status:
	status *statusItem
}

type statusItem struct {
	wamid, status, waID string
	code                int
	title               string
	at                  time.Time
}

// maxOptionID bounds an option id read from a reply: Layan's own are short.
const maxOptionID = 200

// decode reads a webhook payload; an error when it is not one.
func decode(raw []byte) (*payload, error) {
	var p payload
	if err := json.Unmarshal(raw, &p); err != nil {
		return nil, err
	}
	if p.Object != "whatsapp_business_account" {
		return nil, errors.New("not a WhatsApp Business Account notification")
	}
	return &p, nil
}

// parse turns a payload into the items to handle, in the order they came; phoneID
// (when not empty) keeps out changes meant for another number of the same account.
// why lists what was left out, for debug logs.
func parse(p *payload, phoneID string) (items []item, why []string) {
	for _, e := range p.Entry {
		for _, ch := range e.Changes {
			if ch.Field != "messages" {
				why = append(why, "change of field "+ch.Field)
				continue
			}
			v := ch.Value
			if phoneID != "" && v.Metadata.PhoneNumberID != "" && v.Metadata.PhoneNumberID != phoneID {
				why = append(why, "another phone number")
				continue
			}
			for _, m := range v.Messages {
				it, ok, reason := parseMessage(m)
				if !ok {
					why = append(why, reason)
					continue
				}
				items = append(items, it)
			}
			for _, s := range v.Statuses {
				if s.ID == "" || s.Status == "" {
					why = append(why, "status without an id")
					continue
				}
				si := &statusItem{wamid: s.ID, status: s.Status, waID: s.RecipientID, at: unixTime(s.Timestamp)}
				if len(s.Errors) > 0 {
					si.code, si.title = s.Errors[0].Code, s.Errors[0].Title
				}
				items = append(items, item{lane: "status:" + s.RecipientID, status: si})
			}
		}
	}
	return items, why
}

// parseMessage turns one message into an item for the engine.
func parseMessage(m message) (item, bool, string) {
	if m.From == "" || m.ID == "" {
		return item{}, false, "message without a sender or an id"
	}
	if _, err := waID(m.From); err != nil {
		return item{}, false, "sender is not a number"
	}
	msg := bot.Message{
		Channel: ChannelName, ChatID: m.From, UserID: m.From, ID: m.ID, Time: unixTime(m.Timestamp),
	}
	it := item{lane: msg.Key(), msg: &msg}
	switch m.Type {
	case "text":
		if m.Text == nil || strings.TrimSpace(m.Text.Body) == "" {
			return item{}, false, "empty text"
		}
		msg.Kind, msg.Text = bot.KindText, m.Text.Body
	case "interactive":
		switch {
		case m.Interactive != nil && m.Interactive.ButtonReply != nil:
			option(&msg, m.Interactive.ButtonReply.ID, m.Interactive.ButtonReply.Title)
		case m.Interactive != nil && m.Interactive.ListReply != nil:
			option(&msg, m.Interactive.ListReply.ID, m.Interactive.ListReply.Title)
		default:
			msg.Kind = bot.KindUnsupported // a flow reply, or a kind Layan never sends
		}
	case "button": // a template's quick reply
		if m.Button == nil {
			return item{}, false, "empty button reply"
		}
		option(&msg, m.Button.Payload, m.Button.Text)
	case "location":
		if m.Location == nil {
			return item{}, false, "empty location"
		}
		msg.Kind = bot.KindLocation
		msg.Location = &domain.Location{Lat: m.Location.Latitude, Lon: m.Location.Longitude}
	case "image":
		if m.Image == nil || m.Image.ID == "" {
			msg.Kind = bot.KindBadFile
			break
		}
		msg.Kind, msg.Text = bot.KindImage, m.Image.Caption
		msg.Media = &bot.Media{Ref: m.Image.ID, MIME: m.Image.MIMEType}
		it.mediaID = m.Image.ID
	case "sticker":
		msg.Kind = bot.KindSticker
	case "audio", "voice":
		msg.Kind = bot.KindVoice
	case "system", "ephemeral", "request_welcome":
		return item{}, false, "message of type " + m.Type
	default: // video, document, contacts, reaction, order, unsupported, unknown ...
		msg.Kind = bot.KindUnsupported
	}
	return it, true, ""
}

// option makes msg the pick of an option: its id when the reply carries a usable
// one, else its label as text (the router matches words against what it offered).
func option(msg *bot.Message, id, label string) {
	id = strings.TrimSpace(id)
	if id != "" && len(id) <= maxOptionID && utf8.ValidString(id) {
		msg.Kind, msg.Option, msg.Text = bot.KindOption, id, label
		return
	}
	msg.Kind, msg.Text = bot.KindText, label
	if strings.TrimSpace(label) == "" {
		msg.Kind = bot.KindUnsupported
	}
}

// unixTime reads Meta's timestamps (seconds since 1970, as a string); zero when absent.
func unixTime(s string) time.Time {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 {
		return time.Time{}
	}
	return time.Unix(n, 0)
}
