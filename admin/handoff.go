package admin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/layan-id/layan/bot"
	"github.com/layan-id/layan/bot/httpjson"
	"github.com/layan-id/layan/domain"
)

// Handoffs is the staff side of talking to a person (*flows.Desk): the queue,
// taking a conversation (one staff member at a time, across replicas), replying,
// handing it on, ending it. Errors: domain.ErrNotFound, domain.ErrHandoffHeld,
// domain.ErrHandoffEnded, and EmptyReply for a reply without text.
type Handoffs interface {
	Queue(ctx context.Context, st domain.HandoffState, max int) ([]*domain.Handoff, error)
	Get(ctx context.Context, id string) (*domain.Handoff, error)
	Transcript(ctx context.Context, id string, after int64) ([]bot.Line, int64, error)
	Take(ctx context.Context, id, who string) (*domain.Handoff, error)
	Reply(ctx context.Context, id, who, text string) (*domain.Handoff, error)
	// Photo sends a photo already kept in the media store (its name) to the person.
	Photo(ctx context.Context, id, who, name string) (*domain.Handoff, error)
	Assign(ctx context.Context, id, to string) (*domain.Handoff, error)
	End(ctx context.Context, id, who string) (*domain.Handoff, error)
	Canned(lang string) []domain.Canned
}

// HandoffConfig enables the conversation routes.
type HandoffConfig struct {
	Desk Handoffs
	// Events, when set, makes the live streams (server-sent events) available: the
	// handoff events of every replica as they happen (*store.Handoffs.Events).
	Events func(ctx context.Context) (<-chan domain.HandoffEvent, func() error, error)
	// EmptyReply is the error (errors.Is) the desk returns for a reply without text.
	EmptyReply error
	// Media keeps the photos staff send (*store.Media); nil: POST …/photos is 404.
	Media PhotoStore
}

// PhotoStore keeps photos as the web uploads are kept: Save judges the file by its
// content (a JPEG, PNG or WebP header that decodes, size and pixel limits) and
// refuses with an error wrapping bot.ErrFileRefused (bot.ErrMediaFull past the
// quota); Full reports the quota reached before a body is read.
type PhotoStore interface {
	Save(r io.Reader) (name, mime string, err error)
	Full() bool
}

// QueueMax is the most conversations one list answers.
const QueueMax = 200

// StreamEventTimeout bounds the writing of one event of a live stream; a stream has
// no overall deadline. KeepAlive is the pause between comments on a quiet stream.
const (
	StreamEventTimeout = 30 * time.Second
	StreamKeepAlive    = 25 * time.Second
)

// EnableHandoffs adds the conversation routes to the API (call before Register).
func (s *Server) EnableHandoffs(cfg HandoffConfig) { s.handoffs = &cfg }

func (s *Server) registerHandoffs(mux *http.ServeMux) {
	if s.handoffs == nil {
		return
	}
	mux.HandleFunc("GET /api/admin/conversations", s.authorized(domain.PermRead, s.listConversations))
	mux.HandleFunc("GET /api/admin/conversations/{id}", s.authorized(domain.PermRead, s.getConversation))
	mux.HandleFunc("GET /api/admin/conversations/{id}/messages", s.authorized(domain.PermRead, s.conversationMessages))
	mux.HandleFunc("POST /api/admin/conversations/{id}/messages", s.authorized(domain.PermConversation, s.replyConversation))
	mux.HandleFunc("POST /api/admin/conversations/{id}/photos", s.authorized(domain.PermConversation, s.photoConversation))
	mux.HandleFunc("POST /api/admin/conversations/{id}/{action}", s.authorized(domain.PermConversation, s.conversationAction))
	mux.HandleFunc("GET /api/admin/canned", s.authorized(domain.PermRead, s.cannedReplies))
	if s.handoffs.Events != nil {
		mux.HandleFunc("GET /api/admin/conversations/stream", s.authorized(domain.PermRead, s.streamQueue))
		mux.HandleFunc("GET /api/admin/conversations/{id}/stream", s.authorized(domain.PermRead, s.streamConversation))
	}
}

type conversationList struct {
	Conversations []*domain.Handoff `json:"conversations"`
}

