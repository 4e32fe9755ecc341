package flows

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/layan-id/layan/bot"
	"github.com/layan-id/layan/domain"
	"github.com/layan-id/layan/flows/fold"
)

// ComplaintStore is what the complaint flows need of the store.
type ComplaintStore interface {
	Create(ctx context.Context, c *domain.Complaint, idem string) (*domain.Complaint, bool, error)
	Get(ctx context.Context, id string) (*domain.Complaint, error)
	Update(ctx context.Context, id string, f func(*domain.Complaint) error) (*domain.Complaint, error)
	ByReporter(ctx context.Context, conv string, max int) ([]*domain.Complaint, error)
	// Inbox and MarkDuplicate serve the staff commands (flows/staff.go).
	Inbox(ctx context.Context, q domain.InboxQuery, now time.Time) (domain.InboxPage, error)
	MarkDuplicate(ctx context.Context, id, of, by string, at time.Time, f func(dup, orig *domain.Complaint) error) (*domain.Complaint, *domain.Complaint, error)
}

// Alerts carries news of complaints to the people who must hear it: staff learn of new
// and reopened complaints, a citizen of a change in theirs. Delivery problems are the
// implementation's to log; the flows carry on.
type Alerts interface {
	NewComplaint(ctx context.Context, c *domain.Complaint)
	Reopened(ctx context.Context, c *domain.Complaint)
	StatusChanged(ctx context.Context, c *domain.Complaint)
}

// maxPhotos is how many photos one complaint takes.
const maxPhotos = 3

// The steps of filing a complaint, in order, and those of the form around them
// (Session.Step keeps these names).
const (
	stepCategory     = "category"
	stepDescription  = "description"
	stepLocation     = "location"
	stepLocationFar  = "location_far" // a follow-up of stepLocation
	stepPhotos       = "photos"
	stepConfidential = "confidential"
	stepSummary      = "summary"
	stepEdit         = "edit"
)

// complaintFlow is the complaints part: the form that files one (a wizard: category,
// description, location as a shared pin or a typed address or none, up to three
// photos, whether the reporter's identity is confidential, then a summary to confirm,
// change or cancel; nothing is filed before the confirmation, and a confirmation
// delivered twice files one complaint), the status flow, the news of a change, the
// replies to it (rating, reopening) and the staff commands.
type complaintFlow struct {
	store  ComplaintStore
	alerts Alerts
	region Region
	form   *wizard[complaintDraft]
	status *statusFlow
	now    func() time.Time
	loc    *time.Location
	staff  func(key string) bool
	// accounts, when set, tells who a staff identity is (role, agency); else staff
	// says who is staff, each an admin.
	accounts StaffAccount
	audit    Auditor // nil: staff actions are not recorded
}

// complaintDraft is a complaint being filled in.
type complaintDraft struct {
	Draft string `json:"draft"` // names the draft, so that its confirmation files it once
	// Guess is the category the words that started the form named, to confirm;
	// DescDraft the words themselves when they describe something.
	Guess        string           `json:"guess,omitempty"`
	DescDraft    string           `json:"desc_draft,omitempty"`
	Category     string           `json:"category,omitempty"`
	Description  string           `json:"description,omitempty"`
	Point        *domain.Location `json:"point,omitempty"` // a shared pin, or
	Address      string           `json:"address,omitempty"`
	Photos       []string         `json:"photos,omitempty"` // names in the media store
	Confidential bool             `json:"confidential,omitempty"`
}

// legacyComplaint reads a draft as sessions saved it before typed state.
func legacyComplaint(v map[string]string) complaintDraft {
	return complaintDraft{Draft: v["draft"], Guess: v["cat_guess"], DescDraft: v["desc_draft"], Category: v["cat"],
		Description: v["desc"], Point: legacyPoint(v), Address: v["addr"], Photos: legacyList(v["photos"]),
		Confidential: v["conf"] == "true"}
}

