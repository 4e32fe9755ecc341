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
	List(ctx context.Context, status domain.Status, page, size int) ([]*domain.Complaint, int64, error)
	ByReporter(ctx context.Context, conv string, max int) ([]*domain.Complaint, error)
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

// The steps of filing a complaint, in order.
const (
	stepCategory     = "category"
	stepDescription  = "description"
	stepLocation     = "location"
	stepLocationFar  = "location_far"
	stepPhotos       = "photos"
	stepConfidential = "confidential"
	stepSummary      = "summary"
	stepEdit         = "edit"
)

// complaintSteps is the order a person walks and "kembali" walks back.
func complaintSteps() []string {
	return []string{stepCategory, stepDescription, stepLocation, stepPhotos, stepConfidential, stepSummary}
}

// complaintFlow files a complaint: category, description, location (a shared pin or
// a typed address, or none), up to three photos, whether the reporter's identity is
// confidential, then a summary to confirm, change or cancel. Nothing is filed before
// the confirmation, and a confirmation delivered twice files one complaint.
type complaintFlow struct {
	store  ComplaintStore
	alerts Alerts
	region Region
	menu   *Router
	now    func() time.Time
	loc    *time.Location
	staff  func(key string) bool
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
	f := &complaintFlow{store: cfg.Store, alerts: cfg.Alerts, region: cfg.Region, menu: r,
		now: cfg.Now, loc: cfg.Location, staff: cfg.Staff}
	r.flows["complaint"] = f
	r.flows["status"] = &statusFlow{complaints: f}
	r.complaints = f
}

func (f *complaintFlow) Start(_ context.Context, c *Conv) error {
	c.Leave()
	c.Session.Flow = "complaint"
	c.Session.Set("draft", newDraftID())
	c.Say("complaint.intro")
	f.ask(c, stepCategory)
	return nil
}

// startWith starts a complaint from a request in plain words ("mau lapor jalan rusak
// di depan SD 2"): the category the words name is offered for confirmation, and a
// sentence long enough to describe something is kept as the description's draft.
func (f *complaintFlow) startWith(c *Conv, cat, text string) {
	c.Leave()
	c.Session.Flow = "complaint"
	c.Session.Set("draft", newDraftID())
	if len(strings.Fields(text)) >= draftWords {
		c.Session.Set("desc_draft", text)
	}
	if slices.Contains(f.region.Categories, cat) {
		c.Session.Set("cat_guess", cat)
	}
	c.Say("complaint.intro")
	f.ask(c, stepCategory)
}

// draftWords is how many words a request must have to be kept as a description draft:
// "mau lapor jalan rusak" says only what the category says.
const draftWords = 6

// Resume asks the current step again after an aside (a greeting, a ticket looked up).
func (f *complaintFlow) Resume(c *Conv) {
	c.Say("complaint.resume")
	switch c.Session.Step {
	case stepLocationFar:
		c.Ask("complaint.location_far", c.Opt("loc:keep", "complaint.keep_location"), c.Opt("loc:retry", "complaint.retry_location"))
	case stepEdit:
		f.askEdit(c)
	default:
		f.ask(c, c.Session.Step)
	}
}

// Accepts lets places and photos through at the steps that take them.
func (f *complaintFlow) Accepts(c *Conv, kind bot.Kind) bool {
	switch c.Session.Step {
	case stepLocation, stepLocationFar: // a corrected pin answers "is it right?"
		return kind == bot.KindLocation
	case stepPhotos:
		return kind == bot.KindImage
	}
	return false
}

// ask asks for a step's input and makes it the current step.
func (f *complaintFlow) ask(c *Conv, step string) {
	c.Session.Step = step
	switch step {
	case stepCategory:
		if guess := c.Session.Get("cat_guess"); guess != "" {
			c.Turn.Say(bot.Reply{Text: c.T("complaint.guess_category", "Category", c.T("complaint.category."+guess)),
				Options: []bot.Option{c.Opt("guess:yes", "complaint.guess_yes"), c.Opt("guess:no", "complaint.guess_no")}})
			return
		}
		opts := make([]bot.Option, len(f.region.Categories))
		for i, id := range f.region.Categories {
			opts[i] = c.Opt("cat:"+id, "complaint.category."+id)
		}
		c.Ask("complaint.ask_category", opts...)
	case stepDescription:
		if d := c.Session.Get("desc_draft"); d != "" {
			c.Turn.Say(bot.Reply{Text: c.T("complaint.ask_description_draft", "Description", d),
				Options: []bot.Option{c.Opt("desc:keep", "complaint.use_draft")}})
			return
		}
		c.Say("complaint.ask_description")
	case stepLocation:
		c.Turn.Say(bot.Reply{Text: c.T("complaint.ask_location"), AskLocation: true,
			Options: []bot.Option{c.Opt("loc:skip", "complaint.skip")}})
	case stepPhotos:
		c.Ask("complaint.ask_photos", c.Opt("photos:done", "complaint.continue"))
	case stepConfidential:
		c.Ask("complaint.ask_confidential", c.Opt("conf:yes", "complaint.confidential_yes"), c.Opt("conf:no", "complaint.confidential_no"))
	case stepSummary:
		f.summary(c)
	}
}

