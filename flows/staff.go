package flows

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/layan-id/layan/bot"
	"github.com/layan-id/layan/domain"
)

// staffCmd is what a staff command does: list, show, help, or an action.
type staffCmd struct {
	kind   string // "list", "show", "help", "usage" or "act"
	action domain.Action
}

// staffCommands maps the commands staff type (Indonesian and English) to what they do.
func staffCommands() map[string]staffCmd {
	act := func(a domain.Action) staffCmd { return staffCmd{kind: "act", action: a} }
	return map[string]staffCmd{
		"daftar": {kind: "list"}, "list": {kind: "list"}, "lihat": {kind: "show"}, "show": {kind: "show"},
		"bantuan": {kind: "help"}, "help": {kind: "help"}, "staf": {kind: "usage"}, "staff": {kind: "usage"},
		"verifikasi": act(domain.ActVerify), "verify": act(domain.ActVerify),
		"disposisi": act(domain.ActDispose), "dispose": act(domain.ActDispose),
		"proses": act(domain.ActProcess), "process": act(domain.ActProcess),
		"selesai": act(domain.ActFinish), "finish": act(domain.ActFinish),
		"tolak": act(domain.ActReject), "reject": act(domain.ActReject),
		"duplikat": act(domain.ActDuplicate), "duplicate": act(domain.ActDuplicate),
		"catatan": act(domain.ActNote), "note": act(domain.ActNote),
		"pesan": act(domain.ActMessage), "message": act(domain.ActMessage),
	}
}

// Auditor records staff actions in the audit log (*store.Audit).
type Auditor interface {
	Record(ctx context.Context, e domain.AuditEntry) error
}

// errAlreadyDone marks a staff command that repeats the change it made last.
var errAlreadyDone = errors.New("already done")

// StaffAccount returns the staff account a chat identity (Message.Key) acts as, or
// false for a person who is not staff. A STAFF_IDS entry is an admin named by the
// identity itself; a linked identity (layan staff link) acts as its account, with
// its role and agency.
type StaffAccount func(ctx context.Context, key string) (domain.StaffAccount, bool)

// account is who the conversation's person is on the staff side.
func (f *complaintFlow) account(ctx context.Context, c *Conv) (domain.StaffAccount, bool) {
	if f.accounts != nil {
		return f.accounts(ctx, c.Msg.Key())
	}
	if f.staff(c.Msg.Key()) {
		return domain.StaffAccount{Name: c.Msg.Key(), Role: domain.RoleAdmin}, true
	}
	return domain.StaffAccount{}, false
}

// staffCommand handles a staff member's "/command ticket ...". It reports false for
// anything else, and for everyone who is not staff: to them the commands do not
// exist. A command the account's role may not use is refused; a ticket outside an
// officer's agency is, to them, not found.
func (f *complaintFlow) staffCommand(ctx context.Context, c *Conv, text string) (bool, error) {
	if !strings.HasPrefix(text, "/") {
		return false, nil
	}
	fields := strings.Fields(strings.TrimPrefix(text, "/"))
	if len(fields) == 0 {
		return false, nil
	}
	name, _, _ := strings.Cut(strings.ToLower(fields[0]), "@") // "/daftar@layan_bot" in a Telegram group
	cmd, ok := staffCommands()[name]
	if !ok {
		return false, nil
	}
	acc, ok := f.account(ctx, c)
	if !ok {
		return false, nil
	}
	args := fields[1:]
	switch {
	case cmd.kind == "help" || cmd.kind == "usage":
		f.staffHelp(c, acc)
		return true, nil
	case cmd.kind == "list":
		return true, f.staffList(ctx, c, acc, args)
	case len(args) == 0:
		f.staffHelp(c, acc)
		return true, nil
	case cmd.kind == "show":
		return true, f.staffShow(ctx, c, acc, strings.ToUpper(args[0]))
	}
	if !acc.Role.Can(cmd.action.Permission()) {
		c.Say("staff.forbidden", "Role", acc.Role)
		return true, nil
	}
	return true, f.staffAct(ctx, c, acc, name, cmd.action, strings.ToUpper(args[0]), args[1:])
}

