package webchat

import (
	"context"

	"github.com/layan-id/layan/bot"
)

// Channel pushes replies to a web chat conversation's inbox, from where the page
// shows them live. A recipient's ChatID is the conversation id (ChatID of its token);
// the page labels its own controls itself, so the language is not needed here.
type Channel struct{ store Store }

var _ bot.Channel = (*Channel)(nil)

// NewChannel returns the web chat channel.
func NewChannel(store Store) *Channel { return &Channel{store: store} }

// Name implements bot.Channel.
func (c *Channel) Name() string { return ChannelName }

// Send implements bot.Channel. A store failure is temporary. A message of a broadcast
// run (the recipient's Template.Run) reaches the inbox once, also when the run sends it again
// (a run at least once whose sender died mid-send).
func (c *Channel) Send(ctx context.Context, to bot.Recipient, r bot.Reply) error {
	var once string
	if t := to.Template; t != nil {
		once = t.Run
	}
	if _, err := c.store.PushOnce(ctx, to.ChatID, once, r); err != nil {
		return &bot.SendError{Kind: bot.ErrTemporary, Err: err}
	}
	return nil
}
