package flows

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/layan-id/layan/bot"
	"github.com/layan-id/layan/domain"
)

// ticketPattern recognises a ticket number typed by itself or after "status".
var ticketPattern = regexp.MustCompile(`(?i)^[a-z0-9]{2,10}-\d{6}-\d{4,}$`)

// statusFlow shows a person their complaints and their history. A ticket that is not
// theirs answers exactly like one that does not exist.
type statusFlow struct{ complaints *complaintFlow }

func (f *statusFlow) Start(ctx context.Context, c *Conv) error {
	return f.mine(ctx, c)
}

func (f *statusFlow) Continue(ctx context.Context, c *Conv, in Input) error {
	if id, ok := strings.CutPrefix(in.Option, "ticket:"); ok {
		return f.one(ctx, c, id)
	}
	c.Leave()
	return c.Fallback(ctx, in)
}

// mine lists the person's complaints, newest first, each offered as an option.
func (f *statusFlow) mine(ctx context.Context, c *Conv) error {
	list, err := f.complaints.store.ByReporter(ctx, c.Msg.Key(), 10)
	if err != nil {
		return fmt.Errorf("list own complaints: %w", err)
	}
	c.Leave()
	if len(list) == 0 {
		c.Say("complaint.mine_none")
		return nil
	}
	lines := []string{c.T("complaint.mine")}
	var opts []bot.Option
	for _, cp := range list {
		lines = append(lines, c.T("complaint.mine_line", "ID", cp.ID, "Status", statusLabel(c, cp.Status), "Date", f.complaints.date(cp.CreatedAt)))
		opts = append(opts, bot.Option{ID: "ticket:" + cp.ID, Label: cp.ID})
	}
	c.Session.Flow = FlowStatus
	c.Turn.Say(bot.Reply{Text: strings.Join(lines, "\n"), Options: opts})
	return nil
}

// one shows one of the person's complaints with its history.
func (f *statusFlow) one(ctx context.Context, c *Conv, id string) error {
	id = strings.ToUpper(id)
	c.Leave()
	cp, err := f.complaints.store.Get(ctx, id)
	if errors.Is(err, domain.ErrNotFound) || err == nil && cp.Reporter.Key != c.Msg.Key() {
		c.Say("complaint.not_found", "ID", id)
		return nil
	}
	if err != nil {
		return fmt.Errorf("show complaint: %w", err)
	}
	c.Turn.Say(bot.Reply{Text: f.complaints.detail(c, cp)})
	if cp.CanReopen(f.complaints.now()) && cp.Rating == 0 {
		f.complaints.askRating(c, cp)
	}
	return nil
}

// detail is a complaint with its history, as its reporter or staff read it.
func (f *complaintFlow) detail(c *Conv, cp *domain.Complaint) string {
	lines := []string{c.T("complaint.detail", "ID", cp.ID, "Category", c.T("complaint.category."+cp.Category),
		"Status", statusLabel(c, cp.Status), "Description", cp.Description)}
	for _, e := range cp.History {
		lines = append(lines, f.historyLine(c, e))
	}
	return strings.Join(lines, "\n")
}

// historyLine is one entry of a complaint's history as its reporter reads it.
func (f *complaintFlow) historyLine(c *Conv, e domain.Event) string {
	date := f.date(e.At)
	switch e.Kind {
	case domain.EventDispose:
		return c.T("complaint.history_dispose", "Date", date, "Agency", f.agencyName(e.Agency))
	case domain.EventDuplicate:
		return c.T("complaint.history_duplicate", "Date", date, "Of", e.Ref)
	case domain.EventMessage:
		return c.T("complaint.history_message", "Date", date, "Note", e.Note)
	}
	if e.Status == domain.StatusVerified && e.Agency != "" {
		return c.T("complaint.history_verified", "Date", date, "Agency", f.agencyName(e.Agency), "Note", e.Note)
	}
	return c.T("complaint.history_line", "Date", date, "Status", statusLabel(c, e.Status), "Note", e.Note)
}

func statusLabel(c *Conv, s domain.Status) string { return c.T("complaint.status." + string(s)) }

// date shows a time as people of the region read it: 27-11-2026 09:05.
func (f *complaintFlow) date(t time.Time) string { return t.In(f.loc).Format("02-01-2006 15:04") }

