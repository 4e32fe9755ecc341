package broadcast_test

import (
	"context"
	"testing"
	"time"

	"github.com/layan-id/layan/broadcast"
	"github.com/layan-id/layan/domain"
	"github.com/layan-id/layan/flows"
	"github.com/layan-id/layan/locales"
	"github.com/layan-id/layan/store/storetest"
)

func TestTheTipOfTheDayNeverRepeatsUntilAllWereSent(t *testing.T) {
	tourism, err := flows.LoadTourism(locales.Content(""))
	if err != nil {
		t.Fatal(err)
	}
	b := storetest.Mini(t)
	tp := broadcast.Rotation{Pool: tourism, Log: b.Store.Broadcasts()}
	r := domain.Recipient{Key: "telegram:7", Channel: "telegram", ChatID: "7", Lang: "en"}
	n := len(tourism.Tips)
	seen := map[string]int{}
	for range 2 * n {
		text, err := tp.Next(context.Background(), r)
		if err != nil {
			t.Fatal(err)
		}
		seen[text]++
		if len(seen) < n && seen[text] > 1 {
			t.Fatalf("tip %q repeated before all %d were sent (%d seen)", text, n, len(seen))
		}
	}
	for text, times := range seen {
		if times != 2 {
			t.Errorf("after two rounds tip %q was sent %d times", text, times)
		}
	}
	if bc := broadcast.TipOfTheDay("0 7 * * *", time.Now()); bc.State != domain.BroadcastActive || bc.Kind != domain.TipOfTheDay || bc.Topics[0] != "wisata" {
		t.Errorf("the tip of the day broadcast is %+v", bc)
	}
}

