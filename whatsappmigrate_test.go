package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/layan-id/layan/bot"
	"github.com/layan-id/layan/bot/whatsapp"
	"github.com/layan-id/layan/domain"
	"github.com/layan-id/layan/store/storetest"
)

// A regency moves its number from whatsmeow to the Cloud API. Whatsmeow knew Sari by
// her LID: her conversation (in English), a complaint and two subscriptions are
// under "whatsapp:<lid>@lid". After `layan whatsapp migrate-cloud`, Sari writes from
// her number through the Cloud API and finds all of it.
func TestWhatsAppMovedToTheCloudAPIKeepsWhatWhatsmeowKnewByLID(t *testing.T) {
	const lid, number = "98765432101234", "6281377700011"
	key := "whatsapp:" + lid + "@lid"
	ctx := context.Background()
	graph := newFakeGraph(t)
	redis := storetest.Mini(t)
	dataDir := t.TempDir()

	// What whatsmeow's days left: the LID map in the device store, and Sari's data
	// under her LID in the store, as today's code writes it.
	devices, err := whatsapp.OpenDevices(ctx, dataDir, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := devices.PutLIDMapping(ctx, lid, number); err != nil {
		t.Fatal(err)
	}
	devices.Close()
	st := redis.Store
	before := time.Now().Add(-3 * 24 * time.Hour)
	conv := st.Conversations(30*time.Second, 30*24*time.Hour)
	cl, err := conv.Acquire(ctx, key, "3EB0LID1")
	if err != nil {
		t.Fatal(err)
	}
	if err := conv.Commit(ctx, cl, &bot.Session{Lang: "en", Greeted: true, LastActive: before}, nil); err != nil {
		t.Fatal(err)
	}
	jakarta, _ := time.LoadLocation("Asia/Jakarta")
	cp, _, err := st.Complaints("ADU", jakarta).Create(ctx, &domain.Complaint{
		Status: domain.StatusReceived, Category: "jalan", Description: "Lampu jalan mati di depan pasar",
		Reporter:  domain.Reporter{Channel: "whatsapp", ChatID: lid + "@lid", Key: key, Lang: "en"},
		CreatedAt: before, UpdatedAt: before, History: []domain.Event{{At: before, Status: domain.StatusReceived, By: "citizen"}},
	}, "idem-lid")
	if err != nil {
		t.Fatal(err)
	}
	for _, topic := range []string{"pengumuman", "darurat"} {
		err := st.Broadcasts().Subscribe(ctx, domain.Recipient{Key: key, Channel: "whatsapp", ChatID: lid + "@lid", Lang: "en"}, topic)
		if err != nil {
			t.Fatal(err)
		}
	}

	vars := graph.env(t, map[string]string{
		"DATA_DIR": dataDir, "REDIS_URL": "redis://" + redis.Mini.Addr(),
	})
	t.Run("the command says how many it moved, and never a number", func(t *testing.T) {
		var out, logs bytes.Buffer
		if err := run(ctx, []string{"whatsapp", "migrate-cloud", "--dry-run"}, env(vars), strings.NewReader(""), &out, &logs); err != nil {
			t.Fatalf("%v\n%s", err, logs.String())
		}
		if !strings.Contains(out.String(), "would move to their number: 1") {
			t.Errorf("dry run said:\n%s", out.String())
		}
		out.Reset()
		if err := run(ctx, []string{"whatsapp", "migrate-cloud"}, env(vars), strings.NewReader(""), &out, &logs); err != nil {
			t.Fatalf("%v\n%s", err, logs.String())
		}
		for _, want := range []string{"people known by LID: 1", "moved to their number: 1", "complaints: 1, subscribers: 1"} {
			if !strings.Contains(out.String(), want) {
				t.Errorf("the command said:\n%s\nwant %q", out.String(), want)
			}
		}
		if all := out.String() + logs.String(); strings.Contains(all, number) || strings.Contains(all, lid) {
			t.Errorf("a number or LID is in the output:\n%s", all)
		}
	})

	stop := startServe(t, vars)
	defer stop()
	queue := func() int64 {
		n, err := st.WhatsAppCloud().Queued(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	sari := &cloudPerson{t: t, addr: vars["HTTP_ADDR"], number: number, graph: graph, queue: queue}

	t.Run("writing from her number, she sees her complaint, in her language", func(t *testing.T) {
		got, _ := sari.send("text", map[string]any{"body": "status"})
		mustContain(t, got, cp.ID)
		mustContain(t, got, "Received")
	})
	t.Run("her subscriptions are hers on the new number", func(t *testing.T) {
		got, _ := sari.send("text", map[string]any{"body": "subscribe"})
		mustContain(t, got, "✅ Announcements")
		mustContain(t, got, "✅ Emergency")
		mustContain(t, got, "⬜ Tourism")
	})
}
