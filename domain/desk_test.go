package domain

import (
	"errors"
	"testing"
	"time"
)

func TestStatusNamesInAnyCase(t *testing.T) {
	for in, want := range map[string]Status{
		"Diverifikasi": StatusVerified, "SELESAI": StatusDone, " ditolak ": StatusRejected,
		"Dibuka-Kembali": StatusReopened, "dibuka kembali": StatusReopened, "In_Progress": StatusInProgress, "done": StatusDone,
	} {
		if got, ok := ParseStatus(in); !ok || got != want {
			t.Errorf("ParseStatus(%q) = %q %v, want %q", in, got, ok, want)
		}
	}
	if _, ok := ParseStatus("beres"); ok {
		t.Error("an unknown status was accepted")
	}
}

func TestOfficersSeeTheirAgencyOnly(t *testing.T) {
	c := &Complaint{Agency: "pupr"}
	for _, v := range []struct {
		acc  StaffAccount
		want bool
	}{
		{StaffAccount{Role: RoleOfficer, Agency: "pupr"}, true}, {StaffAccount{Role: RoleOfficer, Agency: "dlh"}, false},
		{StaffAccount{Role: RoleAdmin}, true}, {StaffAccount{Role: RoleViewer}, true}, {StaffAccount{Role: RoleBroadcaster}, true},
	} {
		acc, want := v.acc, v.want
		if c.VisibleTo(acc) != want {
			t.Errorf("%s of %q sees a pupr complaint: %v, want %v", acc.Role, acc.Agency, !want, want)
		}
	}
	if (&Complaint{}).VisibleTo(StaffAccount{Role: RoleOfficer, Agency: "pupr"}) {
		t.Error("an officer sees a complaint with no agency yet")
	}
	if RoleOfficer.Can(ActVerify.Permission()) || !RoleOfficer.Can(ActFinish.Permission()) || !RoleAdmin.Can(ActDuplicate.Permission()) {
		t.Error("triage is the admins', the work on a complaint also the officers'")
	}
}

func TestDispositionDuplicatesNotesAndMessages(t *testing.T) {
	now := time.Date(2026, 12, 1, 2, 0, 0, 0, time.UTC)
	fresh := func(id, who string) *Complaint {
		return &Complaint{ID: id, Schema: ComplaintSchema, Status: StatusReceived, CreatedAt: now,
			Reporter: Reporter{Key: who}, History: []Event{{At: now, Status: StatusReceived, By: "citizen"}}}
	}
	c := fresh("A", "webchat:1")
	if err := c.Dispose("dishub", []string{"pupr"}, "sari", "", now); !errors.Is(err, ErrUnknownAgency) {
		t.Errorf("unknown agency: %v", err)
	}
	if err := c.Dispose("pupr", []string{"pupr"}, "sari", "", now); err != nil || c.Agency != "pupr" {
		t.Fatalf("dispose: %v, agency %q", err, c.Agency)
	}
	if err := c.Dispose("pupr", []string{"pupr"}, "sari", "", now); !errors.Is(err, ErrIllegalTransition) {
		t.Errorf("passed twice to the same agency: %v", err)
	}
	e := c.History[len(c.History)-1]
	if e.Kind != EventDispose || e.By != "sari" || e.Status != StatusReceived {
		t.Errorf("disposition recorded as %+v", e)
	}
	if err := c.Reject("sari", " ", now); !errors.Is(err, ErrNoteRequired) {
		t.Errorf("rejection without a reason: %v", err)
	}
	if err := c.Finish("sari", "beres", now); !errors.Is(err, ErrIllegalTransition) {
		t.Errorf("finishing an unverified complaint: %v", err)
	}
	if err := c.AddNote("sari", "pelapor sudah ditelepon", now); err != nil || len(c.Notes) != 1 {
		t.Errorf("note: %v", err)
	}
	n := len(c.History)
	c.Message("sari", "Mohon kirim foto yang lebih jelas", now)
	if len(c.History) != n+1 || c.History[n].Kind != EventMessage || c.Status != StatusReceived {
		t.Errorf("a message is one history entry and changes no status: %+v", c.History[n])
	}

	orig, dup := fresh("A", "webchat:1"), fresh("B", "telegram:2")
	if err := dup.MarkDuplicate(dup, "sari", now); !errors.Is(err, ErrBadDuplicate) {
		t.Errorf("a duplicate of itself: %v", err)
	}
	if err := dup.MarkDuplicate(orig, "sari", now); err != nil {
		t.Fatal(err)
	}
	if dup.Status != StatusRejected || dup.DuplicateOf != "A" || len(orig.Followers) != 1 || orig.Followers[0].Key != "telegram:2" {
		t.Errorf("duplicate: %s of %q, original followed by %+v", dup.Status, dup.DuplicateOf, orig.Followers)
	}
	third := fresh("C", "telegram:3")
	if err := third.MarkDuplicate(dup, "sari", now); !errors.Is(err, ErrBadDuplicate) {
		t.Errorf("a duplicate of a duplicate: %v", err)
	}
}
