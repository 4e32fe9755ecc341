package clientip

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestTheClientIsBelievedOnlyThroughTrustedProxies(t *testing.T) {
	trusted, err := Parse("10.0.0.0/8, 192.168.1.10 fd00::/8")
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, remote, xff, realIP, want string
	}{
		{"a direct client is itself, whatever it claims", "203.0.113.7:5000", "1.1.1.1", "", "203.0.113.7"},
		{"behind one proxy: the address it saw", "10.0.0.2:443", "198.51.100.9", "", "198.51.100.9"},
		{"a forged left part is ignored", "10.0.0.2:443", "1.1.1.1, 198.51.100.9", "", "198.51.100.9"},
		{"two trusted proxies in a row", "10.0.0.2:443", "198.51.100.9, 192.168.1.10", "", "198.51.100.9"},
		{"headers split over lines", "10.0.0.2:443", "198.51.100.9", "", "198.51.100.9"},
		{"X-Real-IP when there is no X-Forwarded-For", "192.168.1.10:80", "", "198.51.100.20", "198.51.100.20"},
		{"only proxies: the nearest one", "10.0.0.2:443", "10.0.0.9", "", "10.0.0.9"},
		{"garbage in the chain: the proxy", "10.0.0.2:443", "not-an-ip", "", "10.0.0.2"},
		{"IPv6 behind a trusted IPv6 proxy", "[fd00::1]:443", "2001:db8:1:2::99", "", "2001:db8:1:2::99"},
		{"an IPv4-mapped peer is trusted as IPv4", "[::ffff:10.0.0.2]:443", "198.51.100.9", "", "198.51.100.9"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			r.RemoteAddr = c.remote
			if c.xff != "" {
				r.Header.Set("X-Forwarded-For", c.xff)
			}
			if c.realIP != "" {
				r.Header.Set("X-Real-IP", c.realIP)
			}
			if got := trusted.Client(r).String(); got != c.want {
				t.Errorf("client = %s, want %s", got, c.want)
			}
		})
	}
}

func TestTheMiddlewareShowsHandlersTheClient(t *testing.T) {
	trusted, _ := Parse("127.0.0.1")
	var seen string
	h := trusted.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { seen = r.RemoteAddr }))
	r := httptest.NewRequest("GET", "/", nil)
	r.RemoteAddr = "127.0.0.1:1234"
	r.Header.Set("X-Forwarded-For", "2001:db8::5")
	h.ServeHTTP(httptest.NewRecorder(), r)
	if seen != "[2001:db8::5]:0" {
		t.Errorf("handler saw %q", seen)
	}
	if KeyOf(seen) != "2001:db8::/64" {
		t.Errorf("an IPv6 client is limited by its /64: key %q", KeyOf(seen))
	}
}

func TestBadTrustedProxiesAreRefused(t *testing.T) {
	for _, bad := range []string{"10.0.0.0/33", "proxy.example", "1.2.3"} {
		if _, err := Parse(bad); err == nil {
			t.Errorf("Parse(%q) accepted it", bad)
		}
	}
}

func TestHTTPSIsBelievedOnlyFromATrustedProxy(t *testing.T) {
	trusted, _ := Parse("10.0.0.0/8")
	cases := []struct {
		name, remote string
		proto        []string
		want         bool
	}{
		{"a trusted proxy that says https", "10.0.0.2:443", []string{"https"}, true},
		{"a trusted proxy that says http", "10.0.0.2:443", []string{"http"}, false},
		{"the proxy's own value is the last one", "10.0.0.2:443", []string{"https, http"}, false},
		{"a client that claims https itself", "203.0.113.7:5000", []string{"https"}, false},
		{"a trusted proxy that says nothing", "10.0.0.2:443", nil, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var got bool
			h := trusted.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got = HTTPS(r) }))
			r := httptest.NewRequest("GET", "/", nil)
			r.RemoteAddr = c.remote
			for _, p := range c.proto {
				r.Header.Add("X-Forwarded-Proto", p)
			}
			h.ServeHTTP(httptest.NewRecorder(), r)
			if got != c.want {
				t.Errorf("HTTPS = %v, want %v", got, c.want)
			}
		})
	}
	t.Run("nobody trusted: a client's claim is not believed", func(t *testing.T) {
		var got bool
		h := Trusted(nil).Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got = HTTPS(r) }))
		r := httptest.NewRequest("GET", "/", nil)
		r.Header.Set("X-Forwarded-Proto", "https")
		h.ServeHTTP(httptest.NewRecorder(), r)
		if got {
			t.Error("HTTPS believed a client's own X-Forwarded-Proto")
		}
	})
}
