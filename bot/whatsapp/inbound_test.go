package whatsapp

import (
	"context"
	"reflect"
	"testing"

	"go.mau.fi/whatsmeow/proto/waCommon"
	"go.mau.fi/whatsmeow/proto/waE2E"
	"go.mau.fi/whatsmeow/types"
	"go.mau.fi/whatsmeow/types/events"

	"github.com/layan-id/layan/bot"
	"github.com/layan-id/layan/domain"
)

func TestParseMessage(t *testing.T) {
	fromPhone := func(k bot.Kind) bot.Message {
		return bot.Message{Channel: "whatsapp", ChatID: phone + "@s.whatsapp.net", UserID: phone, ID: msgID, Kind: k, Time: when}
	}
	tests := []struct {
		name    string
		event   *events.Message
		lids    LIDMap
		want    bot.Message // when not ignored
		photo   bool        // a photo to download
		ignored bool
	}{
		{
			name:  "a plain text is a text message keyed by the sender's phone number",
			event: direct(text("jam buka MPP?")),
			want:  withText(fromPhone(bot.KindText), "jam buka MPP?"),
		},
		{
			name: "an extended text (with a link preview or a quote) is a text message",
			event: direct(&waE2E.Message{ExtendedTextMessage: &waE2E.ExtendedTextMessage{
				Text: str("lihat https://batangkab.go.id"), MatchedText: str("https://batangkab.go.id"),
			}}),
			want: withText(fromPhone(bot.KindText), "lihat https://batangkab.go.id"),
		},
		{
			name:  "a number typed to answer a numbered menu arrives as text for the router",
			event: direct(text("2")),
			want:  withText(fromPhone(bot.KindText), "2"),
		},
		{
			name: "a list reply is the picked option's id with its title as text",
			event: direct(&waE2E.Message{ListResponseMessage: &waE2E.ListResponseMessage{
				Title:             str("Buat pengaduan"),
				SingleSelectReply: &waE2E.ListResponseMessage_SingleSelectReply{SelectedRowID: str("complaint")},
			}}),
			want: withOption(fromPhone(bot.KindOption), "complaint", "Buat pengaduan"),
		},
		{
			name: "a button reply is the pressed button's id with its label as text",
			event: direct(&waE2E.Message{ButtonsResponseMessage: &waE2E.ButtonsResponseMessage{
				SelectedButtonID: str("faq"),
				Response:         &waE2E.ButtonsResponseMessage_SelectedDisplayText{SelectedDisplayText: "Tanya layanan"},
			}}),
			want: withOption(fromPhone(bot.KindOption), "faq", "Tanya layanan"),
		},
		{
			name: "a template button reply is the button's id",
			event: direct(&waE2E.Message{TemplateButtonReplyMessage: &waE2E.TemplateButtonReplyMessage{
				SelectedID: str("status"), SelectedDisplayText: str("Cek status"),
			}}),
			want: withOption(fromPhone(bot.KindOption), "status", "Cek status"),
		},
		{
			name: "an interactive reply's id is read from its JSON parameters",
			event: direct(&waE2E.Message{InteractiveResponseMessage: &waE2E.InteractiveResponseMessage{
				Body: &waE2E.InteractiveResponseMessage_Body{Text: str("Info wisata")},
				InteractiveResponseMessage: &waE2E.InteractiveResponseMessage_NativeFlowResponseMessage_{
					NativeFlowResponseMessage: &waE2E.InteractiveResponseMessage_NativeFlowResponseMessage{
						Name: str("single_select"), ParamsJSON: str(`{"id":"tourism","description":""}`),
					},
				},
			}}),
			want: withOption(fromPhone(bot.KindOption), "tourism", "Info wisata"),
		},
		{
			name: "an interactive reply with broken parameters falls back to its words",
			event: direct(&waE2E.Message{InteractiveResponseMessage: &waE2E.InteractiveResponseMessage{
				Body: &waE2E.InteractiveResponseMessage_Body{Text: str("Info wisata")},
				InteractiveResponseMessage: &waE2E.InteractiveResponseMessage_NativeFlowResponseMessage_{
					NativeFlowResponseMessage: &waE2E.InteractiveResponseMessage_NativeFlowResponseMessage{ParamsJSON: str(`{not json`)},
				},
			}}),
			want: withText(fromPhone(bot.KindText), "Info wisata"),
		},
		{
			name: "a list reply without an id or a title is ignored",
			event: direct(&waE2E.Message{ListResponseMessage: &waE2E.ListResponseMessage{
				SingleSelectReply: &waE2E.ListResponseMessage_SingleSelectReply{},
			}}),
			ignored: true,
		},
		{
			name: "a location pin is a location",
			event: direct(&waE2E.Message{LocationMessage: &waE2E.LocationMessage{
				DegreesLatitude: f64(-6.9075), DegreesLongitude: f64(109.7298), Name: str("Alun-alun Batang"),
			}}),
			want: withLocation(fromPhone(bot.KindLocation), -6.9075, 109.7298),
		},
		{
			name: "a live location is a location",
			event: direct(&waE2E.Message{LiveLocationMessage: &waE2E.LiveLocationMessage{
				DegreesLatitude: f64(-6.91), DegreesLongitude: f64(109.73),
			}}),
			want: withLocation(fromPhone(bot.KindLocation), -6.91, 109.73),
		},
		{
			name: "a photo with a caption is an image to download, the caption its text",
			event: direct(&waE2E.Message{ImageMessage: &waE2E.ImageMessage{
				Caption: str("jalan berlubang"), Mimetype: str("image/jpeg"), FileLength: u64(200_000),
				DirectPath: str("/v/t62.7118-24/1.enc"), MediaKey: []byte("k"),
			}}),
			want:  withMedia(withText(fromPhone(bot.KindImage), "jalan berlubang"), &bot.Media{MIME: "image/jpeg", Size: 200_000}),
			photo: true,
		},
		{
			name: "a photo larger than a photo may be is refused without downloading it",
			event: direct(&waE2E.Message{ImageMessage: &waE2E.ImageMessage{
				Caption: str("foto besar"), Mimetype: str("image/jpeg"), FileLength: u64(bot.MaxPhotoSize + 1),
			}}),
			want: withText(fromPhone(bot.KindBadFile), "foto besar"),
		},
		{
			name: "a photo sent as a document is taken like a photo",
			event: direct(&waE2E.Message{DocumentMessage: &waE2E.DocumentMessage{
				Mimetype: str("image/png"), FileLength: u64(5000), FileName: str("IMG_0001.png"),
			}}),
			want:  withMedia(fromPhone(bot.KindImage), &bot.Media{MIME: "image/png", Size: 5000}),
			photo: true,
		},
		{
			name:  "a sticker is a sticker",
			event: direct(&waE2E.Message{StickerMessage: &waE2E.StickerMessage{Mimetype: str("image/webp")}}),
			want:  fromPhone(bot.KindSticker),
		},
		{
			name:  "a voice note is a voice message",
			event: direct(&waE2E.Message{AudioMessage: &waE2E.AudioMessage{PTT: boolp(true), Seconds: new(uint32)}}),
			want:  fromPhone(bot.KindVoice),
		},
		{
			name:  "an audio file is a voice message too",
			event: direct(&waE2E.Message{AudioMessage: &waE2E.AudioMessage{Mimetype: str("audio/mpeg")}}),
			want:  fromPhone(bot.KindVoice),
		},
		{
			name:  "a video is unsupported",
			event: direct(&waE2E.Message{VideoMessage: &waE2E.VideoMessage{Caption: str("lihat ini")}}),
			want:  fromPhone(bot.KindUnsupported),
		},
		{
			name:  "a PDF document is unsupported",
			event: direct(&waE2E.Message{DocumentMessage: &waE2E.DocumentMessage{Mimetype: str("application/pdf")}}),
			want:  fromPhone(bot.KindUnsupported),
		},
		{
			name:  "a contact card is unsupported",
			event: direct(&waE2E.Message{ContactMessage: &waE2E.ContactMessage{DisplayName: str("Pak RT")}}),
			want:  fromPhone(bot.KindUnsupported),
		},
		{
			name:  "a poll is unsupported",
			event: direct(&waE2E.Message{PollCreationMessageV3: &waE2E.PollCreationMessage{Name: str("?")}}),
			want:  fromPhone(bot.KindUnsupported),
		},
		{
			name: "a group message is ignored",
			event: with(direct(text("halo semua")), func(e *events.Message) {
				e.Info.Chat = types.NewJID("120363012345678901", types.GroupServer)
				e.Info.IsGroup = true
			}),
			ignored: true,
		},
		{
			name: "a status update is ignored",
			event: with(direct(text("status baru")), func(e *events.Message) {
				e.Info.Chat = types.StatusBroadcastJID
				e.Info.IsGroup = true
			}),
			ignored: true,
		},
		{
			name: "a broadcast list message is ignored",
			event: with(direct(text("promo")), func(e *events.Message) {
				e.Info.Chat = types.NewJID("1700000000", types.BroadcastServer)
			}),
			ignored: true,
		},
		{
			name: "a newsletter post is ignored",
			event: with(direct(text("berita")), func(e *events.Message) {
				e.Info.Chat = types.NewJID("120363000000000000", types.NewsletterServer)
			}),
			ignored: true,
		},
		{
			name:    "the linked number's own message is ignored",
			event:   with(direct(text("tes")), func(e *events.Message) { e.Info.IsFromMe = true }),
			ignored: true,
		},
		{
			name:    "an edited message is ignored (the original was answered)",
			event:   with(direct(text("jam buka MPP??")), func(e *events.Message) { e.IsEdit = true }),
			ignored: true,
		},
		{
			name: "a reaction is ignored",
			event: direct(&waE2E.Message{ReactionMessage: &waE2E.ReactionMessage{
				Text: str("👍"), Key: &waCommon.MessageKey{ID: str("OUT1")},
			}}),
			ignored: true,
		},
		{
			name: "a protocol message (a deletion) is ignored",
			event: direct(&waE2E.Message{ProtocolMessage: &waE2E.ProtocolMessage{
				Type: waE2E.ProtocolMessage_REVOKE.Enum(),
			}}),
			ignored: true,
		},
		{
			name:    "a call log is ignored",
			event:   direct(&waE2E.Message{Call: &waE2E.Call{CallKey: []byte("x")}}),
			ignored: true,
		},
		{
			name: "a key distribution alone is ignored",
			event: direct(&waE2E.Message{SenderKeyDistributionMessage: &waE2E.SenderKeyDistributionMessage{
				GroupID: str("x"),
			}}),
			ignored: true,
		},
		{
			name:    "a message without content is ignored",
			event:   direct(nil),
			ignored: true,
		},
		{
			name: "a message from WhatsApp's own AI bot is ignored",
			event: with(direct(text("hai")), func(e *events.Message) {
				e.Info.Chat, e.Info.Sender = types.MetaAIJID, types.MetaAIJID
			}),
			ignored: true,
		},
		{
			name: "a sender known by LID is keyed by the LID and answered in the LID chat",
			event: with(direct(text("halo")), func(e *events.Message) {
				e.Info.Chat, e.Info.Sender, e.Info.AddressingMode = lidJID(lid), lidJID(lid), types.AddressingModeLID
				e.Info.SenderAlt = pn(phone)
			}),
			want: bot.Message{Channel: "whatsapp", ChatID: lid + "@lid", UserID: lid + "@lid", ID: msgID,
				Kind: bot.KindText, Text: "halo", Time: when},
		},
		{
			name: "a sender by phone number whose LID comes along is keyed by the LID, answered by phone",
			event: with(direct(text("halo")), func(e *events.Message) {
				e.Info.SenderAlt = lidJID(lid)
			}),
			want: bot.Message{Channel: "whatsapp", ChatID: phone + "@s.whatsapp.net", UserID: lid + "@lid", ID: msgID,
				Kind: bot.KindText, Text: "halo", Time: when},
		},
		{
			name:  "a sender by phone number whose LID the LID map knows is keyed by the LID",
			event: direct(text("halo")),
			lids:  fakeLIDs{phone: lid},
			want: bot.Message{Channel: "whatsapp", ChatID: phone + "@s.whatsapp.net", UserID: lid + "@lid", ID: msgID,
				Kind: bot.KindText, Text: "halo", Time: when},
		},
		{
			name: "a sender's device number is not part of the identity",
			event: with(direct(text("halo")), func(e *events.Message) {
				e.Info.Sender = types.NewADJID(phone, 0, 3)
			}),
			want: withText(fromPhone(bot.KindText), "halo"),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := parseMessage(context.Background(), tt.event, tt.lids)
			if tt.ignored {
				if in.handle {
					t.Fatalf("handled as %+v, want ignored", in.msg)
				}
				if in.ignored == "" {
					t.Error("ignored without a reason")
				}
				return
			}
			if !in.handle {
				t.Fatalf("ignored (%s), want %+v", in.ignored, tt.want)
			}
			if !reflect.DeepEqual(in.msg, tt.want) {
				t.Errorf("message\n got %+v\nwant %+v", in.msg, tt.want)
			}
			if got := in.photo != nil; got != tt.photo {
				t.Errorf("photo to download = %v, want %v", got, tt.photo)
			}
		})
	}
}

