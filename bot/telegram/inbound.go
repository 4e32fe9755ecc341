package telegram

import (
	"bytes"
	stdjson "encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"
	json "github.com/goccy/go-json" // the same JSON as encoding/json, faster: every update

	"github.com/layan-id/layan/bot"
	"github.com/layan-id/layan/domain"
)

// isPhotoType reports whether an image file of this type is taken as a photo; other
// files are bot.KindBadFile.
func isPhotoType(mime string) bool {
	return mime == "image/jpeg" || mime == "image/png" || mime == "image/webp"
}

// inbound is what one update asks of the channel.
type inbound struct {
	updateID int
	handle   bool        // msg goes to the engine
	msg      bot.Message // when handle
	callback string      // a callback query to answer (stop the button's spinner)
	longKey  string      // msg.Option is a "~" key to look up in the store
	label    string      // the pressed button's label, when known (fallback for longKey)
	replyTo  int         // the id of the bot's message this one replies to, 0 = none
	blocked  string      // the conversation key of a person who blocked the bot
	ignored  string      // why nothing is handled, for debug logs
}

// decodeUpdate reads one update as Telegram sends it. Anything that is not a JSON
// object with a positive update_id is an error.
func decodeUpdate(raw []byte) (tgbotapi.Update, error) {
	var u tgbotapi.Update
	raw, err := jsonObject(raw)
	if err != nil {
		return u, err
	}
	if err := json.Unmarshal(raw, &u); err != nil {
		return u, fmt.Errorf("telegram: decode update: %w", err)
	}
	if u.UpdateID <= 0 {
		return u, errNoUpdateID
	}
	return u, nil
}

// checkUpdate is the webhook's look at a body before it is queued: a JSON object,
// all of it well-formed, with a positive update_id. It returns the id of the update's
// callback query (a pressed button), "" when it has none. The update is decoded once,
// by the worker that takes it from the queue (decodeUpdate); one whose fields do not
// have the types Telegram's have is dropped there, with a warning in the log.
func checkUpdate(raw []byte) (callback string, err error) {
	raw, err = jsonObject(raw)
	if err != nil {
		return "", err
	}
	if !stdjson.Valid(raw) { // checks all of raw, allocates nothing
		return "", errors.New("telegram: update is not well-formed JSON")
	}
	var head struct {
		UpdateID      int `json:"update_id"`
		CallbackQuery *struct {
			ID string `json:"id"`
		} `json:"callback_query"`
	}
	if err := json.Unmarshal(raw, &head); err != nil {
		return "", fmt.Errorf("telegram: decode update: %w", err)
	}
	if head.UpdateID <= 0 {
		return "", errNoUpdateID
	}
	if head.CallbackQuery != nil {
		return head.CallbackQuery.ID, nil
	}
	return "", nil
}

var errNoUpdateID = errors.New("telegram: update has no update_id")

// jsonObject returns raw without the white space around it, or an error if it does
// not start as a JSON object.
func jsonObject(raw []byte) ([]byte, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || raw[0] != '{' {
		return nil, errors.New("telegram: update is not a JSON object")
	}
	return raw, nil
}

// env is what reading an update needs to know besides the update.
type env struct {
	me        tgbotapi.User     // the bot's own account: mentions and commands in groups
	commands  map[string]string // command name → option
	staffChat int64             // the staff group, 0 = none
	now       time.Time         // the time of messages that carry no date
}

// parseUpdate turns an update into what the channel should do with it.
func parseUpdate(u tgbotapi.Update, e env) inbound {
	in := inbound{updateID: u.UpdateID}
	switch {
	case u.Message != nil:
		parseMessage(&in, u.Message, e)
	case u.CallbackQuery != nil:
		parseCallback(&in, u.CallbackQuery, e)
	case u.EditedMessage != nil:
		in.ignored = "edited message"
	case u.MyChatMember != nil:
		cm := u.MyChatMember
		if cm.Chat.Type == "private" && cm.NewChatMember.Status == "kicked" {
			in.blocked = ChannelName + ":" + strconv.FormatInt(cm.From.ID, 10)
			in.ignored = "bot blocked by the person"
		} else {
			in.ignored = "membership change"
		}
	default:
		in.ignored = "update type not handled"
	}
	return in
}