// wizard is the complaint form.
func (f *complaintFlow) wizard() *wizard[complaintDraft] {
	w := &wizard[complaintDraft]{
		name: FlowComplaint, intro: "complaint.intro", resume: "complaint.resume", pickOne: "complaint.pick_one",
		fresh:  func() complaintDraft { return complaintDraft{Draft: newDraftID()} },
		legacy: legacyComplaint,
		steps: []formStep[complaintDraft]{
			{name: stepCategory, edit: "complaint.field.category", ask: f.askCategory, answer: f.category},
			{name: stepDescription, edit: "complaint.field.description", ask: f.askDescription, answer: f.description},
			{name: stepLocation, takes: bot.KindLocation, edit: "complaint.field.location", ask: f.askLocation, answer: f.location},
			{name: stepLocationFar, parent: stepLocation, takes: bot.KindLocation, ask: f.askFar, answer: f.far},
			{name: stepPhotos, takes: bot.KindImage, edit: "complaint.field.photos", ask: f.askPhotos, answer: f.photos},
			{name: stepConfidential, edit: "complaint.field.confidential", ask: f.askConfidential, answer: f.confidential},
		},
		preview: formPreview[complaintDraft]{
			step: stepSummary, show: f.summary, confirm: "confirm", confirmKey: "complaint.confirm",
			editKey: "complaint.edit", editStep: stepEdit, editPrompt: "complaint.edit_which", cancelKey: "complaint.cancel",
			done: f.file,
		},
	}
	return w
}

// startWith starts a complaint from a request in plain words ("mau lapor jalan rusak
// di depan SD 2"): the category the words name is offered for confirmation, and a
// sentence long enough to describe something is kept as the description's draft.
func (f *complaintFlow) startWith(c *Conv, cat, text string) {
	d := complaintDraft{Draft: newDraftID()}
	if len(strings.Fields(text)) >= draftWords {
		d.DescDraft = text
	}
	if slices.Contains(f.region.Categories, cat) {
		d.Guess = cat
	}
	f.form.begin(c, d)
}

// draftWords is how many words a request must have to be kept as a description draft:
// "mau lapor jalan rusak" says only what the category says.
const draftWords = 6

func (f *complaintFlow) askCategory(c *Conv, d *complaintDraft) {
	if d.Guess != "" {
		c.Turn.Say(bot.Reply{Text: c.T("complaint.guess_category", "Category", c.T("complaint.category."+d.Guess)),
			Options: []bot.Option{c.Opt("guess:yes", "complaint.guess_yes"), c.Opt("guess:no", "complaint.guess_no")}})
		return
	}
	opts := make([]bot.Option, len(f.region.Categories))
	for i, id := range f.region.Categories {
		opts[i] = c.Opt("cat:"+id, "complaint.category."+id)
	}
	c.Ask("complaint.ask_category", opts...)
}

func (f *complaintFlow) category(_ context.Context, c *Conv, d *complaintDraft, in Input) outcome {
	switch in.Option {
	case "guess:yes":
		in.Option = "cat:" + d.Guess
	case "guess:no":
		d.Guess = ""
		return goTo(stepCategory)
	}
	id, ok := strings.CutPrefix(in.Option, "cat:")
	if !ok {
		// The category typed by its id or label ("sampah", "Jalan rusak").
		for _, cat := range f.region.Categories {
			if fold.Label(in.Text) == cat || fold.Label(in.Text) == fold.Label(c.T("complaint.category."+cat)) {
				id, ok = cat, true
			}
		}
	}
	if !ok || !slices.Contains(f.region.Categories, id) {
		return useless
	}
	d.Category, d.Guess = id, ""
	return kept
}

func (f *complaintFlow) askDescription(c *Conv, d *complaintDraft) {
	if d.DescDraft != "" {
		c.Turn.Say(bot.Reply{Text: c.T("complaint.ask_description_draft", "Description", d.DescDraft),
			Options: []bot.Option{c.Opt("desc:keep", "complaint.use_draft")}})
		return
	}
	c.Say("complaint.ask_description")
}

func (f *complaintFlow) description(_ context.Context, c *Conv, d *complaintDraft, in Input) outcome {
	text := strings.TrimSpace(in.Text)
	if in.Option == "desc:keep" {
		text = d.DescDraft
	}
	if len(strings.Fields(text)) < 3 || utf8.RuneCountInString(text) < 15 {
		c.Say("complaint.description_short")
		return waiting
	}
	d.Description, d.DescDraft = text, ""
	return kept
}

func (f *complaintFlow) askLocation(c *Conv, _ *complaintDraft) {
	c.Turn.Say(bot.Reply{Text: c.T("complaint.ask_location"), AskLocation: true,
		Options: []bot.Option{c.Opt("loc:skip", "complaint.skip")}})
}

