package flows

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/layan-id/layan/bot"
	"github.com/layan-id/layan/domain"
)

// staffCommands maps the commands staff type (Indonesian and English) to the status
// they set, or to "" for the commands that only read.
func staffCommands() map[string]domain.Status {
	return map[string]domain.Status{
		"daftar": "", "list": "", "lihat": "", "show": "",
		"verifikasi": domain.StatusVerified, "verify": domain.StatusVerified,
		"proses": domain.StatusInProgress, "process": domain.StatusInProgress,
		"selesai": domain.StatusDone, "finish": domain.StatusDone,
		"tolak": domain.StatusRejected, "reject": domain.StatusRejected,
	}
}

// errAlreadyDone marks a staff command that repeats the change it made last.
var errAlreadyDone = errors.New("already done")

// staffCommand handles a staff member's "/command ticket note". It reports false for
// anything else, and for everyone who is not staff: to them the commands do not
// exist.
func (f *complaintFlow) staffCommand(ctx context.Context, c *Conv, text string) (bool, error) {
	if !strings.HasPrefix(text, "/") || !f.staff(c.Msg.Key()) {
		return false, nil
	}
	fields := strings.Fields(strings.TrimPrefix(text, "/"))
	if len(fields) == 0 {
		return false, nil
	}
	cmd := strings.ToLower(fields[0])
	cmd, _, _ = strings.Cut(cmd, "@") // "/daftar@layan_bot" in a Telegram group
	to, ok := staffCommands()[cmd]
	if !ok {
		if cmd == "staf" || cmd == "staff" {
			c.Say("staff.usage")
			return true, nil
		}
		return false, nil
	}
	args := fields[1:]
	switch {
	case cmd == "daftar" || cmd == "list":
		return true, f.staffList(ctx, c, args)
	case len(args) == 0:
		c.Say("staff.usage")
		return true, nil
	case cmd == "lihat" || cmd == "show":
		return true, f.staffShow(ctx, c, strings.ToUpper(args[0]))
	}
	id, note := strings.ToUpper(args[0]), strings.Join(args[1:], " ")
	var from domain.Status
	cp, err := f.store.Update(ctx, id, func(cp *domain.Complaint) error {
		from = cp.Status
		if n := len(cp.History); n > 0 && cp.Status == to {
			if last := cp.History[n-1]; last.By == c.Msg.Key() && last.Note == note {
				return errAlreadyDone // the same command again, e.g. after a crash cut off its answer
			}
		}
		return cp.Transition(to, c.Msg.Key(), note, f.now())
	})
	switch {
	case errors.Is(err, errAlreadyDone):
		// The first attempt's news may have been lost with its answer: the event id
		// names the change, so the citizen hears it once either way.
		if cp, err := f.store.Get(ctx, id); err == nil {
			f.alerts.StatusChanged(ctx, cp)
		}
		c.Say("staff.changed", "ID", id, "Status", statusLabel(c, to))
	case errors.Is(err, domain.ErrNotFound):
		c.Say("complaint.not_found", "ID", id)
	case errors.Is(err, domain.ErrNoteRequired): // finishing and rejecting need a note (the domain's rule)
		c.Say("staff.note_required", "Command", cmd, "ID", id)
	case errors.Is(err, domain.ErrIllegalTransition):
		c.Say("staff.illegal", "ID", id, "From", statusLabel(c, from), "To", statusLabel(c, to))
	case err != nil:
		return true, fmt.Errorf("staff status change: %w", err)
	default:
		f.alerts.StatusChanged(ctx, cp)
		c.Say("staff.changed", "ID", id, "Status", statusLabel(c, cp.Status))
	}
	return true, nil
}

func (f *complaintFlow) staffList(ctx context.Context, c *Conv, args []string) error {
	status := domain.StatusReceived
	if len(args) > 0 {
		status = domain.Status(strings.ToLower(args[0]))
	}
	known := false
	for _, s := range domain.Statuses() {
		known = known || s == status
	}
	if !known {
		c.Say("staff.usage")
		return nil
	}
	list, total, err := f.store.List(ctx, status, 1, 20)
	if err != nil {
		return fmt.Errorf("staff list: %w", err)
	}
	if total == 0 {
		c.Say("staff.list_empty", "Status", statusLabel(c, status))
		return nil
	}
	lines := []string{c.T("staff.list", "Status", statusLabel(c, status), "Total", total)}
	for _, cp := range list {
		lines = append(lines, c.T("staff.list_line", "ID", cp.ID, "Category", c.T("complaint.category."+cp.Category), "Summary", Summarize(cp.Description)))
	}
	c.Turn.Say(bot.Reply{Text: strings.Join(lines, "\n")})
	return nil
}

func (f *complaintFlow) staffShow(ctx context.Context, c *Conv, id string) error {
	cp, err := f.store.Get(ctx, id)
	if errors.Is(err, domain.ErrNotFound) {
		c.Say("complaint.not_found", "ID", id)
		return nil
	}
	if err != nil {
		return fmt.Errorf("staff show: %w", err)
	}
	text := f.detail(c, cp) + "\n" + c.T("staff.reporter", "Channel", cp.Reporter.Channel, "Confidential", cp.Confidential)
	c.Turn.Say(bot.Reply{Text: text})
	return nil
}

// Summarize cuts a description to one line, for staff lists and alerts.
func Summarize(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > 80 {
		return string(r[:77]) + "..."
	}
	return s
}