// staffAct takes an action on a complaint from chat.
func (f *complaintFlow) staffAct(ctx context.Context, c *Conv, acc domain.StaffAccount, name string, action domain.Action, id string, args []string) error {
	in := domain.ActionInput{Note: strings.Join(args, " ")}
	var of string
	switch action {
	case domain.ActDispose:
		for _, a := range f.region.Agencies {
			in.Agencies = append(in.Agencies, a.Code)
		}
		if len(args) == 0 {
			c.Say("staff.dispose_usage", "ID", id, "Codes", strings.Join(in.Agencies, ", "))
			return nil
		}
		in.Agency, in.Note = strings.ToLower(args[0]), strings.Join(args[1:], " ")
	case domain.ActDuplicate:
		if len(args) == 0 {
			c.Say("staff.duplicate_usage", "ID", id)
			return nil
		}
		of = strings.ToUpper(args[0])
	case domain.ActReject:
		if in.Note == "" {
			c.Say("staff.reason_example", "ID", id)
			return nil
		}
	case domain.ActFinish:
		if in.Note == "" {
			c.Say("staff.note_required", "Command", name, "ID", id)
			return nil
		}
	case domain.ActNote, domain.ActMessage:
		if in.Note == "" {
			c.Say("staff.text_required", "Command", name, "ID", id)
			return nil
		}
	}
	by, now := acc.Name, f.now()
	hidden := fmt.Errorf("complaint %s: %w", id, domain.ErrNotFound)
	var from domain.Status
	var cp *domain.Complaint
	var err error
	if action == domain.ActDuplicate {
		cp, _, err = f.store.MarkDuplicate(ctx, id, of, by, now, func(dup, orig *domain.Complaint) error {
			if !dup.VisibleTo(acc) || !orig.VisibleTo(acc) {
				return hidden
			}
			if dup.DuplicateOf == orig.ID {
				return errAlreadyDone
			}
			from = dup.Status
			return nil
		})
	} else {
		cp, err = f.store.Update(ctx, id, func(cp *domain.Complaint) error {
			if !cp.VisibleTo(acc) {
				return hidden
			}
			from = cp.Status
			if repeats(cp, action, by, in) {
				return errAlreadyDone // the same command again, e.g. after a crash cut off its answer
			}
			return cp.Do(action, by, in, now)
		})
	}
	switch {
	case errors.Is(err, errAlreadyDone):
		// The first attempt's news may have been lost with its answer: the event id
		// names the change, so the citizen hears it once either way.
		if cp, err = f.store.Get(ctx, id); err != nil {
			return fmt.Errorf("staff command: %w", err)
		}
		if action != domain.ActNote {
			f.alerts.StatusChanged(ctx, cp)
		}
	case errors.Is(err, domain.ErrNotFound):
		c.Say("complaint.not_found", "ID", id)
		return nil
	case errors.Is(err, domain.ErrUnknownAgency):
		c.Say("staff.unknown_agency", "Agency", in.Agency, "Codes", strings.Join(in.Agencies, ", "))
		return nil
	case errors.Is(err, domain.ErrBadDuplicate):
		c.Say("staff.bad_duplicate", "ID", id, "Of", of)
		return nil
	case errors.Is(err, domain.ErrIllegalTransition), errors.Is(err, domain.ErrNoteRequired):
		if action == domain.ActDispose {
			c.Say("staff.cannot_dispose", "ID", id, "Status", statusLabel(c, from))
			return nil
		}
		to, _ := targetStatus(action)
		c.Say("staff.illegal", "ID", id, "From", statusLabel(c, from), "To", statusLabel(c, to))
		return nil
	case err != nil:
		return fmt.Errorf("staff command: %w", err)
	default:
		if action != domain.ActNote {
			f.alerts.StatusChanged(ctx, cp)
		}
	}
	if !errors.Is(err, errAlreadyDone) {
		f.record(ctx, c, acc, action, id, in, of)
	}
	switch action {
	case domain.ActDispose:
		c.Say("staff.disposed", "ID", id, "Agency", f.agencyName(cp.Agency))
	case domain.ActDuplicate:
		c.Say("staff.duplicated", "ID", id, "Of", of)
	case domain.ActNote:
		c.Say("staff.noted", "ID", id)
	case domain.ActMessage:
		c.Say("staff.message_sent", "ID", id)
	default:
		c.Say("staff.changed", "ID", id, "Status", statusLabel(c, cp.Status))
	}
	return nil
}

