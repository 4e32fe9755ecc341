package admin_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/layan-id/layan/bot/admin"
	"github.com/layan-id/layan/bot/broadcast"
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
