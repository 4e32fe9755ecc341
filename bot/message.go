// Package bot is Layan's chat runtime: the channel-neutral shapes of what a person
// sends (Message) and what the bot answers (Reply), the per-person Session and its
// transcript, the Handler that turns one into the other, the Engine that runs handlers
// with per-chat ordering, deduplication, timeouts and panic recovery, and the Sender
// that paces and retries what goes out, with the one retry policy (Backoff, Retry)
// and what a channel needs of the runtime (MessageHandler, ChannelSender, Texts,
// MediaSaver). Sending is explicit: replies go to a Recipient (channel, chat and the
// language they are written in), never to anything carried in the context. Its
// subpackages are the channels (telegram, whatsapp, whatsappcloud, webchat, console)
// and what they share: lanes (the keyed queue), inbox (the worker of a webhook's
// durable queue), ratemap (token buckets per key), httpjson, guard and clientip.
//
// The package knows no platform, no store implementation and no conversation content:
// the domain (complaints, broadcasts, handoffs, staff) is package domain; channels,
// flows and the store import bot, never the reverse.
package bot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/layan-id/layan/domain"
)

// Kind says what sort of thing a person sent.
type Kind string

// The kinds of message an adapter reports. Anything a flow cannot read (a sticker, a
// voice note, a video) still reaches the engine, so the person gets a kind answer.
const (
	KindText        Kind = "text"
	KindOption      Kind = "option"   // a pressed button or picked list item
	KindLocation    Kind = "location" // a shared location pin
	KindImage       Kind = "image"
	KindSticker     Kind = "sticker"
	KindVoice       Kind = "voice"
	KindUnsupported Kind = "unsupported" // anything else: video, contact, poll ...
	KindBadFile     Kind = "bad_file"    // a file refused: not JPEG/PNG/WebP, or too large
	KindMediaFull   Kind = "media_full"  // a photo not kept: the space for photos is full
	// KindEvent is not from a person but about them: something happened that they
	// must be told in their conversation (a complaint's status changed). Text names
	// the event ("complaint:BTG-261127-0042").
	KindEvent Kind = "event"
)

// Message is one thing a person sent, on any channel.
type Message struct {
	Channel  string // "webchat", "telegram", "whatsapp", "console"
	ChatID   string // where replies go, as the channel names it
	UserID   string // stable identity of the person on that channel
	ID       string // platform message id, unique per user; empty means "never dedupe"
	Kind     Kind
	Text     string
	Option   string // id of the option the person picked, for KindOption
	Location *domain.Location
	Media    *Media
	Time     time.Time
	// InReplyTo is the About of the bot's message this one answers, when the channel
	// can tell (a reply to the bot's message in Telegram); "" otherwise.
	InReplyTo string
	// Retryable marks a message whose sender sends it again when it missed the answer
	// (the web chat's page retrying a lost HTTP response): the engine keeps the replies
	// for a while (store.AnswerWindow), and the retry gets them again (the Replies of
	// a Duplicate Outcome). Chat platforms redeliver too, but a redelivery must not be
	// answered again: of their messages the engine remembers only the id.
	Retryable bool
}

// Media refers to a file a person sent; the adapter stores or fetches it.
type Media struct {
	Ref  string // adapter-specific reference (file id, path)
	MIME string
	Size int64
}

// MaxPhotoSize is the largest photo a person may send, in bytes.
const MaxPhotoSize = 10 << 20

// ErrFileRefused is the error (wrapped) for a file a person sent that is not taken: not
// a JPEG, PNG or WebP image, or larger than MaxPhotoSize. Adapters answer it with a
// KindBadFile message.
var ErrFileRefused = errors.New("file refused")

// ErrMediaFull is the error (wrapped) for a photo that was not kept because the space
// for photos is full; it is also an ErrFileRefused. Adapters that tell it apart
// answer it with a KindMediaFull message.
var ErrMediaFull = fmt.Errorf("no space left for photos: %w", ErrFileRefused)

// Key names the conversation a message belongs to: the channel plus the stable user
// id (or the chat id when the channel has no separate user). Sessions, the per-chat
// lock and the dedupe memory are all keyed by it.
func (m Message) Key() string {
	id := m.UserID
	if id == "" {
		id = m.ChatID
	}
	return m.Channel + ":" + id
}

// replyTo is the recipient of replies to m written in lang.
func (m Message) replyTo(lang string) Recipient {
	return Recipient{Channel: m.Channel, ChatID: m.ChatID, Lang: lang}
}

// Option is a choice offered with a reply: a button on Telegram and the web chat, a
// numbered line on WhatsApp and in the terminal.
type Option struct {
	ID    string `json:"id"`
	Label string `json:"label"`
}

