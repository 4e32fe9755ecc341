package bot

import (
	"errors"
	"sync/atomic"
)

// ErrOutsideWindow is wrapped by the send error (ErrPermanent) of a free-form message
// that a platform only lets through within a time after the person's last message
// (WhatsApp's 24-hour customer service window), when no approved template stands in
// for it. A broadcast counts such a recipient as skipped, not failed.
var ErrOutsideWindow = errors.New("outside the platform's messaging window")

// Template says what a message is for, so that a channel that may not send free-form
// text to a person now (outside WhatsApp's 24-hour window) can send an approved
// template in its place: Purposes names the purposes in order of preference
// ("complaint_status", "broadcast.darurat"), Params the named values a template may
// take ("ticket", "status", "text"). The template goes out once for all the replies
// sent with one Template (Recipient.Template).
type Template struct {
	Purposes []string
	Params   map[string]string
	// Run is the broadcast run a message belongs to, for delivery statuses; "" for none.
	Run  string
	sent atomic.Bool
}

// Claim reports whether the template is still to be sent, and from now on it is not:
// true once per Template.
func (t *Template) Claim() bool { return t.sent.CompareAndSwap(false, true) }

// Unclaim undoes a Claim whose template could not be sent, so that a retry sends it.
func (t *Template) Unclaim() { t.sent.Store(false) }
