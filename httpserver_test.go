package main

import (
	"bufio"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// pipeListener hands the server in-memory connections, so that a test runs the real
// http.Server in a synctest bubble, on fake time.
type pipeListener struct {
	conns  chan net.Conn
	closed chan struct{}
	once   sync.Once
}

func newPipeListener() *pipeListener {
	return &pipeListener{conns: make(chan net.Conn), closed: make(chan struct{})}
}

func (l *pipeListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.closed:
		return nil, net.ErrClosed
	}
}

func (l *pipeListener) Close() error   { l.once.Do(func() { close(l.closed) }); return nil }
func (l *pipeListener) Addr() net.Addr { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 8080} }

// dial opens a connection to the server and returns the client's end.
func (l *pipeListener) dial() net.Conn {
	srv, cli := net.Pipe()
	l.conns <- srv
	return cli
}

// closedByServer reports whether the server has closed conn (it does not wait: a
// connection still open has nothing to read now).
func closedByServer(t *testing.T, conn net.Conn) bool {
	t.Helper()
	conn.SetReadDeadline(time.Now())
	defer conn.SetReadDeadline(time.Time{})
	_, err := conn.Read(make([]byte, 1))
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return false
	}
	return err != nil
}

// serveOnPipes runs newHTTPServer with h in the bubble until the test ends.
func serveOnPipes(t *testing.T, h http.Handler) *pipeListener {
	ln := newPipeListener()
	srv := newHTTPServer(h, slog.New(slog.DiscardHandler))
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return ln
}

func TestTheHTTPServerCutsSlowClients(t *testing.T) {
	t.Run("headers that trickle in are cut", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			ln := serveOnPipes(t, http.NotFoundHandler())
			conn := ln.dial()
			io.WriteString(conn, "GET /healthz HTTP/1.1\r\nHost: layan\r\n") // and nothing more
			time.Sleep(httpReadHeaderTimeout - time.Second)
			synctest.Wait()
			if closedByServer(t, conn) {
				t.Fatal("the connection was closed before the headers' time was up")
			}
			time.Sleep(2 * time.Second)
			synctest.Wait()
			if !closedByServer(t, conn) {
				t.Errorf("headers unfinished after %v still hold the connection", httpReadHeaderTimeout+time.Second)
			}
		})
	})

	t.Run("a body that trickles in is cut", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			read := make(chan error, 1)
			ln := serveOnPipes(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				_, err := io.ReadAll(r.Body) // a webhook without deadlines of its own
				read <- err
			}))
			conn := ln.dial()
			io.WriteString(conn, "POST /telegram/webhook HTTP/1.1\r\nHost: layan\r\nContent-Length: 100\r\n\r\n{\"update_id\":")
			for range int(httpReadTimeout/time.Second) + 1 {
				time.Sleep(time.Second)
				io.WriteString(conn, "1") // a byte a second: alive, but far too slow
			}
			synctest.Wait()
			select {
			case err := <-read:
				if !errors.Is(err, os.ErrDeadlineExceeded) {
					t.Errorf("reading the slow body ended with %v, want the read timeout", err)
				}
			default:
				t.Errorf("a body still trickling in after %v is still being read", httpReadTimeout+time.Second)
			}
		})
	})

	t.Run("an idle kept-alive connection is closed", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			ln := serveOnPipes(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				io.WriteString(w, "ok")
			}))
			conn := ln.dial()
			io.WriteString(conn, "GET /healthz HTTP/1.1\r\nHost: layan\r\n\r\n")
			res, err := http.ReadResponse(bufio.NewReader(conn), nil)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(res.Body)
			if string(b) != "ok" || strings.EqualFold(res.Header.Get("Connection"), "close") {
				t.Fatalf("answer %q, Connection %q; want ok, kept alive", b, res.Header.Get("Connection"))
			}
			time.Sleep(httpIdleTimeout + time.Second)
			synctest.Wait()
			if !closedByServer(t, conn) {
				t.Errorf("a connection idle for %v is still open", httpIdleTimeout+time.Second)
			}
		})
	})
}
