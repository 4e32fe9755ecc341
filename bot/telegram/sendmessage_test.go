package telegram

import (
	"context"
	stdjson "encoding/json"
	"math/rand/v2"
	"net/url"
	"strings"
	"testing"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/layan-id/layan/bot"
)

// oddTexts are labels and texts that need escaping, in JSON or in a form.
var oddTexts = []string{
	"", "Menu utama", `Kata "kutip" dan \\ garis`, "<b>tebal</b> & lainnya", "baris\nbaru\r\ttab",
	"\x00\x01\x1f\x7f", "Sigandu 🏖️ pantai", "éàü ĳ ß", "\u2028\u2029", "bukan utf-8: \xff\xfe\xc3",
	"100% + ~_.-", "ｆｕｌｌ　ｗｉｄｔｈ", "اَلْعَرَبِيَّةُ", "a=b&c=d?e#f",
}

// randomText is a text of up to 40 random bytes or runes, often not UTF-8.
func randomText(r *rand.Rand) string {
	var b strings.Builder
	for range r.IntN(40) {
		switch r.IntN(3) {
		case 0:
			b.WriteByte(byte(r.IntN(256)))
		case 1:
			b.WriteRune(rune(r.IntN(0x30000)))
		default:
			b.WriteByte(byte(0x20 + r.IntN(0x60)))
		}
	}
	return b.String()
}

// testTexts are oddTexts and 20,000 random texts from seed.
func testTexts(seed uint64) []string {
	r := rand.New(rand.NewPCG(seed, seed+1))
	texts := append([]string{}, oddTexts...)
	for range 20000 {
		texts = append(texts, randomText(r))
	}
	return texts
}

func TestAppendJSONStringWritesWhatEncodingJSONWrites(t *testing.T) {
	for _, s := range testTexts(1) {
		want, _ := stdjson.Marshal(s)
		if got := appendJSONString(nil, s); string(got) != string(want) {
			t.Fatalf("appendJSONString(%q) = %s, want %s", s, got, want)
		}
	}
}

func TestAppendQueryEscapeWritesWhatURLQueryEscapeWrites(t *testing.T) {
	for _, s := range testTexts(3) {
		if got, want := string(appendQueryEscape(nil, s)), url.QueryEscape(s); got != want {
			t.Fatalf("appendQueryEscape(%q) = %s, want %s", s, got, want)
		}
	}
}

// The keyboard written by hand is the one the library's types give.
func TestInlineKeyboardAsTheLibraryWritesIt(t *testing.T) {
	c := benchChannel(t, &memQueue{}, nil)
	r := rand.New(rand.NewPCG(5, 6))
	for n := range 200 {
		var opts []bot.Option
		var rows [][]tgbotapi.InlineKeyboardButton
		for i := range 1 + n%9 {
			o := bot.Option{ID: "opsi:" + string(rune('a'+i)), Label: oddTexts[(n+i)%len(oddTexts)]}
			if n%3 == 0 {
				o.Label = randomText(r)
			}
			opts = append(opts, o)
			rows = append(rows, tgbotapi.NewInlineKeyboardRow(tgbotapi.NewInlineKeyboardButtonData(optionLabel(o), o.ID)))
		}
		got, err := c.keyboard(context.Background(), "id", bot.Reply{Options: opts}, true)
		if err != nil {
			t.Fatal(err)
		}
		want, _ := stdjson.Marshal(tgbotapi.InlineKeyboardMarkup{InlineKeyboard: rows})
		if string(got) != string(want) {
			t.Fatalf("keyboard:\n got %s\nwant %s", got, want)
		}
	}
}
