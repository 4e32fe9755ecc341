// Package console lets a person chat with Layan in a terminal: each line typed is a
// message, replies are printed with their options numbered. It is meant for content
// editors and quick checks; it uses the same engine, store and texts as the service.
package console

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/layan-id/layan/bot"
)

// ChannelName is the console's name in bot.Message.Channel.
const ChannelName = "console"

// Run prints intro, then reads lines from in until it ends (Ctrl+D), "/quit" is typed
// or ctx ends, and prints the bot's replies to out. The conversation is the same every
// run ("local"), so it resumes where it stopped.
func Run(ctx context.Context, e bot.MessageHandler, intro string, in io.Reader, out io.Writer) error {
	lines := make(chan string)
	readErr := make(chan error, 1)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(in)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			case <-ctx.Done():
				return
			}
		}
		readErr <- sc.Err()
	}()
	fmt.Fprint(out, intro+"\n> ")
	for n := 1; ; n++ {
		var line string
		select {
		case <-ctx.Done():
			return nil
		case l, ok := <-lines:
			if !ok {
				fmt.Fprintln(out)
				if err := <-readErr; err != nil {
					return fmt.Errorf("console: read input: %w", err)
				}
				return nil
			}
			line = l
		}
		if strings.TrimSpace(line) == "/quit" {
			return nil
		}
		m := bot.Message{
			Channel: ChannelName, ChatID: "local", UserID: "local",
			ID:   strconv.FormatInt(time.Now().UnixNano(), 36) + "-" + strconv.Itoa(n),
			Kind: bot.KindText, Text: line, Time: time.Now(),
		}
		res, err := e.Handle(ctx, m)
		if err != nil {
			return fmt.Errorf("console: %w", err)
		}
		Print(out, res.Replies)
		fmt.Fprint(out, "> ")
	}
}

// Print writes replies as a terminal shows them: text, then options numbered.
func Print(w io.Writer, replies []bot.Reply) {
	for _, r := range replies {
		for _, l := range strings.Split(r.Text, "\n") {
			fmt.Fprintln(w, "  "+l)
		}
		for i, o := range r.Options {
			fmt.Fprintf(w, "    %d. %s\n", i+1, o.Label)
		}
		fmt.Fprintln(w)
	}
}
