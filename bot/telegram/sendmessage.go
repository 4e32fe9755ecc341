package telegram

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"unicode/utf8"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"
	json "github.com/goccy/go-json"
)

// sendMessage calls the Bot API's sendMessage with chat, text and, when not empty,
// keyboard (reply_markup, as JSON). It returns the sent message's id. It is what the
// library's MakeRequest does for this one call, the call every turn makes, written
// out: the form is written at once, not through url.Values, and the answer is read
// into a kept buffer, for its id and its error only. An answer that is not ok is a
// *tgbotapi.Error, as the library gives it; an answer that is not one JSON object of
// at most maxAnswer bytes is a decoding error (the library read the first JSON value
// of any length).
func (c *Channel) sendMessage(ctx context.Context, chat int64, text string, keyboard []byte) (int, error) {
	// The form is not a kept buffer's: the transport may still be reading it when
	// the answer comes (a server that answers before it read the whole request).
	b := make([]byte, 0, 64+len(text)*3/2+len(keyboard)*2)
	b = append(b, "chat_id="...)
	b = strconv.AppendInt(b, chat, 10)
	if text != "" {
		b = append(b, "&text="...)
		b = appendQueryEscape(b, text)
	}
	if len(keyboard) > 0 {
		b = append(b, "&reply_markup="...)
		b = appendQueryEscape(b, string(keyboard))
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, fmt.Sprintf(c.endpoint, c.cfg.Token, "sendMessage"), bytes.NewReader(b))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	buf, _ := c.answers.Get().(*bytes.Buffer)
	if buf == nil {
		buf = new(bytes.Buffer)
	}
	defer func() {
		if buf.Cap() <= 64<<10 { // a rare huge answer's room is not kept
			c.answers.Put(buf)
		}
	}()
	buf.Reset()
	if _, err := buf.ReadFrom(io.LimitReader(resp.Body, maxAnswer)); err != nil {
		return 0, err
	}
	if buf.Len() == 0 {
		return 0, io.ErrUnexpectedEOF
	}
	var a sendAnswer
	if err := json.Unmarshal(buf.Bytes(), &a); err != nil {
		return 0, err
	}
	if !a.OK {
		e := &tgbotapi.Error{Code: a.ErrorCode, Message: a.Description}
		if a.Parameters != nil {
			e.ResponseParameters = *a.Parameters
		}
		return 0, e
	}
	return a.Result.MessageID, nil
}

// maxAnswer is the most of a Bot API answer that is read: a sent message, its text
// (at most 4,096 characters) and its keyboard.
const maxAnswer = 1 << 20

// sendAnswer is what sendMessage reads of the Bot API's answer.
type sendAnswer struct {
	OK          bool                         `json:"ok"`
	ErrorCode   int                          `json:"error_code"`
	Description string                       `json:"description"`
	Parameters  *tgbotapi.ResponseParameters `json:"parameters"`
	Result      struct {
		MessageID int `json:"message_id"`
	} `json:"result"`
}

// appendQueryEscape appends s escaped as url.QueryEscape escapes it.
func appendQueryEscape(b []byte, s string) []byte {
	const hex = "0123456789ABCDEF"
	for i := 0; i < len(s); i++ {
		switch ch := s[i]; {
		case 'a' <= ch && ch <= 'z', 'A' <= ch && ch <= 'Z', '0' <= ch && ch <= '9',
			ch == '-', ch == '_', ch == '.', ch == '~':
			b = append(b, ch)
		case ch == ' ':
			b = append(b, '+')
		default:
			b = append(b, '%', hex[ch>>4], hex[ch&15])
		}
	}
	return b
}

// appendJSONString appends s as a JSON string, as encoding/json writes it (<, > and &
// escaped too; bytes that are not UTF-8 as U+FFFD).
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); {
		ch := s[i]
		if ch < utf8.RuneSelf {
			switch {
			case ch == '"' || ch == '\\':
				b = append(b, '\\', ch)
			case ch == '\n':
				b = append(b, '\\', 'n')
			case ch == '\r':
				b = append(b, '\\', 'r')
			case ch == '\t':
				b = append(b, '\\', 't')
			case ch == '\b':
				b = append(b, '\\', 'b')
			case ch == '\f':
				b = append(b, '\\', 'f')
			case ch < 0x20 || ch == '<' || ch == '>' || ch == '&':
				b = append(b, '\\', 'u', '0', '0', hex[ch>>4], hex[ch&15])
			default:
				b = append(b, ch)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&15])
		default:
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return append(b, '"')
}
