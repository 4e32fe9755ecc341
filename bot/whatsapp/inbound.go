package whatsapp

import (
	"context"
	"encoding/json"
	"strings"
	"unicode/utf8"

	"go.mau.fi/whatsmeow"
	"go.mau.fi/whatsmeow/proto/waE2E"
	"go.mau.fi/whatsmeow/types"
	"go.mau.fi/whatsmeow/types/events"

	"github.com/layan-id/layan/bot"
	"github.com/layan-id/layan/domain"
)

// maxOptionID bounds an option id read from a list or button reply: the options a
// person can pick are Layan's own, whose ids are short.
const maxOptionID = 200

// inbound is what one WhatsApp message asks of the channel.
type inbound struct {
	handle  bool        // msg goes to the engine
	msg     bot.Message // when handle
	photo   whatsmeow.DownloadableMessage
	chat    types.JID // where the message came from: for the read receipt and "typing…"
	sender  types.JID
	ignored string // why nothing is handled, for debug logs
}

// parseMessage turns a received message into what the channel should do with it.
// lids (may be nil) finds the LID of a sender known only by phone number.
func parseMessage(ctx context.Context, e *events.Message, lids LIDMap) inbound {
	info := e.Info
	in := inbound{chat: info.Chat, sender: info.Sender}
	switch {
	case e.Message == nil:
		in.ignored = "message without content"
		return in
	case info.IsFromMe:
		in.ignored = "sent by the linked number itself"
		return in
	case info.Chat.Server == types.GroupServer:
		in.ignored = "group message"
		return in
	case info.Chat == types.StatusBroadcastJID:
		in.ignored = "status update"
		return in
	case info.Chat.Server == types.BroadcastServer:
		in.ignored = "broadcast list message"
		return in
	case info.Chat.Server == types.NewsletterServer:
		in.ignored = "newsletter (channel) post"
		return in
	case info.IsGroup:
		in.ignored = "group message"
		return in
	case info.Chat.Server != types.DefaultUserServer && info.Chat.Server != types.HiddenUserServer:
		in.ignored = "chat on server " + info.Chat.Server
		return in
	case info.Sender.IsBot():
		in.ignored = "message from a bot"
		return in
	case e.IsEdit:
		in.ignored = "edited message" // the original was answered
		return in
	}
	user := stableUser(ctx, info.MessageSource, lids)
	if user == "" {
		in.ignored = "message without a sender"
		return in
	}
	msg := bot.Message{
		Channel: ChannelName,
		ChatID:  info.Chat.ToNonAD().String(),
		UserID:  user,
		ID:      info.ID,
		Time:    info.Timestamp,
	}
	if !readContent(&msg, &in, e.Message) {
		return in
	}
	in.msg, in.handle = msg, true
	return in
}

