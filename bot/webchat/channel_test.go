package webchat_test

import (
	"context"
	"testing"

	"github.com/layan-id/layan/bot"
	"github.com/layan-id/layan/bot/webchat"
	"github.com/layan-id/layan/store"
	"github.com/layan-id/layan/store/storetest"
)

// TestABroadcastSentTwiceReachesTheInboxOnce: a run at least once sends again what a
// dying replica may already have sent; the person's web inbox shows it once, while
// another run's message, and replies outside broadcasts, still arrive every time.
func TestABroadcastSentTwiceReachesTheInboxOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		ctx := context.Background()
		w := b.Store.WebChats()
		ch := webchat.NewChannel(w)
		id := webchat.ChatID("token-broadcast")
		run := func(r string) *bot.Template { return &bot.Template{Run: r} }
		for _, s := range []struct {
			tm   *bot.Template
			text string
		}{
			{run("S7:1764000000"), "Peringatan banjir"},
			{run("S7:1764000000"), "Peringatan banjir"}, // resent after a lapsed lease
			{run("S8:1764000000"), "Jalan ditutup"},
			{nil, "Halo"},
			{nil, "Halo"},
		} {
			if err := ch.Send(ctx, bot.Recipient{Channel: webchat.ChannelName, ChatID: id, Template: s.tm}, bot.Reply{Text: s.text}); err != nil {
				t.Fatal(err)
			}
		}
		rs, _, err := w.Pending(ctx, id, store.FromDelivered, 50)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, r := range rs {
			got = append(got, r.Text)
		}
		want := []string{"Peringatan banjir", "Jalan ditutup", "Halo", "Halo"}
		if len(got) != len(want) {
			t.Fatalf("the inbox holds %q, want %q", got, want)
		}
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("the inbox holds %q, want %q", got, want)
			}
		}
	})
}