// record keeps a staff action from chat in the audit log: from the chat it was typed
// in. A failure to record is logged; the action stands.
func (f *complaintFlow) record(ctx context.Context, c *Conv, acc domain.StaffAccount, a domain.Action, id string, in domain.ActionInput, of string) {
	if f.audit == nil {
		return
	}
	detail := ""
	switch a {
	case domain.ActDispose:
		detail = "agency=" + in.Agency
	case domain.ActDuplicate:
		detail = "of=" + of
	}
	e := domain.AuditEntry{At: f.now(), Account: acc.Name, Role: acc.Role, Action: "complaint." + string(a), Target: id,
		Detail: detail, From: c.Msg.Channel + ":" + c.Msg.ChatID}
	if err := f.audit.Record(ctx, e); err != nil {
		c.log.WarnContext(ctx, "audit entry not recorded", "action", e.Action, "err", err)
	}
}

// targetStatus is the status an action moves a complaint to.
func targetStatus(a domain.Action) (domain.Status, bool) {
	for _, st := range domain.Statuses() {
		if act, ok := domain.ActionFor(st); ok && act == a {
			return st, true
		}
	}
	return "", false
}

// repeats reports whether the complaint's last change is the very action by the same
// person: a command sent again.
func repeats(cp *domain.Complaint, a domain.Action, by string, in domain.ActionInput) bool {
	if a == domain.ActNote {
		n := len(cp.Notes)
		return n > 0 && cp.Notes[n-1].By == by && cp.Notes[n-1].Text == in.Note
	}
	n := len(cp.History)
	if n == 0 {
		return false
	}
	last := cp.History[n-1]
	if last.By != by || last.Note != in.Note {
		return false
	}
	switch a {
	case domain.ActDispose:
		return last.Kind == domain.EventDispose && last.Agency == in.Agency
	case domain.ActMessage:
		return last.Kind == domain.EventMessage
	}
	to, _ := targetStatus(a)
	return last.Kind == domain.EventStatus && last.Status == to && cp.Status == to
}

// staffHelp lists the staff commands the account's role may use.
func (f *complaintFlow) staffHelp(c *Conv, acc domain.StaffAccount) {
	parts := []string{c.T("staff.usage"), c.T("staff.help_read")}
	if acc.Role.Can(domain.PermTriage) {
		parts = append(parts, c.T("staff.help_triage"))
	}
	if acc.Role.Can(domain.PermComplaints) {
		parts = append(parts, c.T("staff.help_work"))
	}
	if acc.Role.Can(domain.PermBroadcasts) {
		parts = append(parts, c.T("staff.help_broadcast"))
	}
	if acc.Role.Can(domain.PermConversation) {
		parts = append(parts, c.T("staff.help_handoff"))
	}
	c.Turn.Say(bot.Reply{Text: strings.Join(parts, "\n")})
}

