// Package clientip finds the address a web request really comes from when Layan runs
// behind reverse proxies, so that limits per client address limit people, not the proxy.
//
// Only connections from a trusted proxy (TRUSTED_PROXIES) are believed about the client:
// from those, the client is the rightmost address in X-Forwarded-For that is not itself
// a trusted proxy (each proxy appends the address it saw, so everything left of that is
// what the client claimed), or X-Real-IP when there is no X-Forwarded-For. A connection
// from anywhere else is the client, whatever its headers say.
package clientip

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// Trusted is a set of proxy networks. Its zero value trusts nobody.
type Trusted []netip.Prefix

// Parse reads a list of CIDRs or single addresses separated by commas or spaces, e.g.
// "10.0.0.0/8, 192.168.1.10, fd00::/8".
func Parse(s string) (Trusted, error) {
	var t Trusted
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' }) {
		if p, err := netip.ParsePrefix(f); err == nil {
			t = append(t, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(f)
		if err != nil {
			return nil, fmt.Errorf("%q is neither an address nor a CIDR such as 10.0.0.0/8", f)
		}
		a = a.Unmap()
		t = append(t, netip.PrefixFrom(a, a.BitLen()))
	}
	return t, nil
}

func (t Trusted) trusts(a netip.Addr) bool {
	a = a.Unmap()
	for _, p := range t {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// Client returns the client address of r (see the package comment).
func (t Trusted) Client(r *http.Request) netip.Addr {
	peer := addrOf(r.RemoteAddr)
	if !peer.IsValid() || !t.trusts(peer) {
		return peer
	}
	hops := forwarded(r.Header.Values("X-Forwarded-For"))
	for i := len(hops) - 1; i >= 0; i-- {
		a := addrOf(hops[i])
		if !a.IsValid() {
			return peer // a hop we cannot read: trust nothing further left
		}
		if !t.trusts(a) {
			return a
		}
	}
	if len(hops) > 0 {
		return addrOf(hops[0]) // every hop is a proxy of ours: the first is the client
	}
	if a := addrOf(r.Header.Get("X-Real-IP")); a.IsValid() {
		return a
	}
	return peer
}

// Middleware sets each request's RemoteAddr to its client address (port 0), so that
// every handler and limiter after it sees the client, not the proxy, and remembers
// whether a trusted proxy says the client came over HTTPS (see HTTPS). With nobody
// trusted it changes nothing.
func (t Trusted) Middleware(next http.Handler) http.Handler {
	if len(t) == 0 {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		https := t.forwardedHTTPS(r)
		if c := t.Client(r); c.IsValid() {
			r2 := *r
			r2.RemoteAddr = netip.AddrPortFrom(c, 0).String()
			r = &r2
		}
		if https {
			r = r.WithContext(context.WithValue(r.Context(), httpsKey{}, true))
		}
		next.ServeHTTP(w, r)
	})
}

type httpsKey struct{}

// forwardedHTTPS reports whether r comes from a trusted proxy that says, in
// X-Forwarded-Proto (its last value: the one this proxy wrote), that the client used
// HTTPS.
func (t Trusted) forwardedHTTPS(r *http.Request) bool {
	peer := addrOf(r.RemoteAddr)
	if !peer.IsValid() || !t.trusts(peer) {
		return false
	}
	protos := forwarded(r.Header.Values("X-Forwarded-Proto"))
	return len(protos) > 0 && strings.EqualFold(protos[len(protos)-1], "https")
}

// HTTPS reports whether the client reached the service over HTTPS: the connection
// itself is TLS, or a trusted proxy said so (through Middleware). A client's own
// X-Forwarded-Proto is never believed.
func HTTPS(r *http.Request) bool {
	if r.TLS != nil {
		return true
	}
	https, _ := r.Context().Value(httpsKey{}).(bool)
	return https
}

// Key is the key to limit a client by: its address, or for IPv6 its /64, which one
// subscriber usually holds whole.
func Key(a netip.Addr) string {
	a = a.Unmap().WithZone("")
	if a.Is6() {
		return netip.PrefixFrom(a, 64).Masked().String()
	}
	return a.String()
}

// KeyOf is Key of an address as found in http.Request.RemoteAddr (host:port or host);
// an address it cannot read is its own key.
func KeyOf(remote string) string {
	if a := addrOf(remote); a.IsValid() {
		return Key(a)
	}
	return remote
}

func forwarded(values []string) []string {
	var hops []string
	for _, v := range values {
		for _, h := range strings.Split(v, ",") {
			if h = strings.TrimSpace(h); h != "" {
				hops = append(hops, h)
			}
		}
	}
	return hops
}

// addrOf reads "1.2.3.4", "1.2.3.4:5", "[::1]:5" or "::1".
func addrOf(s string) netip.Addr {
	s = strings.TrimSpace(s)
	if host, _, err := net.SplitHostPort(s); err == nil {
		s = host
	}
	a, err := netip.ParseAddr(strings.Trim(s, "[]"))
	if err != nil {
		return netip.Addr{}
	}
	return a.Unmap().WithZone("")
}