func TestStableUserThroughLIDMigration(t *testing.T) {
	ctx := context.Background()
	before := direct(text("1"))                                    // phone number, LID unknown
	announced := with(direct(text("2")), func(e *events.Message) { // phone number, LID alongside
		e.Info.ID = "B"
		e.Info.SenderAlt = lidJID(lid)
	})
	migrated := with(direct(text("3")), func(e *events.Message) { // the chat moved to the LID
		e.Info.ID = "C"
		e.Info.Chat, e.Info.Sender, e.Info.SenderAlt = lidJID(lid), lidJID(lid), pn(phone)
	})
	mapped := with(direct(text("4")), func(e *events.Message) { e.Info.ID = "D" }) // by phone, map knows

	t.Run("before the LID is known the person is keyed by phone number", func(t *testing.T) {
		if got := parseMessage(ctx, before, fakeLIDs{}).msg.Key(); got != "whatsapp:"+phone {
			t.Errorf("key = %q", got)
		}
	})
	t.Run("once the LID is known every address of the person gives one key", func(t *testing.T) {
		want := "whatsapp:" + lid + "@lid"
		lids := fakeLIDs{phone: lid}
		for _, e := range []*events.Message{announced, migrated, mapped} {
			if got := parseMessage(ctx, e, lids).msg.Key(); got != want {
				t.Errorf("message %s: key = %q, want %q", e.Info.ID, got, want)
			}
		}
	})
	t.Run("message ids are kept as WhatsApp gives them (unique per sender)", func(t *testing.T) {
		if got := parseMessage(ctx, migrated, nil).msg.ID; got != "C" {
			t.Errorf("ID = %q", got)
		}
	})
}

func withText(m bot.Message, s string) bot.Message { m.Text = s; return m }

func withOption(m bot.Message, id, label string) bot.Message {
	m.Option, m.Text = id, label
	return m
}

func withLocation(m bot.Message, lat, lon float64) bot.Message {
	m.Location = &domain.Location{Lat: lat, Lon: lon}
	return m
}

func withMedia(m bot.Message, media *bot.Media) bot.Message { m.Media = media; return m }