func (s *Server) listConversations(w http.ResponseWriter, r *http.Request) {
	st := domain.HandoffState(r.URL.Query().Get("state"))
	if st == "" {
		st = domain.HandoffWaiting
	}
	if !slices.Contains(domain.HandoffStates(), st) {
		httpjson.Error(w, http.StatusBadRequest, "state must be one of: waiting, active, ended")
		return
	}
	list, err := s.handoffs.Desk.Queue(r.Context(), st, QueueMax)
	if err != nil {
		s.unavailable(w, r, err)
		return
	}
	if list == nil {
		list = []*domain.Handoff{}
	}
	httpjson.Write(w, http.StatusOK, conversationList{Conversations: list})
}

func (s *Server) getConversation(w http.ResponseWriter, r *http.Request) {
	ho, err := s.handoffs.Desk.Get(r.Context(), r.PathValue("id"))
	if s.handoffError(w, r, err) {
		return
	}
	httpjson.Write(w, http.StatusOK, ho)
}

type messageList struct {
	Messages []bot.Line `json:"messages"`
	Last     int64      `json:"last"` // the number of the last message: ?after= this gives only newer ones
}

func (s *Server) conversationMessages(w http.ResponseWriter, r *http.Request) {
	after, ok := afterParam(w, r)
	if !ok {
		return
	}
	lines, last, err := s.handoffs.Desk.Transcript(r.Context(), r.PathValue("id"), after)
	if s.handoffError(w, r, err) {
		return
	}
	if lines == nil {
		lines = []bot.Line{}
	}
	httpjson.Write(w, http.StatusOK, messageList{Messages: lines, Last: last})
}

func afterParam(w http.ResponseWriter, r *http.Request) (int64, bool) {
	v := r.URL.Query().Get("after")
	if v == "" {
		return 0, true
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		httpjson.Error(w, http.StatusBadRequest, "after must be a message number (0 or more)")
		return 0, false
	}
	return n, true
}

type replyRequest struct {
	Text   string `json:"text"`
	Canned string `json:"canned"` // the id of a canned reply, in the person's language
	By     string `json:"by"`
}

// replyConversation sends staff's words to the person: taken first when the
// conversation waits.
func (s *Server) replyConversation(w http.ResponseWriter, r *http.Request) {
	var req replyRequest
	if !readJSON(w, r, &req) {
		return
	}
	by, ok := staffName(w, r, req.By)
	if !ok {
		return
	}
	ctx, id := r.Context(), r.PathValue("id")
	text := req.Text
	if req.Canned != "" {
		ho, err := s.handoffs.Desk.Get(ctx, id)
		if s.handoffError(w, r, err) {
			return
		}
		found := false
		for _, c := range s.handoffs.Desk.Canned(ho.Lang) {
			if c.ID == req.Canned {
				text, found = c.Text, true
			}
		}
		if !found {
			httpjson.Error(w, http.StatusBadRequest, fmt.Sprintf("no canned reply %q", req.Canned))
			return
		}
	}
	ho, err := s.handoffs.Desk.Reply(ctx, id, by, text)
	if s.handoffError(w, r, err) {
		return
	}
	s.log.InfoContext(ctx, "admin API: conversation answered", "handoff", id, "by", by)
	httpjson.Write(w, http.StatusOK, ho)
}

// photoConversation sends a photo (the raw body, at most bot.MaxPhotoSize, judged by
// its content) to the person: POST /api/admin/conversations/{id}/photos?by=Budi. A
// file that is not a photo is 415, too large 413, no room for photos 507.
func (s *Server) photoConversation(w http.ResponseWriter, r *http.Request) {
	if s.handoffs.Media == nil {
		httpjson.Error(w, http.StatusNotFound, "photos are not enabled")
		return
	}
	by, ok := staffName(w, r, r.URL.Query().Get("by"))
	if !ok {
		return
	}
	ctx, id := r.Context(), r.PathValue("id")
	// Who may send comes first: a conversation that is not this staff member's to
	// answer never has its photo read.
	ho, err := s.handoffs.Desk.Get(ctx, id)
	if s.handoffError(w, r, err) {
		return
	}
	switch {
	case ho.State == domain.HandoffEnded:
		s.handoffError(w, r, domain.ErrHandoffEnded)
		return
	case ho.State == domain.HandoffActive && ho.Assignee != by:
		s.handoffError(w, r, fmt.Errorf("%w: %s", domain.ErrHandoffHeld, ho.Assignee))
		return
	}
	if s.handoffs.Media.Full() {
		s.log.ErrorContext(ctx, "admin API: photo refused, DATA_DIR/media is full (raise MEDIA_QUOTA or free space)")
		httpjson.Error(w, http.StatusInsufficientStorage, "there is no room for photos now")
		return
	}
	name, _, err := s.handoffs.Media.Save(http.MaxBytesReader(w, r.Body, bot.MaxPhotoSize+1))
	var tooBig *http.MaxBytesError
	switch {
	case errors.Is(err, bot.ErrMediaFull):
		httpjson.Error(w, http.StatusInsufficientStorage, "there is no room for photos now")
		return
	case errors.As(err, &tooBig) || errors.Is(err, bot.ErrFileRefused) && r.ContentLength > bot.MaxPhotoSize:
		httpjson.Error(w, http.StatusRequestEntityTooLarge, "a photo is at most 10 MB")
		return
	case errors.Is(err, bot.ErrFileRefused):
		httpjson.Error(w, http.StatusUnsupportedMediaType, "the body must be a JPEG, PNG or WebP photo of at most 10 MB and 12,000 pixels a side")
		return
	case err != nil:
		s.unavailable(w, r, err)
		return
	}
	ho, err = s.handoffs.Desk.Photo(ctx, id, by, name)
	if s.handoffError(w, r, err) {
		return
	}
	s.log.InfoContext(ctx, "admin API: conversation photo sent", "handoff", id, "by", by)
	httpjson.Write(w, http.StatusOK, ho)
}