// userID is the person's id in bot.Message.UserID, and so their conversation. In a
// group other than the staff group a person has a conversation of their own with the
// bot in that group, apart from their private one: what they do in private (their
// complaints, their status) is never answered in front of the group. Staff keep their
// own id in the staff group, so STAFF_IDS recognises them there.
func userID(user int64, chat *tgbotapi.Chat, e env) string {
	id := strconv.FormatInt(user, 10)
	if chat.Type == "private" || (e.staffChat != 0 && chat.ID == e.staffChat) {
		return id
	}
	return id + "@" + strconv.FormatInt(chat.ID, 10)
}

func parseMessage(in *inbound, m *tgbotapi.Message, e env) {
	me := e.me
	if m.Chat == nil {
		in.ignored = "message without chat"
		return
	}
	var user int64
	switch {
	case m.From != nil && m.From.IsBot:
		in.ignored = "message from a bot"
		return
	case m.From != nil:
		user = m.From.ID
	case m.SenderChat != nil:
		user = m.SenderChat.ID // an anonymous group admin or a linked channel
	default:
		in.ignored = "message without sender"
		return
	}
	group := m.Chat.Type == "group" || m.Chat.Type == "supergroup"
	if !group && m.Chat.Type != "private" {
		in.ignored = "message in a " + m.Chat.Type
		return
	}
	chat := strconv.FormatInt(m.Chat.ID, 10)
	msg := bot.Message{
		Channel: ChannelName, ChatID: chat, UserID: userID(user, m.Chat, e),
		// Message ids count per chat; one person writes in several chats.
		ID: chat + ":" + strconv.Itoa(m.MessageID),
	}
	if m.Date > 0 {
		msg.Time = time.Unix(int64(m.Date), 0)
	}
	text := m.Text
	if text == "" {
		text = m.Caption
	}
	replyToMe := m.ReplyToMessage != nil && m.ReplyToMessage.From != nil && m.ReplyToMessage.From.ID == me.ID
	if replyToMe {
		in.replyTo = m.ReplyToMessage.MessageID
	}

	if name, at, args, ok := splitCommand(m.Text); ok { // a caption is never a command
		if at != "" && !strings.EqualFold(at, me.UserName) {
			in.ignored = "command for another bot"
			return
		}
		opt, known := e.commands[strings.ToLower(name)]
		switch {
		case known && (args == "" || opt == "menu"):
			// /lapor is the menu entry; /start's argument is a deep link's payload.
			msg.Kind, msg.Option, msg.Text = bot.KindOption, opt, args
		default:
			// "/status BTG-0042", "/selesai BTG-0042 sudah ditambal", /daftar: the
			// flows read the words (without this bot's @name).
			msg.Kind, msg.Text = bot.KindText, strings.TrimSpace("/"+name+" "+args)
		}
		in.msg, in.handle = msg, true
		return
	}
	if group {
		mentioned := me.UserName != "" && hasMention(text, me.UserName)
		if !mentioned && !replyToMe {
			in.ignored = "group message not addressed to the bot"
			return
		}
		text = stripMention(text, me.UserName)
	}
	msg.Text = text
	switch {
	case m.Location != nil: // a venue carries its location too
		msg.Kind = bot.KindLocation
		msg.Location = &domain.Location{Lat: m.Location.Latitude, Lon: m.Location.Longitude}
	case len(m.Photo) > 0:
		p := largest(m.Photo)
		msg.Kind = bot.KindImage
		msg.Media = &bot.Media{Ref: p.FileID, MIME: "image/jpeg", Size: int64(p.FileSize)}
	case m.Sticker != nil:
		msg.Kind = bot.KindSticker
	case m.Voice != nil:
		msg.Kind = bot.KindVoice
	case m.Animation != nil: // a GIF comes with a document too: it is no photo file
		msg.Kind = bot.KindUnsupported
	case m.Document != nil && isPhotoType(m.Document.MimeType) && m.Document.FileSize <= bot.MaxPhotoSize:
		msg.Kind = bot.KindImage // a photo sent uncompressed, as a file
		msg.Media = &bot.Media{Ref: m.Document.FileID, MIME: m.Document.MimeType, Size: int64(m.Document.FileSize)}
	case m.Document != nil:
		msg.Kind = bot.KindBadFile // a PDF, a HEIC picture, a huge file: the person hears what is taken
	case m.Text != "":
		msg.Kind = bot.KindText
	case m.Audio != nil || m.Video != nil || m.VideoNote != nil || m.Contact != nil ||
		m.Dice != nil || m.Game != nil || m.Poll != nil:
		msg.Kind = bot.KindUnsupported
	default:
		in.ignored = "service message" // joins, leaves, pins, title changes ...
		return
	}
	in.msg, in.handle = msg, true
}