func (f *complaintFlow) location(_ context.Context, c *Conv, d *complaintDraft, in Input) outcome {
	if in.Kind == bot.KindLocation && in.Location != nil {
		l := *in.Location
		if !validPoint(l) {
			c.Say("complaint.location_invalid")
			return waiting
		}
		d.Point, d.Address = keptPoint(l), ""
		if !f.region.BBox.Contains(l) {
			return goTo(stepLocationFar)
		}
		return kept
	}
	if in.Option == "loc:skip" || c.IsWord(keySkip, in.Text) {
		d.Point, d.Address = nil, ""
		return kept
	}
	text := strings.TrimSpace(in.Text)
	if utf8.RuneCountInString(text) < 5 {
		c.Say("complaint.address_short")
		return waiting
	}
	d.Point, d.Address = nil, text
	if p, ok := c.Place(text); ok {
		// A place of the region: its point, approximately, and the person is told so.
		d.Point, d.Address = keptPoint(p.Point), c.T("places.approx", "Typed", text, "Place", placeLabel(c, p))
	}
	return kept
}

func (f *complaintFlow) askFar(c *Conv, _ *complaintDraft) {
	c.Ask("complaint.location_far", c.Opt("loc:keep", "complaint.keep_location"), c.Opt("loc:retry", "complaint.retry_location"))
}

// far answers "is this place far away right?": yes, another pin, or send it again.
func (f *complaintFlow) far(ctx context.Context, c *Conv, d *complaintDraft, in Input) outcome {
	if in.Kind == bot.KindLocation {
		return f.location(ctx, c, d, in) // a corrected pin
	}
	switch in.Option {
	case "loc:keep":
		return kept
	case "loc:retry":
		d.Point = nil
		return goTo(stepLocation)
	}
	return useless
}

// validPoint rejects coordinates no phone sends: off the globe, or exactly 0,0 (a
// device without a fix).
func validPoint(l domain.Location) bool {
	return !math.IsNaN(l.Lat) && !math.IsNaN(l.Lon) && l.Lat >= -90 && l.Lat <= 90 &&
		l.Lon >= -180 && l.Lon <= 180 && (l.Lat != 0 || l.Lon != 0)
}

func (f *complaintFlow) askPhotos(c *Conv, _ *complaintDraft) {
	c.Ask("complaint.ask_photos", c.Opt("photos:done", "complaint.continue"))
}

func (f *complaintFlow) photos(_ context.Context, c *Conv, d *complaintDraft, in Input) outcome {
	switch {
	case in.Kind == bot.KindImage && in.Media != nil && in.Media.Ref != "":
		if len(d.Photos) < maxPhotos {
			d.Photos = append(d.Photos, in.Media.Ref)
		}
		if len(d.Photos) >= maxPhotos {
			c.Say("complaint.photos_full")
			return kept
		}
		c.Turn.Say(bot.Reply{Text: c.T("complaint.photo_received", "N", len(d.Photos)),
			Options: []bot.Option{c.Opt("photos:done", "complaint.continue")}})
		return waiting
	case in.Option == "photos:done" || c.IsWord(keySkip, in.Text):
		return kept
	}
	return useless
}

func (f *complaintFlow) askConfidential(c *Conv, _ *complaintDraft) {
	c.Ask("complaint.ask_confidential", c.Opt("conf:yes", "complaint.confidential_yes"), c.Opt("conf:no", "complaint.confidential_no"))
}

func (f *complaintFlow) confidential(_ context.Context, _ *Conv, d *complaintDraft, in Input) outcome {
	switch in.Option {
	case "conf:yes", "conf:no":
		d.Confidential = in.Option == "conf:yes"
		return kept
	}
	return useless
}

// summary is the draft as the person confirms it.
func (f *complaintFlow) summary(c *Conv, d *complaintDraft) string {
	yesNo := func(b bool) string {
		if b {
			return c.T("complaint.yes")
		}
		return c.T("complaint.no")
	}
	loc := d.Address
	if p := d.Point; p != nil && loc == "" {
		loc = strconv.FormatFloat(p.Lat, 'f', 6, 64) + ", " + strconv.FormatFloat(p.Lon, 'f', 6, 64)
	}
	if loc == "" {
		loc = c.T("complaint.none")
	}
	return c.T("complaint.summary", "Category", c.T("complaint.category."+d.Category),
		"Description", d.Description, "Location", loc, "Photos", strconv.Itoa(len(d.Photos)),
		"Confidential", yesNo(d.Confidential))
}