// Reply is one thing the bot says.
type Reply struct {
	Text        string   `json:"text"`
	Options     []Option `json:"options,omitempty"`
	Media       *Media   `json:"media,omitempty"`
	AskLocation bool     `json:"ask_location,omitempty"`
	// From is who speaks: "" the bot, FromStaff a member of staff whose words the bot
	// carries (a live handoff).
	From string `json:"from,omitempty"`
	// About names what the message is about ("handoff:<id>" for news of a talk with
	// staff), for a channel that remembers it so that an answer to the message comes
	// back as Message.InReplyTo. People never see it.
	About string `json:"about,omitempty"`
	// Status is the state of the conversation after this reply, for a page that
	// shows it beside the messages (the web chat's status bar): StatusWaiting,
	// StatusActive, StatusEnded; "" says nothing new.
	Status string `json:"status,omitempty"`
}

// The states of a conversation a page may show (Reply.Status): waiting for staff,
// talking with a member of staff, and that talk just ended.
const (
	StatusWaiting = "handoff:waiting"
	StatusActive  = "handoff:active"
	StatusEnded   = "handoff:ended"
)

// Session is what Layan remembers about one conversation between messages. It is
// plain data, stored as JSON; flows keep their state in Flow, Step and State.
type Session struct {
	Lang string `json:"lang,omitempty"`
	Flow string `json:"flow,omitempty"`
	Step string `json:"step,omitempty"`
	// State is the flows' own state, by name (usually the active flow's), each the
	// JSON of a struct the flow defines. A value is replaced, never changed in place,
	// so copies of a session may share values.
	State map[string]json.RawMessage `json:"state,omitempty"`
	// Vars is flow state as sessions saved before State held it: strings by name.
	// The flows read it into their State.
	Vars       map[string]string `json:"vars,omitempty"`
	Options    []Option          `json:"options,omitempty"` // the options last offered, for "2" or "bahasa"
	Greeted    bool              `json:"greeted,omitempty"`
	LastActive time.Time         `json:"last_active,omitzero"`
	// LangOffered: the person was once asked whether to go on in the language of a
	// message they wrote, and is not asked again.
	LangOffered bool `json:"lang_offered,omitempty"`
	// History is the conversation's recent messages, both sides, oldest first, when
	// the engine keeps them (EngineConfig.History): shown to staff when the person
	// asks for one, and to the person when they come back to the web chat. A store
	// that keeps them apart (a HistoryReader) takes them out of the session when it
	// saves it, so that a session read for a turn holds none (or those of a session
	// saved before); read them with Turn.History or Engine.Recall.
	History []Line `json:"history,omitempty"`
}

// Reset leaves the flow the session is in, keeping who the person is (language,
// greeting) and nothing else.
func (s *Session) Reset() {
	s.Flow, s.Step, s.State, s.Vars, s.Options = "", "", nil, nil, nil
}

// Set stores a string variable in Vars, the flow state of sessions saved before
// State (the flows keep theirs in State).
func (s *Session) Set(name, value string) {
	if s.Vars == nil {
		s.Vars = map[string]string{}
	}
	s.Vars[name] = value
}

// Get returns a flow variable, or "".
func (s *Session) Get(name string) string { return s.Vars[name] }

// Turn is one message being handled: the message, the session it may change, and the
// replies said so far. Handlers add replies with Say.
type Turn struct {
	Msg     Message
	Session *Session
	Replies []Reply
	// ReplyLang is the language the replies are written in when it is not the
	// session's (a message answered in its own language); "" means the session's.
	// The channel adds its own words to the replies in it (see Outcome.To).
	ReplyLang string
	forget    bool
	engine    *Engine  // that runs the turn, for History
	before    *Session // the session as the turn began
}

// History returns the conversation's recent messages before this turn, oldest first,
// within the engine's limits (EngineConfig.History).
func (t *Turn) History(ctx context.Context) ([]Line, error) {
	if t.engine == nil {
		return t.Session.History, nil
	}
	return t.engine.recent(ctx, t.Msg.Key(), t.before)
}

// Forget asks the engine to erase the session when the turn ends (the person asked
// for their data to be deleted). The replies of the turn are still given.
func (t *Turn) Forget() { t.forget = true }

// Say adds a reply and remembers its options, so that the person can answer by number
// or by the option's words next time.
func (t *Turn) Say(r Reply) {
	t.Replies = append(t.Replies, r)
	if len(r.Options) > 0 {
		t.Session.Options = r.Options
	}
}

// Text returns the message text with surrounding white space removed.
func (t *Turn) Text() string { return strings.TrimSpace(t.Msg.Text) }
