package miniredis

import (
	"container/heap"
	"time"
)

// ttls keeps the time to live of a database's keys as deadlines on the database's own
// clock, which fastForward moves, with a heap of the deadlines: moving the clock
// visits only the keys that expire. (Layan: upstream keeps remaining durations in a
// map and subtracts from every entry on each fastForward, which at a million keys
// costs half a second per clock tick.)
type ttls struct {
	clock time.Duration            // how far fastForward has moved this database
	at    map[string]time.Duration // key → deadline on clock
	heap  ttlHeap                  // deadlines; may hold stale entries of changed keys
}

type ttlEntry struct {
	at  time.Duration
	key string
}

type ttlHeap []ttlEntry

func (h ttlHeap) Len() int            { return len(h) }
func (h ttlHeap) Less(i, j int) bool  { return h[i].at < h[j].at }
func (h ttlHeap) Swap(i, j int)       { h[i], h[j] = h[j], h[i] }
func (h *ttlHeap) Push(x interface{}) { *h = append(*h, x.(ttlEntry)) }
func (h *ttlHeap) Pop() interface{} {
	old := *h
	e := old[len(old)-1]
	*h = old[:len(old)-1]
	return e
}

func newTTLs() *ttls {
	return &ttls{at: map[string]time.Duration{}}
}

// get returns the time left for key, and whether it has a TTL.
func (t *ttls) get(key string) (time.Duration, bool) {
	at, ok := t.at[key]
	return at - t.clock, ok
}

// value returns the time left for key, 0 if it has no TTL.
func (t *ttls) value(key string) time.Duration {
	d, _ := t.get(key)
	return d
}

// set gives key d to live from now.
func (t *ttls) set(key string, d time.Duration) {
	at := t.clock + d
	t.at[key] = at
	heap.Push(&t.heap, ttlEntry{at: at, key: key})
	if len(t.heap) > 2*len(t.at)+1024 {
		t.rebuild()
	}
}

func (t *ttls) del(key string) {
	delete(t.at, key)
}

// rebuild drops the stale entries of the heap.
func (t *ttls) rebuild() {
	h := make(ttlHeap, 0, len(t.at))
	for k, at := range t.at {
		h = append(h, ttlEntry{at: at, key: k})
	}
	heap.Init(&h)
	t.heap = h
}

// advance moves the clock by d and returns the keys whose deadline has passed.
func (t *ttls) advance(d time.Duration) []string {
	t.clock += d
	var expired []string
	for len(t.heap) > 0 && t.heap[0].at <= t.clock {
		e := heap.Pop(&t.heap).(ttlEntry)
		if at, ok := t.at[e.key]; ok && at == e.at {
			expired = append(expired, e.key)
		}
	}
	return expired
}