// file files the confirmed complaint.
func (f *complaintFlow) file(ctx context.Context, c *Conv, d *complaintDraft) (string, error) {
	now := f.now()
	cp := &domain.Complaint{
		Status: domain.StatusReceived, Category: d.Category, Description: d.Description,
		Agency:   f.region.Routing[d.Category], // passed to it when verified
		Location: d.Point, Address: d.Address, Photos: d.Photos, Confidential: d.Confidential,
		Reporter:  domain.Reporter{Channel: c.Msg.Channel, ChatID: c.Msg.ChatID, Key: c.Msg.Key(), Lang: c.Chosen()},
		CreatedAt: now, UpdatedAt: now,
		History: []domain.Event{{At: now, Status: domain.StatusReceived, By: "citizen"}},
	}
	// The draft's name makes the confirmation idempotent: delivered twice, it files once.
	got, created, err := f.store.Create(ctx, cp, c.Msg.Key()+":"+d.Draft)
	if err != nil {
		return "", fmt.Errorf("file complaint: %w", err)
	}
	if created {
		f.alerts.NewComplaint(ctx, got)
	}
	c.Leave()
	c.Say("complaint.filed", "ID", got.ID)
	return "", nil
}

func newDraftID() string {
	b := make([]byte, 8)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// ComplaintConfig is what the complaint flows need.
type ComplaintConfig struct {
	Store  ComplaintStore
	Alerts Alerts
	Region Region
	// Location is the region's time zone, for dates people read; default UTC.
	Location *time.Location
	// Staff reports whether a conversation key (Message.Key) is a staff member's.
	Staff func(key string) bool
	// Accounts, when set, gives the staff account a conversation key acts as (a
	// linked chat identity, or a STAFF_IDS admin) and takes Staff's place for the
	// complaint commands.
	Accounts StaffAccount
	// Audit, when set, records the staff commands that change a complaint.
	Audit Auditor
	Now   func() time.Time // default time.Now
}

// RegisterComplaints adds filing complaints ("complaint"), checking them ("status"),
// the replies to status news (rating, reopening) and, for staff, the staff commands.
func (r *Router) RegisterComplaints(cfg ComplaintConfig) {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Location == nil {
		cfg.Location = time.UTC
	}
	if cfg.Staff == nil {
		cfg.Staff = func(string) bool { return false }
	}
	f := &complaintFlow{store: cfg.Store, alerts: cfg.Alerts, region: cfg.Region,
		now: cfg.Now, loc: cfg.Location, staff: cfg.Staff, accounts: cfg.Accounts, audit: cfg.Audit}
	f.status = &statusFlow{complaints: f}
	f.form = f.wizard()
	f.form.register(r)
	r.Register(FlowStatus, f.status)
	r.HandleCommand(f.staffCommand)
	for _, prefix := range []string{"ticket:", "rate:", "reopen:"} {
		r.HandleOption(prefix, f.option)
	}
	r.HandleText(func(ctx context.Context, c *Conv, text string) (bool, error) {
		id, ok := f.ticketAsked(c, text)
		if !ok {
			return false, nil
		}
		return true, f.status.one(ctx, c, id)
	})
	r.HandleIntent("ticket", AlwaysInterrupts, func(ctx context.Context, c *Conv, in Input) error {
		return c.Aside(func() error { return f.status.one(ctx, c, in.reading.Ticket) })
	})
	// "cek status laporan saya": at a choice step of a form (where it cannot be the
	// answer) the person's complaints are shown and the step asked again.
	r.HandleIntent("status", InterruptsAtChoice, func(ctx context.Context, c *Conv, _ Input) error {
		if c.InForm() {
			return c.Aside(func() error { return f.status.mine(ctx, c) })
		}
		return f.status.Start(ctx, c)
	})
	r.HandleIntent("complaint", NeverInterrupts, func(_ context.Context, c *Conv, in Input) error {
		f.startWith(c, in.reading.Slot, in.Text)
		return nil
	})
	r.HandleEvent("complaint", f.event)
}

// ticketAsked recognises "status BTG-261127-0042" or a ticket number by itself.
func (f *complaintFlow) ticketAsked(c *Conv, text string) (string, bool) {
	fields := strings.Fields(fold.Label(text))
	switch {
	case len(fields) == 1 && ticketPattern.MatchString(fields[0]):
		return fields[0], true
	case len(fields) == 2 && c.IsWord(keyStatus, fields[0]) && ticketPattern.MatchString(fields[1]):
		return fields[1], true
	}
	return "", false
}
