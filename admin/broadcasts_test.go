package admin_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/layan-id/layan/admin"
	"github.com/layan-id/layan/broadcast"
	"github.com/layan-id/layan/domain"
	"github.com/layan-id/layan/store/storetest"
)

func TestAMalformedCronIsABadRequestNotACrash(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		f := newFixture(t, b, token)
		bcs := b.Store.Broadcasts()
		f.server.EnableBroadcasts(admin.BroadcastConfig{
			Store: bcs, Scheduler: broadcast.New(broadcast.Config{Location: jakarta(t)}),
			Topics: []string{"darurat"}, Channels: []string{"webchat"},
		})
		mux := http.NewServeMux()
		f.server.Register(mux)
		for _, cron := range []string{
			"TZ=Asia/Jakarta0 6 * * *",
			"TZ=Asia/Jakarta",
			"CRON_TZ=Asia/Jakarta",
			"TZ=",
			"CRON_TZ=Nowhere/Zone 0 6 * * *",
			"0 6 * *",
		} {
			t.Run(cron, func(t *testing.T) {
				body, _ := json.Marshal(map[string]any{"topics": []string{"darurat"}, "text": map[string]string{"id": "Waspada banjir"}, "cron": cron})
				res := f.serve(t, mux, "POST", "/api/admin/broadcasts", string(body))
				if res.status != http.StatusBadRequest || !strings.Contains(res.errorText(t), `"cron"`) {
					t.Errorf("= %d %s, want a 400 naming \"cron\"", res.status, res.body)
				}
			})
		}
		if list, err := bcs.List(context.Background()); err != nil || len(list) != 0 {
			t.Errorf("broadcasts stored: %d (%v), want none", len(list), err)
		}
	})
}

// Staff following an announcement on WhatsApp (Cloud API) see, per run, how many of
// its messages Meta accepted, delivered to the phone, saw read, or could not deliver.
func TestARunShowsWhatWhatsAppReportedOfItsMessages(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		ctx := context.Background()
		f := newFixture(t, b, token)
		bcs, wac := b.Store.Broadcasts(), b.Store.WhatsAppCloud()
		f.server.EnableBroadcasts(admin.BroadcastConfig{
			Store: bcs, Scheduler: broadcast.New(broadcast.Config{Location: jakarta(t)}),
			Topics: []string{"pengumuman"}, Channels: []string{"whatsapp"}, WhatsAppStatuses: wac,
		})
		mux := http.NewServeMux()
		f.server.Register(mux)
		at := time.Now().Add(-time.Hour).Truncate(time.Second)
		bc := &domain.Broadcast{Topics: []string{"pengumuman"}, Text: map[string]string{"id": "Pelayanan KTP tutup Senin"}, CreatedAt: at}
		id, err := bcs.Create(ctx, bc)
		if err != nil {
			t.Fatal(err)
		}
		older, newer := at.Add(-24*time.Hour), at
		for _, fire := range []time.Time{older, newer} {
			if _, err := bcs.StartRun(ctx, bc, fire, domain.RunDelivering, domain.AtMostOnce, at); err != nil {
				t.Fatal(err)
			}
		}
		run := domain.RunID(id, newer)
		for _, wamid := range []string{"wamid.1", "wamid.2", "wamid.3"} {
			if err := wac.NoteSent(ctx, wamid, run); err != nil {
				t.Fatal(err)
			}
		}
		for _, s := range []struct{ wamid, status string }{
			{"wamid.1", "delivered"}, {"wamid.1", "read"}, {"wamid.1", "read"}, // a redelivered status counts once
			{"wamid.2", "delivered"}, {"wamid.3", "failed"},
		} {
			if _, err := wac.RecordStatus(ctx, s.wamid, s.status, "c1", 0, "", at); err != nil {
				t.Fatal(err)
			}
		}

		res := f.serve(t, mux, "GET", "/api/admin/broadcasts/"+id, "")
		var got struct {
			Runs []struct {
				Fire     time.Time       `json:"fire"`
				WhatsApp json.RawMessage `json:"whatsapp"`
			} `json:"runs"`
		}
		if err := json.Unmarshal(res.body, &got); err != nil || res.status != 200 || len(got.Runs) != 2 {
			t.Fatalf("= %d %s", res.status, res.body)
		}
		if !got.Runs[0].Fire.Equal(newer) || string(got.Runs[0].WhatsApp) != `{"sent":3,"delivered":2,"read":1,"failed":1}` {
			t.Errorf("the run sent on WhatsApp shows %s, want sent 3, delivered 2, read 1, failed 1", got.Runs[0].WhatsApp)
		}
		if got.Runs[1].WhatsApp != nil {
			t.Errorf("a run with no WhatsApp messages shows %s, want no whatsapp figures", got.Runs[1].WhatsApp)
		}
		list := f.serve(t, mux, "GET", "/api/admin/broadcasts", "")
		if !strings.Contains(string(list.body), `"whatsapp":{"sent":3,"delivered":2,"read":1,"failed":1}`) {
			t.Errorf("the list of broadcasts lacks the figures: %s", list.body)
		}
	})
}