// event tells a reporter that their complaint changed, in their conversation; a Done
// complaint asks for a rating and offers reopening.
//
// The event names the change ("BTG-261127-0042:3", the third entry of the history),
// so two quick changes are told as they happened, not twice as the latest. A person in
// the middle of filling something in keeps that step's numbered options: the rating
// comes as buttons only, so a "2" meant for the step is not taken as a rating.
func (f *complaintFlow) event(ctx context.Context, c *Conv, arg string) error {
	id, nth, _ := strings.Cut(arg, ":")
	cp, err := f.store.Get(ctx, id)
	if err != nil {
		return fmt.Errorf("complaint event: %w", err)
	}
	n, err := strconv.Atoi(nth)
	if err != nil || n < 1 || n > len(cp.History) {
		n = len(cp.History)
	}
	e := cp.History[n-1]
	kept := c.Session.Options
	reporter := cp.Reporter.Key == c.Msg.Key() // else a follower: the reporter of a duplicate
	switch {
	case e.Kind == domain.EventDispose:
		c.Say("complaint.disposed_update", "ID", cp.ID, "Agency", f.agencyName(e.Agency), "Note", e.Note)
	case e.Kind == domain.EventDuplicate:
		c.Say("complaint.duplicate_update", "ID", cp.ID, "Of", e.Ref)
	case e.Kind == domain.EventMessage:
		c.Say("complaint.message_update", "ID", cp.ID, "Note", e.Note)
	case !reporter:
		c.Say("complaint.follow_update", "ID", cp.ID, "Status", statusLabel(c, e.Status), "Note", e.Note)
	case e.Status == domain.StatusVerified && e.Agency != "":
		c.Say("complaint.verified_update", "ID", cp.ID, "Agency", f.agencyName(e.Agency), "Note", e.Note)
	default:
		c.Say("complaint.update", "ID", cp.ID, "Status", statusLabel(c, e.Status), "Note", e.Note)
	}
	if reporter && e.Kind == domain.EventStatus && e.Status == domain.StatusDone && n == len(cp.History) {
		f.askRating(c, cp)
	}
	if c.InForm() {
		c.Session.Options = kept // in the middle of filling something in
	}
	return nil
}

func (f *complaintFlow) askRating(c *Conv, cp *domain.Complaint) {
	opts := make([]bot.Option, 0, 6)
	for n := 1; n <= 5; n++ {
		opts = append(opts, bot.Option{ID: fmt.Sprintf("rate:%s:%d", cp.ID, n), Label: strconv.Itoa(n)})
	}
	opts = append(opts, c.Opt("reopen:"+cp.ID, "complaint.not_fixed"))
	c.Ask("complaint.rate_prompt", opts...)
}

// option handles the replies to status news, which may come at any step: a rating
// ("rate:<id>:<n>"), reopening ("reopen:<id>") or a ticket to show ("ticket:<id>").
func (f *complaintFlow) option(ctx context.Context, c *Conv, opt string) (bool, error) {
	kind, rest, _ := strings.Cut(opt, ":")
	switch kind {
	case "ticket":
		return true, f.status.one(ctx, c, rest)
	case "rate":
		i := strings.LastIndexByte(rest, ':')
		n, err := strconv.Atoi(rest[i+1:])
		if i < 0 || err != nil || n < 1 || n > 5 {
			return false, nil
		}
		id := rest[:i]
		_, err = f.store.Update(ctx, id, func(cp *domain.Complaint) error {
			if cp.Reporter.Key != c.Msg.Key() || cp.Status != domain.StatusDone {
				return domain.ErrNotFound
			}
			cp.Rating = n
			return nil
		})
		if errors.Is(err, domain.ErrNotFound) {
			c.Say("complaint.not_found", "ID", id)
			return true, nil
		}
		if err != nil {
			return true, fmt.Errorf("rate complaint: %w", err)
		}
		c.Say("complaint.rated")
		return true, nil
	case "reopen":
		cp, err := f.store.Update(ctx, rest, func(cp *domain.Complaint) error {
			if cp.Reporter.Key != c.Msg.Key() {
				return domain.ErrNotFound
			}
			return cp.Transition(domain.StatusReopened, "citizen", "", f.now())
		})
		switch {
		case errors.Is(err, domain.ErrNotFound):
			c.Say("complaint.not_found", "ID", rest)
		case errors.Is(err, domain.ErrIllegalTransition):
			c.Say("complaint.cannot_reopen", "ID", rest)
		case err != nil:
			return true, fmt.Errorf("reopen complaint: %w", err)
		default:
			f.alerts.Reopened(ctx, cp)
			c.Say("complaint.reopened", "ID", cp.ID)
		}
		return true, nil
	}
	return false, nil
}
