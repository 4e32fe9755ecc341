package flows_test

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/layan-id/layan/bot"
	"github.com/layan-id/layan/domain"
	"github.com/layan-id/layan/flows"
	"github.com/layan-id/layan/locales"
	"github.com/layan-id/layan/store"
	"github.com/layan-id/layan/store/storetest"
)

// TestErasingLeavesOnlyWhatThePrivacyTextSaysRemains files a complaint with a photo,
// subscribes, starts a second complaint with a photo, gets a reply pushed to the web
// inbox, then erases; afterwards the conversation's hash tag holds only the id of the
// message that asked for the erase, the web token no longer opens the conversation,
// the draft's photo is gone and the filed complaint with its photo is still there.
func TestErasingLeavesOnlyWhatThePrivacyTextSaysRemains(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		ctx := context.Background()
		texts, err := locales.Load("", map[string]any{"Region": "Kabupaten Contoh"})
		if err != nil {
			t.Fatal(err)
		}
		content := locales.Content("")
		region, err := flows.LoadRegion(content)
		if err != nil {
			t.Fatal(err)
		}
		log := slog.New(slog.DiscardHandler)
		complaints := b.Store.Complaints("TST", time.UTC)
		media := t.TempDir()
		router := flows.NewRouter(texts, log)
		router.RegisterComplaints(flows.ComplaintConfig{Store: complaints, Region: region, Alerts: noAlerts{}})
		router.RegisterSubscriptions(b.Store.Broadcasts(), region.Topics)
		router.RegisterEraser(b.Store.Privacy(media))
		router.RegisterHandoff(flows.HandoffConfig{Store: b.Store.Handoffs(), Courier: quietCourier{},
			NewID: store.NewHandoffID})
		engine := bot.NewEngine(bot.EngineConfig{ // as the service builds it: recent messages in their own list
			Store:   b.Store.Conversations(30*time.Second, time.Hour).WithHistory(30),
			History: bot.HistoryLimits{Lines: 30, Age: 30 * 24 * time.Hour},
			Handler: router, Apology: router.Apology, Logger: log,
		})

		const id = "3f9a0c1d2e"
		conv := "webchat:" + id
		if err := b.Store.WebChats().Register(ctx, id); err != nil {
			t.Fatal(err)
		}
		n := 0
		say := func(text, option, photo string) []bot.Reply {
			t.Helper()
			n++
			m := bot.Message{Channel: "webchat", ChatID: id, UserID: id, ID: "c" + strconv.Itoa(n), Kind: bot.KindText, Text: text, Time: time.Now(),
				Retryable: true}
			if option != "" {
				m.Kind, m.Option = bot.KindOption, option
			}
			if photo != "" {
				if err := os.WriteFile(filepath.Join(media, photo), []byte("\xff\xd8\xff"), 0o600); err != nil {
					t.Fatal(err)
				}
				m.Kind, m.Media = bot.KindImage, &bot.Media{Ref: photo, MIME: "image/jpeg"}
			}
			out, err := engine.Handle(ctx, m)
			if err != nil || out.Failed {
				t.Fatalf("message %d %q: %v (failed %v)", n, text+option, err, out.Failed)
			}
			return out.Replies
		}
		fileComplaint := func(photo string, confirm bool) {
			say("lapor", "", "")
			say("", "cat:jalan", "")
			say("Jalan desa berlubang besar di depan SD, motor sering jatuh", "", "")
			say("", "loc:skip", "")
			say("", "", photo)
			if !confirm {
				return
			}
			say("", "photos:done", "")
			say("", "conf:no", "")
			say("", "confirm", "")
		}
		say("halo", "", "")
		say("langganan", "", "")
		say("", "sub:wisata", "")
		say("", "sub:done", "")
		fileComplaint("filed.jpg", true)
		fileComplaint("draft.jpg", false) // a draft, not filed
		filed, err := complaints.ByReporter(ctx, conv, 10)
		if err != nil || len(filed) != 1 {
			t.Fatalf("filed complaints before the erase: %v, %v", filed, err)
		}
		say("bicara dengan petugas", "", "") // a talk with staff, its transcript kept
		say("NIK saya 3325010101010001, KTP hilang", "", "")
		say("selesai", "", "")
		say("", "handoff:end:yes", "")
		say("bicara dengan petugas", "", "") // and one still waiting
		say("", "handoff:end:no", "")
		if keys := keysWith(t, b, "{ho}"); len(keys) < 4 {
			t.Fatalf("before the erase the talks with staff have only %v", keys)
		}
		say("halo pak", "", "") // the erase below comes while staff are still awaited
		if err := b.Store.WebChats().Push(ctx, id, bot.Reply{Text: "Pengaduan Anda sedang diproses"}); err != nil {
			t.Fatal(err)
		}
		if topics, _ := b.Store.Broadcasts().Topics(ctx, conv); len(topics) == 0 {
			t.Fatal("the person was not subscribed before the erase")
		}
		tag := "{c:" + conv + "}:"
		if keys := keysWith(t, b, tag); len(keys) < 4 || !slices.Contains(keys, tag+"history") {
			t.Fatalf("before the erase the conversation has only %v (its recent messages among them)", keys)
		}

		say("hapus data saya", "", "")
		replies := say("", "erase:yes", "")
		if len(replies) == 0 || !strings.Contains(replies[0].Text, "Data Anda sudah dihapus") {
			t.Fatalf("erase answered %v", replies)
		}
		eraseID := "c" + strconv.Itoa(n)

		// Under the conversation's tag: only the id of the erasing message (48 h).
		if got, want := keysWith(t, b, tag), []string{tag + "seen"}; !slices.Equal(got, want) {
			t.Errorf("keys of the conversation after the erase = %v, want %v", got, want)
		}
		ids, err := b.Store.Client().ZRange(ctx, b.Store.Prefix()+tag+"seen", 0, -1).Result()
		if err != nil || !slices.Equal(ids, []string{eraseID}) {
			t.Errorf("message ids kept after the erase = %v (%v), want only %s", ids, err, eraseID)
		}
		// Anywhere else: only the filed complaint's index by reporter, and the record
		// that its confirmation filed it (48 h, so a redelivery files nothing).
		for _, k := range keysWith(t, b, id) {
			_, rest, _ := strings.Cut(k, "}:") // complaints live in shards {cmp:N}
			if k != tag+"seen" && !(strings.HasPrefix(k, "{cmp:") && (rest == "by:"+conv || strings.HasPrefix(rest, "idem:"+conv+":"))) {
				t.Errorf("after the erase %s still names the person", k)
			}
		}
		for _, k := range keysWith(t, b, "{ho}") {
			if !strings.HasPrefix(k, "{ho}:q:") {
				t.Errorf("after the erase the talk with staff %s remains", k)
			}
		}
		if ok, _ := b.Store.WebChats().Known(ctx, id); ok {
			t.Error("the web chat token still opens the conversation")
		}
		if topics, _ := b.Store.Broadcasts().Topics(ctx, conv); len(topics) != 0 {
			t.Errorf("still subscribed to %v", topics)
		}
		if _, err := os.Stat(filepath.Join(media, "draft.jpg")); !os.IsNotExist(err) {
			t.Errorf("the photo of the draft is still there (%v)", err)
		}
		if _, err := os.Stat(filepath.Join(media, "filed.jpg")); err != nil {
			t.Errorf("the photo of the filed complaint is gone: %v", err)
		}
		if kept, err := complaints.Get(ctx, filed[0].ID); err != nil || kept.Description == "" {
			t.Errorf("the filed complaint after the erase: %v, %v", kept, err)
		}
		// The next message starts afresh.
		if replies := say("halo", "", ""); len(replies) == 0 || !strings.Contains(replies[0].Text, "selamat datang") {
			t.Errorf("after the erase the person is not greeted as new: %v", replies)
		}
	})
}

// keysWith lists the keys of the store's prefix that contain s, without the prefix.
func keysWith(t *testing.T, b storetest.Backend, s string) []string {
	t.Helper()
	ctx := context.Background()
	var out []string
	iter := b.Store.Client().Scan(ctx, 0, b.Store.Prefix()+"*", 1000).Iterator()
	for iter.Next(ctx) {
		k := strings.TrimPrefix(iter.Val(), b.Store.Prefix())
		if strings.Contains(k, s) {
			out = append(out, k)
		}
	}
	if err := iter.Err(); err != nil {
		t.Fatal(err)
	}
	slices.Sort(out)
	return out
}

type quietCourier struct{}

func (quietCourier) Tell(context.Context, *domain.Handoff, string) {}
func (quietCourier) Staff(context.Context, string, string)         {}

type noAlerts struct{}

func (noAlerts) NewComplaint(context.Context, *domain.Complaint)  {}
func (noAlerts) Reopened(context.Context, *domain.Complaint)      {}
func (noAlerts) StatusChanged(context.Context, *domain.Complaint) {}
