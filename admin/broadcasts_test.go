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
	"github.com/layan-id/layan/store"
	"github.com/layan-id/layan/store/storetest"
)

func TestAMalformedCronIsABadRequestNotACrash(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		f, mux, bcs := broadcastAPI(t, b, []string{"darurat"}, []string{"webchat"})
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

// A broadcast that cannot be scheduled as written is a 400 whose message names the
// field at fault, and nothing is stored; a good one is a 201.
func TestABroadcastThatCannotBeScheduledIsABadRequestNamingTheField(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		f, mux, bcs := broadcastAPI(t, b, []string{"darurat", "wisata"}, []string{"webchat", "telegram"})
		for _, tc := range []struct{ name, body, names string }{
			{"no topic", `{"topics":[],"text":{"id":"Waspada banjir"},"cron":"0 6 * * 0"}`, `"topics"`},
			{"an unknown topic", `{"topics":["olahraga"],"text":{"id":"Waspada banjir"},"cron":"0 6 * * 0"}`, `"olahraga"`},
			{"an unknown channel", `{"topics":["darurat"],"channels":["sms"],"text":{"id":"Waspada banjir"},"cron":"0 6 * * 0"}`, `"channels"`},
			{"no Indonesian text", `{"topics":["darurat"],"text":{"en":"Flood warning"},"cron":"0 6 * * 0"}`, `"text"`},
			{"a text in Javanese", `{"topics":["darurat"],"text":{"id":"Waspada banjir","jv":"Ati-ati"},"cron":"0 6 * * 0"}`, `"jv"`},
			{"a time and a schedule", `{"topics":["darurat"],"text":{"id":"Waspada banjir"},"at":"2026-11-29T06:00:00+07:00","cron":"0 6 * * 0"}`, `not both`},
			{"a time that is no time", `{"topics":["darurat"],"text":{"id":"Waspada banjir"},"at":"besok pagi"}`, `"at"`},
			{"a time past", `{"topics":["darurat"],"text":{"id":"Waspada banjir"},"at":"2026-11-20T06:00:00+07:00"}`, `"at"`},
			{"an end past", `{"topics":["darurat"],"text":{"id":"Waspada banjir"},"cron":"0 6 * * 0","end":"2026-11-20T06:00:00+07:00"}`, `"end"`},
			{"neither time nor schedule", `{"topics":["darurat"],"text":{"id":"Waspada banjir"}}`, `"at"`},
		} {
			t.Run(tc.name, func(t *testing.T) {
				res := f.serve(t, mux, "POST", "/api/admin/broadcasts", tc.body)
				if res.status != http.StatusBadRequest || !strings.Contains(res.errorText(t), tc.names) {
					t.Errorf("= %d %s, want a 400 naming %s", res.status, res.body, tc.names)
				}
			})
		}
		if list, err := bcs.List(context.Background()); err != nil || len(list) != 0 {
			t.Fatalf("broadcasts stored: %d (%v), want none", len(list), err)
		}
		res := f.serve(t, mux, "POST", "/api/admin/broadcasts", `{"topics":["darurat"],"channels":["telegram"],"text":{"id":"Waspada banjir","en":"Flood warning"},"cron":"0 6 * * 0","end":"2026-12-31T00:00:00+07:00"}`)
		if res.status != http.StatusCreated {
			t.Fatalf("a good broadcast: %d %s", res.status, res.body)
		}
	})
}

// Pause, resume and cancel follow the broadcast's state; what its state does not
// allow is a 409 that says so, and an unknown action a 404.
func TestPauseResumeAndCancelFollowTheState(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		f, mux, bcs := broadcastAPI(t, b, []string{"darurat"}, []string{"webchat"})
		id, err := bcs.Create(context.Background(), &domain.Broadcast{Topics: []string{"darurat"}, Text: map[string]string{"id": "Waspada banjir"},
			Cron: "0 6 * * 0", State: domain.BroadcastActive, CreatedAt: now})
		if err != nil {
			t.Fatal(err)
		}
		for _, step := range []struct {
			action string
			status int
			state  string // the state after, or what the refusal says
		}{
			{"resume", 409, "cannot resume a broadcast that is active"},
			{"pause", 200, "paused"},
			{"pause", 409, "cannot pause a broadcast that is paused"},
			{"resume", 200, "active"},
			{"stop", 404, "unknown action"},
			{"cancel", 200, "cancelled"},
			{"resume", 409, "cannot resume a broadcast that is cancelled"},
		} {
			res := f.serve(t, mux, "POST", "/api/admin/broadcasts/"+id+"/"+step.action, "")
			if res.status != step.status || !strings.Contains(string(res.body), step.state) {
				t.Errorf("%s: %d %s, want %d with %q", step.action, res.status, res.body, step.status, step.state)
			}
		}
	})
}

// broadcastAPI is the staff API with the broadcast routes for topics and channels.
func broadcastAPI(t *testing.T, b storetest.Backend, topics, channels []string) (*fixture, *http.ServeMux, *store.Broadcasts) {
	t.Helper()
	f := newFixture(t, b, token)
	bcs := b.Store.Broadcasts()
	f.server.EnableBroadcasts(admin.BroadcastConfig{
		Store: bcs, Scheduler: broadcast.New(broadcast.Config{Location: jakarta(t)}), Topics: topics, Channels: channels,
	})
	mux := http.NewServeMux()
	f.server.Register(mux)
	return f, mux, bcs
}
