package notify

import (
	"context"

	"github.com/layan-id/layan/bot"
	"github.com/layan-id/layan/domain"
)

// TellReporter sends a member of staff's message about a complaint to its reporter,
// introduced in the reporter's language (outside WhatsApp's 24-hour window, as the
// complaint news template).
func (n *Notifier) TellReporter(ctx context.Context, c *domain.Complaint, text string) error {
	to := bot.Recipient{Channel: c.Reporter.Channel, ChatID: c.Reporter.ChatID, Lang: c.Reporter.Lang}
	msg, err := n.cfg.Texts.Text(to.Lang, "complaint.staff_message", map[string]any{"ID": c.ID, "Text": text})
	if err != nil {
		return err
	}
	status, _ := n.cfg.Texts.Text(to.Lang, "complaint.status."+string(c.Status), nil)
	ctx = bot.WithTemplate(ctx, &bot.Template{
		Purposes: []string{"complaint_status"}, Params: map[string]string{"ticket": c.ID, "status": status},
	})
	return n.send(ctx, to, bot.Reply{Text: msg})
}
