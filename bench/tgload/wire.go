package main

// HTTP/1.1 written by hand for tgload's two ends, the people posting updates and the
// fake Bot API: a request and an answer each in one write, no goroutines beside the
// connection's own. tgload shares the machine with the bot it measures, and with
// net/http both ends cost it about twice the CPU per update (a real deployment never
// carries that work: Telegram's servers do). It reads what the two bots send (bodies
// with Content-Length or chunked, keep-alive, Connection: close) and nothing more.

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// message is a request or an answer as read off a connection.
type message struct {
	first string // the request line or the status line
	body  []byte
	close bool // the other side asked to close the connection after this one
	json  bool // Content-Type: application/json
}

// readMessage reads one HTTP/1.1 message from r, its body into buf's room.
func readMessage(r *bufio.Reader, buf []byte) (message, error) {
	var m message
	line, err := readLine(r)
	if err != nil {
		return m, err
	}
	m.first = line
	length, chunked := -1, false
	for {
		h, err := readLine(r)
		if err != nil {
			return m, err
		}
		if h == "" {
			break
		}
		k, v, ok := strings.Cut(h, ":")
		if !ok {
			return m, fmt.Errorf("malformed header %q", h)
		}
		v = strings.TrimSpace(v)
		switch {
		case strings.EqualFold(k, "Content-Length"):
			if length, err = strconv.Atoi(v); err != nil || length < 0 {
				return m, fmt.Errorf("bad Content-Length %q", v)
			}
		case strings.EqualFold(k, "Transfer-Encoding"):
			chunked = strings.EqualFold(v, "chunked")
		case strings.EqualFold(k, "Connection"):
			m.close = strings.EqualFold(v, "close")
		case strings.EqualFold(k, "Content-Type"):
			m.json = strings.HasPrefix(v, "application/json")
		}
	}
	m.body = buf[:0] // no body: the room is kept for the next message
	switch {
	case chunked:
		for {
			size, err := readLine(r)
			if err != nil {
				return m, err
			}
			size, _, _ = strings.Cut(size, ";")
			n, err := strconv.ParseInt(strings.TrimSpace(size), 16, 32)
			if err != nil || n < 0 {
				return m, fmt.Errorf("bad chunk size %q", size)
			}
			if n == 0 {
				for { // trailers, up to the blank line
					if t, err := readLine(r); err != nil || t == "" {
						return m, err
					}
				}
			}
			start := len(m.body)
			m.body = append(m.body, make([]byte, n)...)
			if _, err := io.ReadFull(r, m.body[start:]); err != nil {
				return m, err
			}
			if _, err := readLine(r); err != nil {
				return m, err
			}
		}
	case length > 0:
		if cap(buf) < length {
			buf = make([]byte, length)
		}
		m.body = buf[:length]
		_, err = io.ReadFull(r, m.body)
		return m, err
	}
	return m, nil
}

// readLine reads a line without its CRLF.
func readLine(r *bufio.Reader) (string, error) {
	line, err := r.ReadSlice('\n')
	if err != nil {
		if errors.Is(err, bufio.ErrBufferFull) {
			return "", errors.New("header line too long")
		}
		return "", err
	}
	return string(bytes.TrimRight(line, "\r\n")), nil
}

// poster posts updates to a webhook over one kept connection: one person's, who
// waits for each answer before the next update.
type poster struct {
	addr, path string
	conn       net.Conn
	r          *bufio.Reader
	req, buf   []byte
}

func newPoster(webhook string) (*poster, error) {
	u, err := url.Parse(webhook)
	if err != nil {
		return nil, err
	}
	return &poster{addr: u.Host, path: u.RequestURI(), buf: make([]byte, 0, 512)}, nil
}

