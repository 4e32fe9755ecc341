package telegram

import "net/url"

// redactedError is an error whose text had the bot token replaced with "<token>". It
// still unwraps to the cause (with any *url.Error's URL redacted too), so errors.As
// finds a *tgbotapi.Error and errors.Is finds context.Canceled.
type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }

// redact returns err with the token (plain or URL-escaped) removed from its text and
// from the URL of a *url.Error, the error the HTTP client returns with the request
// URL, which holds the token, in it. nil stays nil.
func (c *Channel) redact(err error) error {
	if err == nil {
		return nil
	}
	if _, ok := err.(*redactedError); ok {
		return err
	}
	cause := err
	if ue, ok := err.(*url.Error); ok {
		cause = &url.Error{Op: ue.Op, URL: c.redactor.Replace(ue.URL), Err: ue.Err}
	}
	return &redactedError{msg: c.redactor.Replace(err.Error()), err: cause}
}