// staffList lists the complaints of one status (default diterima), newest first,
// marking the overdue ones: "/daftar [status] [terlambat]". An officer sees their
// agency's.
func (f *complaintFlow) staffList(ctx context.Context, c *Conv, acc domain.StaffAccount, args []string) error {
	q := domain.InboxQuery{Status: domain.StatusReceived, Size: 20}
	if acc.Role == domain.RoleOfficer {
		q.Agency = acc.Agency
	}
	for _, a := range args {
		if st, ok := domain.ParseStatus(a); ok {
			q.Status = st
			continue
		}
		if strings.EqualFold(a, c.T("staff.overdue_word")) || strings.EqualFold(a, "overdue") {
			q.Overdue, q.Status, q.Sort = true, "", domain.SortOverdue
			continue
		}
		f.staffHelp(c, acc)
		return nil
	}
	now := f.now()
	res, err := f.store.Inbox(ctx, q, now)
	if err != nil {
		return fmt.Errorf("staff list: %w", err)
	}
	label := statusLabel(c, q.Status)
	if q.Overdue {
		label = c.T("staff.overdue_word")
	}
	if res.Total == 0 {
		c.Say("staff.list_empty", "Status", label)
		return nil
	}
	lines := []string{c.T("staff.list", "Status", label, "Total", res.Total)}
	for _, cp := range res.Complaints {
		lines = append(lines, c.T("staff.list_line", "ID", cp.ID, "Category", c.T("complaint.category."+cp.Category),
			"Summary", Summarize(cp.Description), "Overdue", cp.Overdue(now)))
	}
	c.Turn.Say(bot.Reply{Text: strings.Join(lines, "\n")})
	return nil
}

// staffShow shows one complaint to staff: its history, address and a map link, its
// agency and deadline, the internal notes, the reporter's channel, then its photos.
func (f *complaintFlow) staffShow(ctx context.Context, c *Conv, acc domain.StaffAccount, id string) error {
	cp, err := f.store.Get(ctx, id)
	if errors.Is(err, domain.ErrNotFound) || err == nil && !cp.VisibleTo(acc) {
		c.Say("complaint.not_found", "ID", id)
		return nil
	}
	if err != nil {
		return fmt.Errorf("staff show: %w", err)
	}
	lines := []string{f.detail(c, cp)}
	if cp.Address != "" {
		lines = append(lines, c.T("staff.address", "Address", cp.Address))
	}
	if l := cp.Location; l != nil {
		lines = append(lines, c.T("staff.map", "Link", fmt.Sprintf("https://www.openstreetmap.org/?mlat=%.6f&mlon=%.6f#map=18/%.6f/%.6f", l.Lat, l.Lon, l.Lat, l.Lon)))
	}
	lines = append(lines, c.T("staff.agency_line", "Agency", f.agencyName(cp.Agency)))
	if cp.Phase != "" {
		lines = append(lines, c.T("staff.due_line", "Phase", c.T("staff.phase."+string(cp.Phase)), "Date", f.day(cp.Due), "Overdue", cp.Overdue(f.now())))
	}
	if cp.DuplicateOf != "" {
		lines = append(lines, c.T("staff.duplicate_of", "Of", cp.DuplicateOf))
	}
	if len(cp.Notes) > 0 {
		lines = append(lines, c.T("staff.notes"))
		for _, n := range cp.Notes {
			lines = append(lines, c.T("staff.note_line", "Date", f.date(n.At), "By", n.By, "Text", n.Text))
		}
	}
	lines = append(lines, c.T("staff.reporter", "Channel", cp.Reporter.Channel, "Confidential", cp.Confidential))
	c.Turn.Say(bot.Reply{Text: strings.Join(lines, "\n")})
	for i, p := range cp.Photos {
		c.Turn.Say(bot.Reply{Text: c.T("staff.photo", "N", i+1, "Total", len(cp.Photos), "ID", cp.ID), Media: &bot.Media{Ref: p, MIME: mimeOf(p)}})
	}
	return nil
}

// day is the last day before a deadline (which falls at midnight), as people read
// it: 02-12-2026.
func (f *complaintFlow) day(due time.Time) string {
	return due.Add(-time.Second).In(f.loc).Format("02-01-2006")
}

// agencyName is the name of the agency of code, or the text for none.
func (f *complaintFlow) agencyName(code string) string {
	if a, ok := f.region.Agency(code); ok {
		return a.Name
	}
	return code
}

// Summarize cuts a description to one line, for staff lists and alerts.
func Summarize(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > 80 {
		return string(r[:77]) + "..."
	}
	return s
}
