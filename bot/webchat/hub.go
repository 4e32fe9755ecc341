package webchat

import "sync"

// hub wakes this process's live streams of a conversation when a reply is pushed to
// it: one store subscription for the process, fanned out here.
type hub struct {
	mu      sync.Mutex
	streams map[string]map[chan struct{}]bool // conversation id → wake channels
	closed  bool
	started chan struct{} // closed once the first subscription is active
	once    sync.Once
}

func newHub() *hub {
	return &hub{streams: map[string]map[chan struct{}]bool{}, started: make(chan struct{})}
}

// join adds a stream of id, unless it already has max; leave removes it. The wake
// channel gets a signal when replies arrive and is closed when the hub closes.
func (h *hub) join(id string, max int) (wake <-chan struct{}, leave func(), ok bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed || len(h.streams[id]) >= max {
		return nil, nil, false
	}
	ch := make(chan struct{}, 1)
	if h.streams[id] == nil {
		h.streams[id] = map[chan struct{}]bool{}
	}
	h.streams[id][ch] = true
	return ch, func() {
		h.mu.Lock()
		defer h.mu.Unlock()
		if h.streams[id][ch] {
			delete(h.streams[id], ch)
			if len(h.streams[id]) == 0 {
				delete(h.streams, id)
			}
		}
	}, true
}

// wake signals every stream of id (a signal already waiting is enough).
func (h *hub) wake(id string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for ch := range h.streams[id] {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
}

// ready marks the subscription active (for tests that must not push before it is).
func (h *hub) ready() { h.once.Do(func() { close(h.started) }) }

// close ends every stream and refuses new ones.
func (h *hub) close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.closed = true
	for id, chans := range h.streams {
		for ch := range chans {
			close(ch)
		}
		delete(h.streams, id)
	}
}