// next moves on from a completed step: to the following step, or back to the summary
// when the person was changing one part.
func (f *complaintFlow) next(c *Conv, done string) {
	if c.Session.Get("editing") != "" {
		delete(c.Session.Vars, "editing")
		f.ask(c, stepSummary)
		return
	}
	steps := complaintSteps()
	f.ask(c, steps[slices.Index(steps, done)+1])
}

// Back goes one step back; from the first step it leaves to the menu.
func (f *complaintFlow) Back(_ context.Context, c *Conv) error {
	step := c.Session.Step
	if step == stepLocationFar {
		step = stepLocation
	}
	if step == stepEdit {
		f.ask(c, stepSummary) // back from "which part?" is the summary again
		return nil
	}
	steps := complaintSteps()
	i := slices.Index(steps, step)
	if i <= 0 {
		c.Leave()
		f.menu.ShowMenu(c)
		return nil
	}
	delete(c.Session.Vars, "editing")
	f.ask(c, steps[i-1])
	return nil
}

func (f *complaintFlow) Continue(ctx context.Context, c *Conv, in Input) error {
	switch c.Session.Step {
	case stepCategory:
		return f.category(c, in)
	case stepDescription:
		return f.description(c, in)
	case stepLocation:
		return f.location(c, in)
	case stepLocationFar:
		if in.Kind == bot.KindLocation {
			return f.location(c, in)
		}
		switch in.Option {
		case "loc:keep":
			f.next(c, stepLocation)
		case "loc:retry":
			delete(c.Session.Vars, "lat")
			delete(c.Session.Vars, "lon")
			f.ask(c, stepLocation)
		default:
			f.repeat(c)
		}
		return nil
	case stepPhotos:
		return f.photos(c, in)
	case stepConfidential:
		switch in.Option {
		case "conf:yes", "conf:no":
			c.Session.Set("conf", strconv.FormatBool(in.Option == "conf:yes"))
			f.next(c, stepConfidential)
		default:
			f.repeat(c)
		}
		return nil
	case stepSummary:
		return f.confirm(ctx, c, in)
	case stepEdit:
		field, ok := strings.CutPrefix(in.Option, "edit:")
		if !ok || !slices.Contains(complaintSteps()[:5], field) {
			f.repeat(c)
			return nil
		}
		c.Session.Set("editing", "1")
		f.ask(c, field)
		return nil
	}
	return f.Start(ctx, c) // a step this version does not know: start again
}

// repeat asks the current step again, kindly, after input it cannot use.
func (f *complaintFlow) repeat(c *Conv) {
	c.Say("complaint.pick_one")
	step := c.Session.Step
	if step == stepLocationFar {
		c.Ask("complaint.location_far", c.Opt("loc:keep", "complaint.keep_location"), c.Opt("loc:retry", "complaint.retry_location"))
		return
	}
	if step == stepEdit {
		f.askEdit(c)
		return
	}
	f.ask(c, step)
}

func (f *complaintFlow) category(c *Conv, in Input) error {
	switch in.Option {
	case "guess:yes":
		in.Option = "cat:" + c.Session.Get("cat_guess")
	case "guess:no":
		delete(c.Session.Vars, "cat_guess")
		f.ask(c, stepCategory)
		return nil
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
		f.repeat(c)
		return nil
	}
	c.Session.Set("cat", id)
	delete(c.Session.Vars, "cat_guess")
	f.next(c, stepCategory)
	return nil
}

func (f *complaintFlow) description(c *Conv, in Input) error {
	text := strings.TrimSpace(in.Text)
	if in.Option == "desc:keep" {
		text = c.Session.Get("desc_draft")
	}
	if len(strings.Fields(text)) < 3 || utf8.RuneCountInString(text) < 15 {
		c.Say("complaint.description_short")
		return nil
	}
	c.Session.Set("desc", text)
	delete(c.Session.Vars, "desc_draft")
	f.next(c, stepDescription)
	return nil
}

func (f *complaintFlow) location(c *Conv, in Input) error {
	if in.Kind == bot.KindLocation && in.Location != nil {
		l := *in.Location
		if !validPoint(l) {
			c.Say("complaint.location_invalid")
			return nil
		}
		c.Session.Set("lat", strconv.FormatFloat(l.Lat, 'f', 6, 64))
		c.Session.Set("lon", strconv.FormatFloat(l.Lon, 'f', 6, 64))
		delete(c.Session.Vars, "addr")
		if !f.region.BBox.Contains(l) {
			c.Session.Step = stepLocationFar
			c.Ask("complaint.location_far", c.Opt("loc:keep", "complaint.keep_location"), c.Opt("loc:retry", "complaint.retry_location"))
			return nil
		}
		f.next(c, stepLocation)
		return nil
	}
	if in.Option == "loc:skip" || f.menu.isWord("keywords.skip", in.Text) {
		for _, k := range []string{"lat", "lon", "addr"} {
			delete(c.Session.Vars, k)
		}
		f.next(c, stepLocation)
		return nil
	}
	text := strings.TrimSpace(in.Text)
	if utf8.RuneCountInString(text) < 5 {
		c.Say("complaint.address_short")
		return nil
	}
	c.Session.Set("addr", text)
	delete(c.Session.Vars, "lat")
	delete(c.Session.Vars, "lon")
	f.menu.typedPlace(c, text) // a place of the region: its point, approximately
	f.next(c, stepLocation)
	return nil
}

