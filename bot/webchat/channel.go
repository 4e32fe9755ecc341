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

// Send implements bot.Channel. A store failure is temporary.
func (c *Channel) Send(ctx context.Context, to bot.Recipient, r bot.Reply) error {
	if err := c.store.Push(ctx, to.ChatID, r); err != nil {
		return &bot.SendError{Kind: bot.ErrTemporary, Err: err}
	}
	return nil
}
