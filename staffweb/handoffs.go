package staffweb

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/layan-id/layan/bot"
	"github.com/layan-id/layan/domain"
)

// Handoffs is the staff side of talking to a person (*flows.Desk). Errors:
// domain.ErrNotFound, domain.ErrHandoffHeld, domain.ErrHandoffEnded.
type Handoffs interface {
	Queue(ctx context.Context, st domain.HandoffState, max int) ([]*domain.Handoff, error)
	Get(ctx context.Context, id string) (*domain.Handoff, error)
	Transcript(ctx context.Context, id string, after int64) ([]bot.Line, int64, error)
	Take(ctx context.Context, id, who string) (*domain.Handoff, error)
	Reply(ctx context.Context, id, who, text string) (*domain.Handoff, error)
	End(ctx context.Context, id, who string) (*domain.Handoff, error)
}

// HandoffsConfig enables the conversation pages. Their live updates come from the
// staff API's streams (GET /api/admin/conversations/stream and …/{id}/stream), which
// let a workspace session in (admin.Config.Session).
type HandoffsConfig struct {
	Desk Handoffs
}

// MaxReply is the longest reply, in characters (what the chat platforms take).
const MaxReply = 4096

// queueMax is the most conversations the queue page lists per state.
const queueMax = 200

func (s *Server) registerHandoffs(mux *http.ServeMux) {
	if s.cfg.Handoffs == nil {
		return
	}
	mux.HandleFunc("GET /staff/conversations", s.page(domain.PermRead, s.queuePage))
	mux.HandleFunc("GET /staff/conversations/list", s.file(domain.PermRead, s.queueList))
	mux.HandleFunc("GET /staff/conversations/{id}", s.page(domain.PermRead, s.conversationPage))
	mux.HandleFunc("POST /staff/conversations/{id}/{action}", s.form(domain.PermConversation, s.conversationAction))
}

type queueData struct {
	Waiting, Active []*domain.Handoff
}

func (s *Server) queue(ctx context.Context) (queueData, error) {
	var d queueData
	var err error
	if d.Waiting, err = s.cfg.Handoffs.Desk.Queue(ctx, domain.HandoffWaiting, queueMax); err != nil {
		return d, err
	}
	d.Active, err = s.cfg.Handoffs.Desk.Queue(ctx, domain.HandoffActive, queueMax)
	return d, err
}

func (s *Server) queuePage(w http.ResponseWriter, r *http.Request, v *visit) {
	d, err := s.queue(r.Context())
	if err != nil {
		s.unavailable(w, r, v, err)
		return
	}
	s.render(w, r, v, http.StatusOK, "conversations", d)
}

// queueList is the queue's lists alone, for the page to show them anew when the
// queue changes.
func (s *Server) queueList(w http.ResponseWriter, r *http.Request, v *visit) {
	d, err := s.queue(r.Context())
	if err != nil {
		s.unavailable(w, r, v, err)
		return
	}
	s.fragment(w, r, v, "conversations", "queue", d)
}

type conversationData struct {
	H       *domain.Handoff
	Lines   []bot.Line
	Last    int64
	Mine    bool // held by this member of staff
	CanTake bool
	CanEnd  bool
	Problem string // a text key
}

func (s *Server) conversationPage(w http.ResponseWriter, r *http.Request, v *visit) {
	s.showConversation(w, r, v, http.StatusOK, "")
}

func (s *Server) showConversation(w http.ResponseWriter, r *http.Request, v *visit, status int, problem string) {
	ctx, id := r.Context(), r.PathValue("id")
	ho, err := s.cfg.Handoffs.Desk.Get(ctx, id)
	if !s.found(w, r, v, err) {
		return
	}
	lines, last, err := s.cfg.Handoffs.Desk.Transcript(ctx, id, 0)
	if err != nil {
		s.unavailable(w, r, v, err)
		return
	}
	may := v.acc.Role.Can(domain.PermConversation)
	d := conversationData{H: ho, Lines: lines, Last: last, Problem: problem,
		Mine:    ho.State == domain.HandoffActive && ho.Assignee == v.acc.Name,
		CanTake: may && ho.State == domain.HandoffWaiting,
		CanEnd:  may && ho.State != domain.HandoffEnded && (ho.State == domain.HandoffWaiting || ho.Assignee == v.acc.Name || v.acc.Role == domain.RoleAdmin),
	}
	s.render(w, r, v, status, "conversation", d)
}

// conversationAction takes a conversation, replies in it (taking it when it waits),
// or ends it. A script's reply (X-Requested-With: fetch) gets 204: the reply shows
// on the live stream; a plain form goes back to the page (303).
func (s *Server) conversationAction(w http.ResponseWriter, r *http.Request, v *visit) {
	ctx, id, action := r.Context(), r.PathValue("id"), r.PathValue("action")
	desk := s.cfg.Handoffs.Desk
	var err error
	switch action {
	case "take":
		_, err = desk.Take(ctx, id, v.acc.Name)
	case "reply":
		text := strings.TrimSpace(strings.ReplaceAll(r.PostForm.Get("text"), "\r\n", "\n"))
		if text == "" || utf8.RuneCountInString(text) > MaxReply {
			s.showConversation(w, r, v, http.StatusBadRequest, "workspace.conversation.problem.text")
			return
		}
		_, err = desk.Reply(ctx, id, v.acc.Name, text)
	case "end":
		_, err = desk.End(ctx, id, v.acc.Name)
	default:
		s.notFound(w, r, v)
		return
	}
	switch {
	case errors.Is(err, domain.ErrHandoffHeld):
		s.showConversation(w, r, v, http.StatusConflict, "workspace.conversation.problem.held")
		return
	case errors.Is(err, domain.ErrHandoffEnded):
		s.showConversation(w, r, v, http.StatusConflict, "workspace.conversation.problem.ended")
		return
	case !s.found(w, r, v, err):
		return
	}
	s.log.InfoContext(ctx, "staff workspace: conversation "+action, "handoff", id, "by", v.acc.Name)
	if r.Header.Get("X-Requested-With") == "fetch" {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	http.Redirect(w, r, "/staff/conversations/"+url.PathEscape(id), http.StatusSeeOther)
}