type actionRequest struct {
	By string `json:"by"`
	To string `json:"to"`
}

// conversationAction takes, assigns (hands on, or "" back to the queue) or ends a
// conversation.
func (s *Server) conversationAction(w http.ResponseWriter, r *http.Request) {
	var req actionRequest
	if r.ContentLength != 0 && !readJSON(w, r, &req) {
		return
	}
	by, ok := staffName(w, r, req.By)
	if !ok {
		return
	}
	ctx, id, action := r.Context(), r.PathValue("id"), r.PathValue("action")
	var ho *domain.Handoff
	var err error
	switch action {
	case "take":
		ho, err = s.handoffs.Desk.Take(ctx, id, by)
	case "assign":
		to := strings.TrimSpace(req.To)
		if msg := checkBy(to); msg != "" {
			httpjson.Error(w, http.StatusBadRequest, strings.Replace(msg, `"by"`, `"to"`, 1))
			return
		}
		ho, err = s.handoffs.Desk.Assign(ctx, id, to)
	case "end":
		ho, err = s.handoffs.Desk.End(ctx, id, by)
	default:
		httpjson.Error(w, http.StatusNotFound, "no such action: take, assign, end, messages")
		return
	}
	if s.handoffError(w, r, err) {
		return
	}
	s.log.InfoContext(ctx, "admin API: conversation "+action, "handoff", id, "by", by)
	httpjson.Write(w, http.StatusOK, ho)
}

func (s *Server) cannedReplies(w http.ResponseWriter, r *http.Request) {
	list := s.handoffs.Desk.Canned(r.URL.Query().Get("lang"))
	if list == nil {
		list = []domain.Canned{}
	}
	httpjson.Write(w, http.StatusOK, map[string][]domain.Canned{"canned": list})
}

// staffName is the staff member a request names ("by"), DefaultBy when none.
func staffName(w http.ResponseWriter, r *http.Request, by string) (string, bool) {
	if acc := account(r); acc.Name != DefaultBy {
		return acc.Name, true // a staff account is recorded by its name, whatever "by" says
	}
	by = strings.TrimSpace(by)
	if by == "" {
		by = DefaultBy
	}
	if msg := checkBy(by); msg != "" {
		httpjson.Error(w, http.StatusBadRequest, msg)
		return "", false
	}
	return by, true
}

// handoffError writes the answer for a desk error and reports whether there was one.
func (s *Server) handoffError(w http.ResponseWriter, r *http.Request, err error) bool {
	switch {
	case err == nil:
		return false
	case errors.Is(err, domain.ErrNotFound):
		httpjson.Error(w, http.StatusNotFound, "conversation not found")
	case errors.Is(err, domain.ErrHandoffHeld):
		_, holder, _ := strings.Cut(err.Error(), domain.ErrHandoffHeld.Error()+": ")
		httpjson.Error(w, http.StatusConflict, "another staff member holds this conversation: "+holder)
	case errors.Is(err, domain.ErrHandoffEnded):
		httpjson.Error(w, http.StatusConflict, "the conversation has ended")
	case s.handoffs.EmptyReply != nil && errors.Is(err, s.handoffs.EmptyReply):
		httpjson.Error(w, http.StatusBadRequest, `"text" (or "canned") is required, at most 4096 characters`)
	default:
		s.unavailable(w, r, err)
	}
	return true
}

