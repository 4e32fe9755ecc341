package store

import (
	"io"
	"net"
	"os"
	"sync"
	"time"
)

// memConnPair returns the two ends of an in-memory connection whose writes never block:
// each direction buffers without bound. net.Pipe would deadlock a pipeline, because
// miniredis writes each reply before it reads the next command while go-redis writes
// the whole pipeline before it reads a reply; a socket avoids that only thanks to its
// kernel buffers. Read deadlines are honoured (go-redis sets them from contexts).
func memConnPair() (net.Conn, net.Conn) {
	a, b := newHalfPipe(), newHalfPipe()
	return &memConn{in: a, out: b}, &memConn{in: b, out: a}
}

// halfPipe is one direction of a memConn.
type halfPipe struct {
	mu       sync.Mutex
	cond     *sync.Cond
	buf      []byte
	closed   bool
	deadline time.Time // read deadline of the reading end
}

func newHalfPipe() *halfPipe {
	h := &halfPipe{}
	h.cond = sync.NewCond(&h.mu)
	return h
}

type memConn struct{ in, out *halfPipe }

func (c *memConn) Read(p []byte) (int, error) {
	h := c.in
	h.mu.Lock()
	defer h.mu.Unlock()
	for len(h.buf) == 0 {
		if h.closed {
			return 0, io.EOF
		}
		if !h.deadline.IsZero() {
			wait := time.Until(h.deadline)
			if wait <= 0 {
				return 0, os.ErrDeadlineExceeded
			}
			t := time.AfterFunc(wait, func() {
				h.mu.Lock()
				h.cond.Broadcast()
				h.mu.Unlock()
			})
			h.cond.Wait()
			t.Stop()
			continue
		}
		h.cond.Wait()
	}
	n := copy(p, h.buf)
	h.buf = h.buf[n:]
	if len(h.buf) == 0 {
		h.buf = nil // let a large pipeline's buffer go
	}
	return n, nil
}

func (c *memConn) Write(p []byte) (int, error) {
	h := c.out
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return 0, io.ErrClosedPipe
	}
	h.buf = append(h.buf, p...)
	h.cond.Broadcast()
	return len(p), nil
}

func (c *memConn) Close() error {
	for _, h := range []*halfPipe{c.in, c.out} {
		h.mu.Lock()
		h.closed = true
		h.cond.Broadcast()
		h.mu.Unlock()
	}
	return nil
}

func (c *memConn) SetReadDeadline(t time.Time) error {
	c.in.mu.Lock()
	c.in.deadline = t
	c.in.cond.Broadcast()
	c.in.mu.Unlock()
	return nil
}

func (c *memConn) SetDeadline(t time.Time) error { return c.SetReadDeadline(t) }

// SetWriteDeadline does nothing: writes never block.
func (c *memConn) SetWriteDeadline(time.Time) error { return nil }

func (c *memConn) LocalAddr() net.Addr  { return memAddr{} }
func (c *memConn) RemoteAddr() net.Addr { return memAddr{} }

type memAddr struct{}

func (memAddr) Network() string { return "memory" }
func (memAddr) String() string  { return "embedded" }