// post sends body and returns the answer's status code and body (valid until the
// next post).
func (p *poster) post(body []byte) (int, []byte, error) {
	for attempt := 0; ; attempt++ {
		kept := p.conn != nil
		status, reply, unanswered, err := p.try(body)
		if err == nil || !kept || !unanswered || attempt > 0 {
			return status, reply, err
		}
		// A kept connection the bot had closed, before any of an answer came: once
		// more on a new one (as net/http retries).
	}
}

// try posts body once; on an error the connection is closed, and unanswered says
// that the connection ended before the first byte of an answer.
func (p *poster) try(body []byte) (status int, reply []byte, unanswered bool, err error) {
	if p.conn == nil {
		c, err := net.DialTimeout("tcp", p.addr, 5*time.Second)
		if err != nil {
			return 0, nil, false, err
		}
		p.conn, p.r = c, bufio.NewReaderSize(c, 4096)
	}
	p.req = append(p.req[:0], "POST "...)
	p.req = append(p.req, p.path...)
	p.req = append(p.req, " HTTP/1.1\r\nHost: "...)
	p.req = append(p.req, p.addr...)
	p.req = append(p.req, "\r\nContent-Type: application/json\r\nX-Telegram-Bot-Api-Secret-Token: "...)
	p.req = append(p.req, secret...)
	p.req = append(p.req, "\r\nContent-Length: "...)
	p.req = strconv.AppendInt(p.req, int64(len(body)), 10)
	p.req = append(p.req, "\r\n\r\n"...)
	p.req = append(p.req, body...)
	if _, err := p.conn.Write(p.req); err != nil {
		p.close()
		return 0, nil, true, err
	}
	if _, err := p.r.Peek(1); err != nil {
		p.close()
		return 0, nil, true, err
	}
	m, err := readMessage(p.r, p.buf)
	if err != nil {
		p.close()
		return 0, nil, false, err
	}
	p.buf = m.body[:0]
	// "HTTP/1.1 200 OK"
	_, code, _ := strings.Cut(m.first, " ")
	if status, err = strconv.Atoi(code[:min(3, len(code))]); err != nil {
		p.close()
		return 0, nil, false, fmt.Errorf("malformed status line %q", m.first)
	}
	if m.close {
		p.close()
	}
	return status, m.body, false, nil
}

func (p *poster) close() {
	if p.conn != nil {
		p.conn.Close()
		p.conn = nil
	}
}

// serve answers the Bot API calls arriving on ln: each connection read in its own
// goroutine, call after call.
func (f *fakeAPI) serve(ln net.Listener) {
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		go f.serveConn(c)
	}
}

func (f *fakeAPI) serveConn(c net.Conn) {
	defer c.Close()
	r := bufio.NewReaderSize(c, 8192)
	var buf, out []byte
	for {
		m, err := readMessage(r, buf)
		if err != nil {
			return
		}
		buf = m.body[:0]
		// "POST /bot<token>/<method> HTTP/1.1"
		_, target, _ := strings.Cut(m.first, " ")
		target, _, _ = strings.Cut(target, " ")
		target, query, _ := strings.Cut(target, "?")
		_, method, ok := strings.Cut(strings.TrimPrefix(target, "/bot"), "/")
		status, answer := "200 OK", []byte(nil)
		if !ok {
			status, answer = "404 Not Found", []byte(`{"ok":false,"error_code":404,"description":"Not Found"}`)
		} else {
			var p params
			if p, err = readParams(m.body, m.json, query); err != nil {
				status, answer = "400 Bad Request", []byte(`{"ok":false,"error_code":400,"description":"Bad Request"}`)
			} else {
				answer = f.call(method, p)
			}
		}
		out = append(out[:0], "HTTP/1.1 "...)
		out = append(out, status...)
		out = append(out, "\r\nContent-Type: application/json\r\nContent-Length: "...)
		out = strconv.AppendInt(out, int64(len(answer)), 10)
		out = append(out, "\r\n\r\n"...)
		out = append(out, answer...)
		if _, err := c.Write(out); err != nil || m.close {
			return
		}
	}
}
