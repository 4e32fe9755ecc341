package whatsapp

import (
	"context"
	"fmt"
	"log/slog"
	"regexp"

	waLog "go.mau.fi/whatsmeow/util/log"

	"github.com/layan-id/layan/bot"
)

// longDigits finds what may be a phone number or a LID in a log line or an error:
// any run of seven or more digits (JIDs print as "6281234567890@s.whatsapp.net",
// "6281234567890:12@s.whatsapp.net", "123456789012345@lid").
var longDigits = regexp.MustCompile(`\+?[0-9]{7,}`)

// redact replaces every phone number or LID in s with "#" and its pseudonym, so log
// lines about one person can still be told apart.
func redact(s string, p bot.Pseudonymizer) string {
	return longDigits.ReplaceAllStringFunc(s, func(d string) string { return "#" + p.Of(ChannelName+":"+d) })
}

// redactedError has the text of an error with phone numbers redacted and unwraps to
// the original, so errors.Is and errors.As still see whatsmeow's error values.
type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }

func redactErr(err error, p bot.Pseudonymizer) error {
	if err == nil {
		return nil
	}
	return &redactedError{msg: redact(err.Error(), p), err: err}
}

// NewLogger adapts a slog.Logger to whatsmeow's logger. whatsmeow's warnings and
// errors are logged at their level; its info messages, which name phone numbers and
// describe every connection step, at Debug; its debug messages (whole protocol
// frames) not at all. Phone numbers and LIDs in every line are pseudonymised.
func NewLogger(log *slog.Logger, pseudo bot.Pseudonymizer) waLog.Logger {
	if log == nil {
		log = slog.Default()
	}
	if pseudo == nil {
		pseudo = bot.NewPseudonymizer(nil)
	}
	return &waLogger{log: log, module: "whatsmeow", pseudo: pseudo}
}

type waLogger struct {
	log    *slog.Logger
	module string
	pseudo bot.Pseudonymizer
}

func (l *waLogger) Errorf(msg string, args ...any) { l.output(slog.LevelError, msg, args) }
func (l *waLogger) Warnf(msg string, args ...any)  { l.output(slog.LevelWarn, msg, args) }
func (l *waLogger) Infof(msg string, args ...any)  { l.output(slog.LevelDebug, msg, args) }
func (l *waLogger) Debugf(string, ...any)          {}

func (l *waLogger) Sub(module string) waLog.Logger {
	return &waLogger{log: l.log, module: l.module + "/" + module, pseudo: l.pseudo}
}

func (l *waLogger) output(level slog.Level, msg string, args []any) {
	ctx := context.Background()
	if !l.log.Enabled(ctx, level) {
		return
	}
	l.log.Log(ctx, level, redact(fmt.Sprintf(msg, args...), l.pseudo), "module", l.module)
}