// readContent fills msg's kind and content from m; false (and in.ignored) when m
// holds nothing a person wrote.
func readContent(msg *bot.Message, in *inbound, m *waE2E.Message) bool {
	switch {
	case m.ProtocolMessage != nil, m.ReactionMessage != nil, m.EncReactionMessage != nil,
		m.PollUpdateMessage != nil, m.KeepInChatMessage != nil, m.PinInChatMessage != nil,
		m.EditedMessage != nil:
		in.ignored = "protocol message or reaction"
		return false
	case m.Call != nil, m.CallLogMesssage != nil, m.BcallMessage != nil,
		m.ScheduledCallCreationMessage != nil, m.ScheduledCallEditMessage != nil:
		in.ignored = "call"
		return false
	case m.Conversation != nil && m.GetConversation() != "":
		msg.Kind, msg.Text = bot.KindText, m.GetConversation()
	case m.ExtendedTextMessage != nil:
		msg.Kind, msg.Text = bot.KindText, m.GetExtendedTextMessage().GetText()
	case m.ListResponseMessage != nil:
		r := m.GetListResponseMessage()
		return option(msg, in, r.GetSingleSelectReply().GetSelectedRowID(), r.GetTitle())
	case m.ButtonsResponseMessage != nil:
		r := m.GetButtonsResponseMessage()
		return option(msg, in, r.GetSelectedButtonID(), r.GetSelectedDisplayText())
	case m.TemplateButtonReplyMessage != nil:
		r := m.GetTemplateButtonReplyMessage()
		return option(msg, in, r.GetSelectedID(), r.GetSelectedDisplayText())
	case m.InteractiveResponseMessage != nil:
		r := m.GetInteractiveResponseMessage()
		return option(msg, in, nativeFlowID(r.GetNativeFlowResponseMessage().GetParamsJSON()), r.GetBody().GetText())
	case m.LocationMessage != nil:
		l := m.GetLocationMessage()
		msg.Kind = bot.KindLocation
		msg.Location = &domain.Location{Lat: l.GetDegreesLatitude(), Lon: l.GetDegreesLongitude()}
	case m.LiveLocationMessage != nil:
		l := m.GetLiveLocationMessage()
		msg.Kind = bot.KindLocation
		msg.Location = &domain.Location{Lat: l.GetDegreesLatitude(), Lon: l.GetDegreesLongitude()}
	case m.ImageMessage != nil:
		img := m.GetImageMessage()
		photo(msg, in, img, img.GetFileLength(), img.GetCaption(), img.GetMimetype())
	case m.DocumentMessage != nil && strings.HasPrefix(m.GetDocumentMessage().GetMimetype(), "image/"):
		// A photo sent "as a document" (uncompressed): taken like a photo, judged
		// by its content.
		doc := m.GetDocumentMessage()
		photo(msg, in, doc, doc.GetFileLength(), doc.GetCaption(), doc.GetMimetype())
	case m.StickerMessage != nil, m.LottieStickerMessage != nil, m.StickerPackMessage != nil:
		msg.Kind = bot.KindSticker
	case m.AudioMessage != nil: // voice notes (PTT) and audio files alike
		msg.Kind = bot.KindVoice
	case m.VideoMessage != nil, m.PtvMessage != nil, m.DocumentMessage != nil,
		m.DocumentWithCaptionMessage != nil, m.ContactMessage != nil, m.ContactsArrayMessage != nil,
		m.PollCreationMessage != nil, m.PollCreationMessageV2 != nil, m.PollCreationMessageV3 != nil,
		m.PollCreationMessageV4 != nil, m.PollCreationMessageV5 != nil, m.EventMessage != nil,
		m.ProductMessage != nil, m.OrderMessage != nil, m.GroupInviteMessage != nil,
		m.SendPaymentMessage != nil, m.RequestPaymentMessage != nil, m.ListMessage != nil,
		m.ButtonsMessage != nil, m.TemplateMessage != nil, m.InteractiveMessage != nil,
		m.AlbumMessage != nil, m.ViewOnceMessage != nil, m.ViewOnceMessageV2 != nil:
		msg.Kind = bot.KindUnsupported
	default:
		in.ignored = "nothing a person wrote" // key distribution, history notices ...
		return false
	}
	return true
}

// photo makes msg a photo to download, or a refused file when WhatsApp says it is
// larger than a photo may be (it is then never downloaded).
func photo(msg *bot.Message, in *inbound, d whatsmeow.DownloadableMessage, size uint64, caption, mime string) {
	msg.Text = caption
	if size > bot.MaxPhotoSize {
		msg.Kind = bot.KindBadFile
		return
	}
	msg.Kind = bot.KindImage
	msg.Media = &bot.Media{MIME: mime, Size: int64(size)}
	in.photo = d
}

// option makes msg the pick of an option: its id when the reply carries one, else
// its label as text (the router matches words against what it offered).
func option(msg *bot.Message, in *inbound, id, label string) bool {
	id = strings.TrimSpace(id)
	switch {
	case id != "" && len(id) <= maxOptionID && utf8.ValidString(id):
		msg.Kind, msg.Option, msg.Text = bot.KindOption, id, label
	case strings.TrimSpace(label) != "":
		msg.Kind, msg.Text = bot.KindText, label
	default:
		in.ignored = "empty list or button reply"
		return false
	}
	return true
}

// nativeFlowID reads the picked id from an interactive reply's parameters, a JSON
// object such as {"id":"menu"}; "" when there is none.
func nativeFlowID(params string) string {
	var p map[string]any
	if json.Unmarshal([]byte(params), &p) != nil {
		return ""
	}
	for _, k := range []string{"id", "selected_id", "selectedRowId"} {
		if s, ok := p[k].(string); ok && s != "" {
			return s
		}
	}
	return ""
}

// stableUser returns the person's stable id: the LID ("<digits>@lid") when known from
// the sender, its alternative address or the LID map, else the phone number's digits.
// "" when the message names no person.
func stableUser(ctx context.Context, src types.MessageSource, lids LIDMap) string {
	sender, alt := src.Sender.ToNonAD(), src.SenderAlt.ToNonAD()
	if sender.IsEmpty() && !src.IsGroup {
		sender = src.Chat.ToNonAD() // a direct chat is named after the other person
	}
	var pn types.JID
	for _, j := range []types.JID{sender, alt} {
		switch j.Server {
		case types.HiddenUserServer:
			if j.User != "" {
				return j.User + "@" + types.HiddenUserServer
			}
		case types.DefaultUserServer:
			if pn.IsEmpty() && j.User != "" {
				pn = j
			}
		}
	}
	if pn.IsEmpty() {
		return ""
	}
	if lids != nil {
		if lid, err := lids.GetLIDForPN(ctx, pn); err == nil && !lid.IsEmpty() && lid.User != "" {
			return lid.User + "@" + types.HiddenUserServer
		}
	}
	return pn.User
}
