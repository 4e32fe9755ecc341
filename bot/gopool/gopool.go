// Package gopool runs functions on goroutines it keeps from one function to the next.
//
// A goroutine starts with a small stack and grows it, by copying, as deep calls need
// it. A function that goes deep (a conversation's turn: the flows, templates, JSON)
// pays for that growth again on every fresh goroutine; on a kept one the stack is
// already grown.
package gopool

import (
	"sync"
	"time"
)

// Pool runs functions on kept goroutines. A kept goroutine ends after it waited Idle
// for work, or at Close. It is safe for concurrent use. Make one with New.
//
// As with the go statement, a function that panics ends the process (recover in it
// when that must not happen), and one that never returns keeps its goroutine.
//
// In a testing/synctest bubble, Close the pool before the bubble's function returns:
// the bubble ends only when its goroutines have, and its clock stops with that
// function.
type Pool struct {
	tasks chan func() // unbuffered: taken only by a goroutine that waits for work
	idle  time.Duration
	stop  chan struct{}
	close sync.Once
}

// New returns a pool whose goroutines end after waiting idle for work.
func New(idle time.Duration) *Pool {
	return &Pool{tasks: make(chan func()), idle: idle, stop: make(chan struct{})}
}

// Go runs f on a goroutine of the pool that waits for work, or on a new one when none
// waits, and returns at once. After Close, f still runs, on a goroutine that ends
// with it.
func (p *Pool) Go(f func()) {
	select {
	case p.tasks <- f:
	default:
		go p.serve(f)
	}
}

// Close ends the goroutines waiting for work, and the others once their function
// returned. It does not wait for them.
func (p *Pool) Close() { p.close.Do(func() { close(p.stop) }) }

// serve runs f, then the functions that come, until none came for p.idle or the pool
// closed.
func (p *Pool) serve(f func()) {
	idle := time.NewTimer(p.idle)
	defer idle.Stop()
	for {
		f()
		f = nil // what the last function held is not kept while waiting
		idle.Reset(p.idle)
		select {
		case f = <-p.tasks:
		case <-idle.C:
			return
		case <-p.stop:
			return
		}
	}
}