// validPoint rejects coordinates no phone sends: off the globe, or exactly 0,0 (a
// device without a fix).
func validPoint(l domain.Location) bool {
	return !math.IsNaN(l.Lat) && !math.IsNaN(l.Lon) && l.Lat >= -90 && l.Lat <= 90 &&
		l.Lon >= -180 && l.Lon <= 180 && (l.Lat != 0 || l.Lon != 0)
}

func (f *complaintFlow) photos(c *Conv, in Input) error {
	photos := splitList(c.Session.Get("photos"))
	switch {
	case in.Kind == bot.KindImage && in.Media != nil && in.Media.Ref != "":
		if len(photos) < maxPhotos {
			photos = append(photos, in.Media.Ref)
			c.Session.Set("photos", strings.Join(photos, ","))
		}
		if len(photos) >= maxPhotos {
			c.Say("complaint.photos_full")
			f.next(c, stepPhotos)
			return nil
		}
		c.Turn.Say(bot.Reply{Text: c.T("complaint.photo_received", "N", len(photos)),
			Options: []bot.Option{c.Opt("photos:done", "complaint.continue")}})
		return nil
	case in.Option == "photos:done" || f.menu.isWord("keywords.skip", in.Text):
		f.next(c, stepPhotos)
		return nil
	}
	f.repeat(c)
	return nil
}

func (f *complaintFlow) summary(c *Conv) {
	yesNo := func(b bool) string {
		if b {
			return c.T("complaint.yes")
		}
		return c.T("complaint.no")
	}
	loc := c.Session.Get("addr")
	if lat := c.Session.Get("lat"); lat != "" && loc == "" {
		loc = lat + ", " + c.Session.Get("lon")
	}
	if loc == "" {
		loc = c.T("complaint.none")
	}
	photos := strconv.Itoa(len(splitList(c.Session.Get("photos"))))
	c.Session.Step = stepSummary
	c.Turn.Say(bot.Reply{
		Text: c.T("complaint.summary", "Category", c.T("complaint.category."+c.Session.Get("cat")),
			"Description", c.Session.Get("desc"), "Location", loc, "Photos", photos,
			"Confidential", yesNo(c.Session.Get("conf") == "true")),
		Options: []bot.Option{c.Opt("confirm", "complaint.confirm"), c.Opt("edit", "complaint.edit"), c.Opt("cancel", "complaint.cancel")},
	})
}

func (f *complaintFlow) askEdit(c *Conv) {
	c.Session.Step = stepEdit
	var opts []bot.Option
	for _, field := range complaintSteps()[:5] {
		opts = append(opts, c.Opt("edit:"+field, "complaint.field."+field))
	}
	c.Ask("complaint.edit_which", opts...)
}

func (f *complaintFlow) confirm(ctx context.Context, c *Conv, in Input) error {
	switch in.Option {
	case "edit":
		f.askEdit(c)
		return nil
	case "cancel":
		c.Leave()
		c.Say("cancelled")
		f.menu.ShowMenu(c)
		return nil
	case "confirm":
	default:
		f.repeat(c)
		return nil
	}
	now := f.now()
	cp := &domain.Complaint{
		Status: domain.StatusReceived, Category: c.Session.Get("cat"), Description: c.Session.Get("desc"),
		Address: c.Session.Get("addr"), Photos: splitList(c.Session.Get("photos")),
		Confidential: c.Session.Get("conf") == "true",
		Reporter:     domain.Reporter{Channel: c.Msg.Channel, ChatID: c.Msg.ChatID, Key: c.Msg.Key(), Lang: c.Chosen()},
		CreatedAt:    now, UpdatedAt: now,
		History: []domain.Event{{At: now, Status: domain.StatusReceived, By: "citizen"}},
	}
	if lat, err := strconv.ParseFloat(c.Session.Get("lat"), 64); err == nil {
		lon, _ := strconv.ParseFloat(c.Session.Get("lon"), 64)
		cp.Location = &domain.Location{Lat: lat, Lon: lon}
	}
	// The draft id makes the confirmation idempotent: delivered twice, it files once.
	got, created, err := f.store.Create(ctx, cp, c.Msg.Key()+":"+c.Session.Get("draft"))
	if err != nil {
		return fmt.Errorf("file complaint: %w", err)
	}
	if created {
		f.alerts.NewComplaint(ctx, got)
	}
	c.Leave()
	c.Say("complaint.filed", "ID", got.ID)
	return nil
}

func splitList(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}

func newDraftID() string {
	b := make([]byte, 8)
	rand.Read(b)
	return hex.EncodeToString(b)
}