func parseCallback(in *inbound, q *tgbotapi.CallbackQuery, e env) {
	if q.From == nil || q.ID == "" {
		in.ignored = "callback without sender"
		return
	}
	in.callback = q.ID
	if q.Data == "" {
		in.ignored = "callback without data"
		return
	}
	// A button on an inline message (no chat): answer in private.
	chat := &tgbotapi.Chat{ID: q.From.ID, Type: "private"}
	if q.Message != nil && q.Message.Chat != nil {
		chat = q.Message.Chat
	}
	in.msg = bot.Message{
		Channel: ChannelName, ChatID: strconv.FormatInt(chat.ID, 10), UserID: userID(q.From.ID, chat, e),
		ID: "cb:" + q.ID, Kind: bot.KindOption, Option: q.Data, Time: e.now,
	}
	in.handle = true
	if strings.HasPrefix(q.Data, longPrefix) {
		in.longKey = q.Data
		in.label = buttonLabel(q.Message, q.Data)
	}
}

// buttonLabel finds the label of the inline button with the given data on m.
func buttonLabel(m *tgbotapi.Message, data string) string {
	if m == nil || m.ReplyMarkup == nil {
		return ""
	}
	for _, row := range m.ReplyMarkup.InlineKeyboard {
		for _, b := range row {
			if b.CallbackData != nil && *b.CallbackData == data {
				return b.Text
			}
		}
	}
	return ""
}

// splitCommand reads a leading bot command: "/name", "/name@bot", then arguments.
func splitCommand(text string) (name, at, args string, ok bool) {
	if !strings.HasPrefix(text, "/") {
		return "", "", "", false
	}
	head, rest, _ := strings.Cut(text[1:], " ")
	if i := strings.IndexAny(head, "\n\t"); i >= 0 {
		head, rest = head[:i], head[i+1:]+" "+rest
	}
	name, at, _ = strings.Cut(head, "@")
	if name == "" || len(name) > 32 || !isCommandWord(name) || (at != "" && !isCommandWord(at)) {
		return "", "", "", false
	}
	return name, at, strings.TrimSpace(rest), true
}

func isCommandWord(s string) bool {
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_') {
			return false
		}
	}
	return true
}

// mentionAt returns the byte offset of the first "@name" in text that is a whole word
// (ASCII case-insensitive: user names are ASCII), or -1.
func mentionAt(text, name string) int {
	if name == "" {
		return -1
	}
	needle := "@" + asciiLower(name)
	lower := asciiLower(text) // same byte offsets as text
	for from := 0; ; {
		i := strings.Index(lower[from:], needle)
		if i < 0 {
			return -1
		}
		i += from
		end := i + len(needle)
		if end == len(text) || !isCommandWord(text[end:end+1]) {
			return i
		}
		from = end
	}
}

func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

func hasMention(text, name string) bool { return mentionAt(text, name) >= 0 }

// stripMention removes every "@name" and the space and punctuation left around it
// at the start ("@LayanBot, jam buka MPP?" becomes "jam buka MPP?").
func stripMention(text, name string) string {
	for i := mentionAt(text, name); i >= 0; i = mentionAt(text, name) {
		text = text[:i] + text[i+1+len(name):]
	}
	text = strings.TrimSpace(text)
	text = strings.TrimSpace(strings.TrimLeft(text, ",:"))
	return strings.ReplaceAll(text, "  ", " ")
}

func largest(ps []tgbotapi.PhotoSize) tgbotapi.PhotoSize {
	best := ps[0]
	for _, p := range ps[1:] {
		if p.Width*p.Height > best.Width*best.Height {
			best = p
		}
	}
	return best
}