// sse starts a live stream: events are written with event; each must leave within
// StreamEventTimeout.
type sse struct {
	w  http.ResponseWriter
	rc *http.ResponseController
}

func startSSE(w http.ResponseWriter) *sse {
	rc := http.NewResponseController(w)
	rc.SetWriteDeadline(time.Now().Add(StreamEventTimeout))
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusOK)
	rc.Flush()
	return &sse{w: w, rc: rc}
}

func (e *sse) send(name, id string, v any) error {
	e.rc.SetWriteDeadline(time.Now().Add(StreamEventTimeout))
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	if id != "" {
		fmt.Fprintf(e.w, "id: %s\n", id)
	}
	if _, err := fmt.Fprintf(e.w, "event: %s\ndata: %s\n\n", name, b); err != nil {
		return err
	}
	return e.rc.Flush()
}

func (e *sse) keepAlive() error {
	e.rc.SetWriteDeadline(time.Now().Add(StreamEventTimeout))
	if _, err := fmt.Fprint(e.w, ": keep-alive\n\n"); err != nil {
		return err
	}
	return e.rc.Flush()
}

// follow hands each event to on, and keeps the connection alive between events,
// until the client leaves, the events end, or on or a write fails.
func (e *sse) follow(ctx context.Context, events <-chan domain.HandoffEvent, on func(domain.HandoffEvent) error) {
	tick := time.NewTicker(StreamKeepAlive)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case ev, ok := <-events:
			if !ok || on(ev) != nil {
				return
			}
		case <-tick.C:
			if e.keepAlive() != nil {
				return
			}
		}
	}
}

// streamQueue is a live stream of the queue: an event "queue" with the waiting and
// active conversations at once and after every change.
func (s *Server) streamQueue(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	events, stop, err := s.handoffs.Events(ctx)
	if err != nil {
		s.unavailable(w, r, err)
		return
	}
	defer stop()
	stream := startSSE(w)
	snapshot := func() error {
		var all []*domain.Handoff
		for _, st := range []domain.HandoffState{domain.HandoffWaiting, domain.HandoffActive} {
			list, err := s.handoffs.Desk.Queue(ctx, st, QueueMax)
			if err != nil {
				return err
			}
			all = append(all, list...)
		}
		if all == nil {
			all = []*domain.Handoff{}
		}
		return stream.send("queue", "", conversationList{Conversations: all})
	}
	if err := snapshot(); err != nil {
		return
	}
	stream.follow(ctx, events, func(e domain.HandoffEvent) error {
		if e.Kind == "line" {
			return nil // a new message changes the list only by its last text
		}
		return snapshot()
	})
}

// streamConversation is a live stream of one conversation's messages: an event
// "message" (id: its number) for every message after Last-Event-ID (or ?after=,
// else from the start), then for each new one, and "state" when it is taken,
// handed on or ended.
func (s *Server) streamConversation(w http.ResponseWriter, r *http.Request) {
	ctx, id := r.Context(), r.PathValue("id")
	after, ok := afterParam(w, r)
	if !ok {
		return
	}
	if v := r.Header.Get("Last-Event-ID"); v != "" {
		if n, err := strconv.ParseInt(v, 10, 64); err == nil && n >= 0 {
			after = n
		}
	}
	if _, err := s.handoffs.Desk.Get(ctx, id); s.handoffError(w, r, err) {
		return
	}
	events, stop, err := s.handoffs.Events(ctx)
	if err != nil {
		s.unavailable(w, r, err)
		return
	}
	defer stop()
	stream := startSSE(w)
	catchUp := func() error {
		lines, last, err := s.handoffs.Desk.Transcript(ctx, id, after)
		if err != nil {
			return err
		}
		first := last - int64(len(lines)) + 1
		for i, l := range lines {
			if err := stream.send("message", strconv.FormatInt(first+int64(i), 10), l); err != nil {
				return err
			}
		}
		after = last
		return nil
	}
	if catchUp() != nil {
		return
	}
	stream.follow(ctx, events, func(e domain.HandoffEvent) error {
		switch {
		case e.ID != id:
			return nil
		case e.Kind == "line":
			return catchUp()
		}
		ho, err := s.handoffs.Desk.Get(ctx, id)
		if err != nil {
			return err // erased
		}
		return stream.send("state", "", ho)
	})
}
