package store_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/layan-id/layan/domain"
	"github.com/layan-id/layan/store"
	"github.com/layan-id/layan/store/storetest"
)

func TestStaffAccountsTokensAndLinks(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		ctx := context.Background()
		st := b.Store.Staff()
		if err := st.Add(ctx, domain.StaffAccount{Name: "budi", Role: domain.RoleOfficer, Agency: "pupr"}, "rahasia-sekali"); err != nil {
			t.Fatal(err)
		}
		if err := st.Add(ctx, domain.StaffAccount{Name: "budi", Role: domain.RoleAdmin}, "rahasia-lainnya"); !errors.Is(err, store.ErrAccountExists) {
			t.Fatalf("second budi: %v", err)
		}
		if err := st.Add(ctx, domain.StaffAccount{Name: "ani", Role: domain.RoleViewer}, "pendek"); !errors.Is(err, store.ErrWeakPassword) {
			t.Fatalf("short password: %v", err)
		}
		acc, err := st.Verify(ctx, "budi", "rahasia-sekali")
		if err != nil || acc.Role != domain.RoleOfficer || acc.Agency != "pupr" {
			t.Fatalf("verify: %+v %v", acc, err)
		}
		if _, err := st.Verify(ctx, "budi", "rahasia-salah"); !errors.Is(err, store.ErrBadCredentials) {
			t.Fatalf("wrong password: %v", err)
		}
		if _, err := st.Verify(ctx, "siapa", "rahasia-sekali"); !errors.Is(err, store.ErrBadCredentials) {
			t.Fatalf("unknown name: %v", err)
		}

		token, err := st.NewToken(ctx, "budi")
		if err != nil || len(token) < 40 {
			t.Fatalf("token %q: %v", token, err)
		}
		if got, err := st.ByToken(ctx, token); err != nil || got.Name != "budi" {
			t.Fatalf("by token: %+v %v", got, err)
		}
		if _, err := st.ByToken(ctx, token+"x"); !errors.Is(err, domain.ErrNotFound) {
			t.Fatalf("wrong token: %v", err)
		}
		// Nothing in the store holds the password or the token in clear.
		keys, _ := b.Store.Client().Keys(ctx, b.Store.Prefix()+"*").Result()
		for _, k := range keys {
			dump, _ := b.Store.Client().HGetAll(ctx, k).Result()
			for f, v := range dump {
				if strings.Contains(f+v, "rahasia-sekali") || strings.Contains(f+v, token) {
					t.Fatalf("%s holds a secret in clear", k)
				}
			}
		}

		if err := st.Link(ctx, "budi", "telegram:123"); err != nil {
			t.Fatal(err)
		}
		if got, err := st.ByIdentity(ctx, "telegram:123"); err != nil || got.Name != "budi" {
			t.Fatalf("by identity: %+v %v", got, err)
		}
		if err := st.Add(ctx, domain.StaffAccount{Name: "ani", Role: domain.RoleViewer}, "rahasia-ani-123"); err != nil {
			t.Fatal(err)
		}
		if err := st.Link(ctx, "ani", "telegram:123"); !errors.Is(err, store.ErrIdentityTaken) {
			t.Fatalf("identity linked twice: %v", err)
		}
		list, err := st.List(ctx)
		if err != nil || len(list) != 2 || list[0].Name != "ani" || list[1].Links[0] != "telegram:123" {
			t.Fatalf("list: %+v %v", list, err)
		}

		if err := st.Disable(ctx, "budi"); err != nil {
			t.Fatal(err)
		}
		if _, err := st.ByToken(ctx, token); !errors.Is(err, domain.ErrNotFound) {
			t.Fatalf("token of a disabled account: %v", err)
		}
		if _, err := st.ByIdentity(ctx, "telegram:123"); !errors.Is(err, domain.ErrNotFound) {
			t.Fatalf("chat identity of a disabled account: %v", err)
		}
		if _, err := st.Verify(ctx, "budi", "rahasia-sekali"); !errors.Is(err, store.ErrBadCredentials) {
			t.Fatalf("disabled account signed in: %v", err)
		}
	})
}

func TestStaffAccountLocksAfterTenWrongPasswords(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		ctx := context.Background()
		now := time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)
		st := b.Store.Staff().WithClock(func() time.Time { return now })
		if err := st.Add(ctx, domain.StaffAccount{Name: "sari", Role: domain.RoleAdmin}, "kata-sandi-benar"); err != nil {
			t.Fatal(err)
		}
		// Nine wrong, one right: the count starts again.
		for range 9 {
			st.Verify(ctx, "sari", "salah-salah-salah")
		}
		if _, err := st.Verify(ctx, "sari", "kata-sandi-benar"); err != nil {
			t.Fatalf("right password after 9 wrong ones: %v", err)
		}
		for i := range 10 {
			_, err := st.Verify(ctx, "sari", "salah-salah-salah")
			var locked *store.LockedError
			if i < 9 && !errors.Is(err, store.ErrBadCredentials) {
				t.Fatalf("wrong password %d: %v", i+1, err)
			}
			if i == 9 && !errors.As(err, &locked) {
				t.Fatalf("10th wrong password: %v, want locked", err)
			}
		}
		now = now.Add(14 * time.Minute)
		var locked *store.LockedError
		if _, err := st.Verify(ctx, "sari", "kata-sandi-benar"); !errors.As(err, &locked) || !locked.Until.Equal(now.Add(time.Minute)) {
			t.Fatalf("right password while locked: %v", err)
		}
		now = now.Add(time.Minute)
		if acc, err := st.Verify(ctx, "sari", "kata-sandi-benar"); err != nil || acc.Name != "sari" {
			t.Fatalf("after 15 minutes: %v", err)
		}
		// A new password lifts a lockout at once.
		for range 10 {
			st.Verify(ctx, "sari", "salah-salah-salah")
		}
		if err := st.SetPassword(ctx, "sari", "kata-sandi-baru"); err != nil {
			t.Fatal(err)
		}
		if _, err := st.Verify(ctx, "sari", "kata-sandi-baru"); err != nil {
			t.Fatalf("new password: %v", err)
		}
	})
}
