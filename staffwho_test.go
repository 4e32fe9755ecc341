package main

import (
	"context"
	"io"
	"log/slog"
	"testing"

	"github.com/layan-id/layan/domain"
	"github.com/layan-id/layan/store/storetest"
)

// In chat, a STAFF_IDS identity is an admin and a linked identity acts as its
// account, with its role and agency, until the account is disabled; anyone else is
// not staff.
func TestALinkedChatIdentityActsAsItsAccount(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		ctx := context.Background()
		accounts := b.Store.Staff()
		if err := accounts.Add(ctx, domain.StaffAccount{Name: "budi", Role: domain.RoleOfficer, Agency: "pupr"}, "kata-sandi-panjang"); err != nil {
			t.Fatal(err)
		}
		if err := accounts.Link(ctx, "budi", "telegram:555"); err != nil {
			t.Fatal(err)
		}
		who := staffWho{ids: staffKeys([]string{"telegram:111"}), accounts: accounts, log: slog.New(slog.NewTextHandler(io.Discard, nil)),
			aliases: func(key string) []string {
				if key == "whatsapp:lid-9" {
					return []string{"telegram:111"} // stands for a LID whose number is in STAFF_IDS
				}
				return nil
			}}
		if acc, ok := who.Account(ctx, "telegram:111"); !ok || acc.Role != domain.RoleAdmin {
			t.Errorf("STAFF_IDS entry: %+v %v, want an admin", acc, ok)
		}
		if acc, ok := who.Account(ctx, "whatsapp:lid-9"); !ok || acc.Role != domain.RoleAdmin {
			t.Errorf("by its alias: %+v %v, want an admin", acc, ok)
		}
		acc, ok := who.Account(ctx, "telegram:555")
		if !ok || acc.Name != "budi" || acc.Role != domain.RoleOfficer || acc.Agency != "pupr" {
			t.Errorf("linked identity: %+v %v, want budi, officer of pupr", acc, ok)
		}
		if !who.May(domain.PermComplaints)("telegram:555") || who.May(domain.PermBroadcasts)("telegram:555") {
			t.Error("an officer may work on complaints and may not broadcast")
		}
		if _, ok := who.Account(ctx, "telegram:999"); ok {
			t.Error("a stranger is staff")
		}
		accounts.Disable(ctx, "budi")
		if _, ok := who.Account(ctx, "telegram:555"); ok {
			t.Error("a disabled account's chat still acts as staff")
		}
	})
}
