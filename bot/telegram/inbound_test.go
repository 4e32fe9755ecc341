package telegram

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/layan-id/layan/bot"
	"github.com/layan-id/layan/domain"
)

// staffGroup is the staff group's chat id in the recorded payloads.
const staffGroup = -1009998887776

// testBot is the bot account the recorded payloads were addressed to.
var testBot = tgbotapi.User{ID: 6000000001, IsBot: true, FirstName: "Layan", UserName: "LayanTestBot"}

func testCommands() map[string]string {
	m := map[string]string{}
	for _, c := range DefaultCommands() {
		m[c.Name] = c.Option
	}
	return m
}

func TestRecordedUpdates(t *testing.T) {
	now := time.Date(2026, 11, 27, 8, 0, 0, 0, time.UTC)
	private := func(id, kind string) bot.Message {
		return bot.Message{Channel: "telegram", ChatID: "1122334455", UserID: "1122334455", ID: "1122334455:" + id, Kind: bot.Kind(kind)}
	}
	group := func(id string) bot.Message {
		return bot.Message{Channel: "telegram", ChatID: "-1001234567890", UserID: "2233445566@-1001234567890", ID: "-1001234567890:" + id}
	}
	with := func(m bot.Message, f func(*bot.Message)) *bot.Message { f(&m); return &m }

	tests := []struct {
		name      string
		file      string
		want      *bot.Message // nil: nothing reaches the engine
		callback  string       // the callback query that must be answered
		blocked   string       // the person reported as having blocked the bot
		longKey   string
		label     string
		decodeErr bool
	}{
		{name: "a text in a private chat is text from that person", file: "text.json",
			want: with(private("41", "text"), func(m *bot.Message) { m.Text = "ktp ku ilang gmn" })},
		{name: "Markdown and HTML in a text arrive exactly as typed", file: "markup_text.json",
			want: with(private("42", "text"), func(m *bot.Message) { m.Text = "*tebal* <b>jalan</b> [rusak](http://contoh.test)" })},
		{name: "a command is the menu option it names", file: "command.json",
			want: with(private("43", "option"), func(m *bot.Message) { m.Option = "complaint" })},
		{name: "a /start deep link shows the menu and keeps its payload as text", file: "command_start_deeplink.json",
			want: &bot.Message{Channel: "telegram", ChatID: "5566778899", UserID: "5566778899", ID: "5566778899:1",
				Kind: bot.KindOption, Option: "menu", Text: "wisata-pantai"}},
		{name: "an unknown command is text for the flows", file: "command_unknown.json",
			want: with(private("44", "text"), func(m *bot.Message) { m.Text = "/help" })},
		{name: "a command addressed to this bot in a group is handled with its arguments", file: "command_group_at_bot.json",
			want: with(group("3307"), func(m *bot.Message) { m.Kind, m.Text = bot.KindText, "/status BTG-0042" })},
		{name: "a command without arguments in a group is its option", file: "command_group_plain.json",
			want: with(group("3315"), func(m *bot.Message) { m.Kind, m.Option = bot.KindOption, "menu" })},
		{name: "a staff command in the staff group keeps the staff member's own conversation", file: "staff_group_command.json",
			want: &bot.Message{Channel: "telegram", ChatID: "-1009998887776", UserID: "2233445566", ID: "-1009998887776:88",
				Kind: bot.KindText, Text: "/selesai ADU-261127-0001 sudah ditambal"}},
		{name: "a command addressed to another bot in a group is ignored", file: "command_group_other_bot.json"},
		{name: "a group message that does not mention the bot is ignored", file: "group_without_mention.json"},
		{name: "a group message mentioning the bot is handled without the mention", file: "group_mention.json",
			want: with(group("3310"), func(m *bot.Message) { m.Kind, m.Text = bot.KindText, "jam buka puskesmas?" })},
		{name: "a mention of a longer user name is no mention of the bot", file: "group_mention_other.json"},
		{name: "a reply to the bot's message in a group is handled", file: "group_reply_to_bot.json",
			want: with(group("3312"), func(m *bot.Message) { m.Kind, m.Text = bot.KindText, "Ya, membantu" })},
		{name: "a pressed button is its option, and its query is answered", file: "callback.json",
			want: &bot.Message{Channel: "telegram", ChatID: "1122334455", UserID: "1122334455", ID: "cb:4382bfdwdsb323b2d9",
				Kind: bot.KindOption, Option: "faq", Time: now},
			callback: "4382bfdwdsb323b2d9"},
		{name: "a pressed button with a long option id is looked up, its label kept as fallback", file: "callback_long_option.json",
			want: &bot.Message{Channel: "telegram", ChatID: "1122334455", UserID: "1122334455", ID: "cb:4382bfdwdsb323b2e0",
				Kind: bot.KindOption, Option: "~Qm9vbXNoYWthbGFrYWJv", Time: now},
			callback: "4382bfdwdsb323b2e0", longKey: "~Qm9vbXNoYWthbGFrYWJv", label: "Syarat izin usaha mikro lewat OSS?"},
		{name: "a shared location is a location", file: "location.json",
			want: with(private("47", "location"), func(m *bot.Message) { m.Location = &domain.Location{Lat: -6.907512, Lon: 109.730284} })},
		{name: "a photo is an image of its largest size, with the caption as text", file: "photo.json",
			want: with(private("48", "image"), func(m *bot.Message) {
				m.Text = "jalan berlubang depan SD"
				m.Media = &bot.Media{Ref: "AgACAgUAAxkBAAIBSmaLarge", MIME: "image/jpeg", Size: 98211}
			})},
		{name: "an image sent as a file is an image", file: "document_image.json",
			want: with(private("49", "image"), func(m *bot.Message) {
				m.Media = &bot.Media{Ref: "BQACAgUAAxkBAAIBTmaDoc", MIME: "image/png", Size: 2048311}
			})},
		{name: "a PDF is a file the flows refuse kindly", file: "document_pdf.json", want: ptr(private("54", "bad_file"))},
		{name: "a HEIC picture sent as a file is refused too", file: "document_heic.json", want: ptr(private("55", "bad_file"))},
		{name: "a GIF animation is unsupported", file: "animation.json", want: ptr(private("56", "unsupported"))},
		{name: "a sticker is a sticker", file: "sticker.json", want: ptr(private("50", "sticker"))},
		{name: "a voice note is a voice note", file: "voice.json", want: ptr(private("51", "voice"))},
		{name: "a video is unsupported, so the person hears why", file: "video.json", want: ptr(private("52", "unsupported"))},
		{name: "an edited message is ignored", file: "edited_message.json"},
		{name: "a service message (someone joined a group) is ignored", file: "new_chat_members.json"},
		{name: "a channel post is ignored", file: "channel_post.json"},
		{name: "an update type the library does not know is ignored", file: "message_reaction.json"},
		{name: "a person blocking the bot is reported", file: "my_chat_member_kicked.json", blocked: "telegram:1122334455"},
		{name: "malformed JSON is an error", file: "malformed.json", decodeErr: true},
		{name: "JSON that is no update is an error", file: "not_an_update.json", decodeErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			raw, err := os.ReadFile(filepath.Join("testdata", tc.file))
			if err != nil {
				t.Fatal(err)
			}
			u, err := decodeUpdate(raw)
			if tc.decodeErr {
				if err == nil {
					t.Fatalf("decodeUpdate(%s) = nil error, want one", tc.file)
				}
				return
			}
			if err != nil {
				t.Fatalf("decodeUpdate(%s): %v", tc.file, err)
			}
			in := parseUpdate(u, env{me: testBot, commands: testCommands(), staffChat: staffGroup, now: now})
			if in.updateID != u.UpdateID {
				t.Errorf("update id %d, want %d", in.updateID, u.UpdateID)
			}
			if tc.want == nil {
				if in.handle {
					t.Fatalf("the engine gets %+v, want nothing (ignored)", in.msg)
				}
				if in.ignored == "" && in.blocked == "" {
					t.Errorf("ignored without a reason")
				}
			} else {
				if !in.handle {
					t.Fatalf("nothing reaches the engine (%s), want %+v", in.ignored, *tc.want)
				}
				want := *tc.want
				if want.Time.IsZero() {
					want.Time = time.Unix(int64(u.Message.Date), 0)
				}
				if !reflect.DeepEqual(in.msg, want) {
					t.Errorf("message\n got %+v\nwant %+v", in.msg, want)
				}
				if !strings.HasPrefix(in.msg.Key(), "telegram:") || strings.HasPrefix(in.msg.Key(), "telegram:-") {
					t.Errorf("conversation key %q, want telegram:<user id>[@<group>]", in.msg.Key())
				}
			}
			if in.callback != tc.callback {
				t.Errorf("callback to answer %q, want %q", in.callback, tc.callback)
			}
			if in.blocked != tc.blocked {
				t.Errorf("blocked %q, want %q", in.blocked, tc.blocked)
			}
			if in.longKey != tc.longKey || in.label != tc.label {
				t.Errorf("long key %q label %q, want %q %q", in.longKey, in.label, tc.longKey, tc.label)
			}
		})
	}
}

func ptr(m bot.Message) *bot.Message { return &m }
