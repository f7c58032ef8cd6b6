package woocommerce

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/posbridge/posbridge/internal/connector"
)

// RFC 5849 section 3.4.1.1's example of a signature base string (parameters from the query,
// the form body and the OAuth protocol, one name twice, characters that need encoding).
func TestOAuthBaseStringRFC5849(t *testing.T) {
	params := url.Values{
		"b5": {"=%3D"}, "a3": {"a", "2 q"}, "c@": {""}, "a2": {"r b"}, "c2": {""},
		"oauth_consumer_key": {"9djdj82h48djs9d2"}, "oauth_token": {"kkk9d7dh3k39sjv7"},
		"oauth_signature_method": {"HMAC-SHA1"}, "oauth_timestamp": {"137131201"}, "oauth_nonce": {"7d8f3e4a"},
		"oauth_signature": {"ignored"},
	}
	want := "POST&http%3A%2F%2Fexample.com%2Frequest&a2%3Dr%2520b%26a3%3D2%2520q%26a3%3Da%26b5%3D%253D%25253D%26c%2540%3D%26c2%3D%26oauth_consumer_key%3D9djdj82h48djs9d2%26oauth_nonce%3D7d8f3e4a%26oauth_signature_method%3DHMAC-SHA1%26oauth_timestamp%3D137131201%26oauth_token%3Dkkk9d7dh3k39sjv7"
	if got := oauthBaseString("post", "http://example.com/request", params); got != want {
		t.Fatalf("base string\n got %s\nwant %s", got, want)
	}
}

type wcAnswer struct {
	status int
	code   string
}

func send(t *testing.T, hc *http.Client, req *http.Request) wcAnswer {
	t.Helper()
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var e apiError
	b, _ := io.ReadAll(resp.Body)
	_ = json.Unmarshal(b, &e)
	return wcAnswer{resp.StatusCode, e.Code}
}

// Over plain HTTP WooCommerce authenticates with OAuth 1.0a only; over HTTPS (here, or ended by
// a proxy that says so in X-Forwarded-Proto) Basic and the query keys work, and OAuth too.
func TestSimulatorAuthByScheme(t *testing.T) {
	t.Parallel()
	sim := NewSimulator()
	t.Cleanup(sim.Close)
	plain := httptest.NewServer(sim)
	t.Cleanup(plain.Close)
	tls := httptest.NewTLSServer(sim)
	t.Cleanup(tls.Close)
	key, secret := sim.Credentials()
	get := func(base string, how func(*http.Request)) *http.Request {
		req, _ := http.NewRequest(http.MethodGet, base+APIPath+"/products?per_page=5", nil)
		how(req)
		return req
	}
	basic := func(r *http.Request) { r.SetBasicAuth(key, secret) }
	query := func(r *http.Request) {
		q := r.URL.Query()
		q.Set("consumer_key", key)
		q.Set("consumer_secret", secret)
		r.URL.RawQuery = q.Encode()
	}
	oauth := func(r *http.Request) { signOAuth(r.Method, r.URL, key, secret, time.Now()) }
	proxied := func(how func(*http.Request)) func(*http.Request) {
		return func(r *http.Request) { how(r); r.Header.Set("X-Forwarded-Proto", "https") }
	}
	for name, c := range map[string]struct {
		req  *http.Request
		hc   *http.Client
		want wcAnswer
	}{
		"http basic":           {get(plain.URL, basic), plain.Client(), wcAnswer{401, "woocommerce_rest_cannot_view"}},
		"http query keys":      {get(plain.URL, query), plain.Client(), wcAnswer{401, "woocommerce_rest_cannot_view"}},
		"http oauth":           {get(plain.URL, oauth), plain.Client(), wcAnswer{200, ""}},
		"https basic":          {get(tls.URL, basic), tls.Client(), wcAnswer{200, ""}},
		"https query keys":     {get(tls.URL, query), tls.Client(), wcAnswer{200, ""}},
		"https oauth":          {get(tls.URL, oauth), tls.Client(), wcAnswer{200, ""}},
		"proxied https basic":  {get(plain.URL, proxied(basic)), plain.Client(), wcAnswer{200, ""}},
		"https basic bad pass": {get(tls.URL, func(r *http.Request) { r.SetBasicAuth(key, "cs_wrong") }), tls.Client(), wcAnswer{401, "woocommerce_rest_authentication_error"}},
		"http oauth bad secret": {get(plain.URL, func(r *http.Request) { signOAuth(r.Method, r.URL, key, "cs_wrong", time.Now()) }),
			plain.Client(), wcAnswer{401, "woocommerce_rest_authentication_error"}},
		"http oauth stale": {get(plain.URL, func(r *http.Request) { signOAuth(r.Method, r.URL, key, secret, time.Now().Add(-20*time.Minute)) }),
			plain.Client(), wcAnswer{401, "woocommerce_rest_authentication_error"}},
		"http oauth missing nonce": {get(plain.URL, func(r *http.Request) {
			oauth(r)
			q := r.URL.Query()
			q.Del("oauth_nonce")
			r.URL.RawQuery = q.Encode()
		}), plain.Client(), wcAnswer{401, "woocommerce_rest_authentication_missing_parameter"}},
	} {
		if got := send(t, c.hc, c.req); got != c.want {
			t.Errorf("%s: %+v, want %+v", name, got, c.want)
		}
	}
	// A nonce is good once.
	req := get(plain.URL, oauth)
	if got := send(t, plain.Client(), req); got.status != 200 {
		t.Fatalf("first use: %+v", got)
	}
	again, _ := http.NewRequest(http.MethodGet, req.URL.String(), nil)
	if got := send(t, plain.Client(), again); got != (wcAnswer{401, "woocommerce_rest_authentication_error"}) {
		t.Fatalf("replayed nonce: %+v", got)
	}
}

// The connector signs with OAuth 1.0a in the query string for an http:// store (also when the
// store is served below a path prefix) and uses Basic auth for an https:// store.
func TestConnectorAuthByScheme(t *testing.T) {
	t.Parallel()
	sim := NewSimulator()
	t.Cleanup(sim.Close)
	var mu sync.Mutex
	var seen []*http.Request
	record := func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			seen = append(seen, r.Clone(r.Context()))
			mu.Unlock()
			h.ServeHTTP(w, r)
		})
	}
	mux := http.NewServeMux()
	mux.Handle("/sandbox/woocommerce/", http.StripPrefix("/sandbox/woocommerce", sim))
	mux.Handle("/", sim)
	plain := httptest.NewServer(record(mux))
	t.Cleanup(plain.Close)
	tls := httptest.NewTLSServer(record(sim))
	t.Cleanup(tls.Close)
	key, secret := sim.Credentials()
	open := func(store string, hc *http.Client) *Client {
		c, err := New(connector.Config{Credentials: map[string]string{FieldStoreURL: store, FieldConsumerKey: key, FieldConsumerSecret: secret}, HTTP: hc})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	guarded := connector.NewHTTPClient(connector.HTTPOptions{AllowPrivate: true, Timeout: 5 * time.Second})
	for _, c := range []struct {
		store string
		hc    *http.Client
		oauth bool
	}{
		{plain.URL, guarded, true},
		{plain.URL + "/sandbox/woocommerce", guarded, true},
		{tls.URL, tls.Client(), false},
	} {
		mu.Lock()
		seen = nil
		mu.Unlock()
		cl := open(c.store, c.hc)
		if err := cl.Verify(tctx(t)); err != nil {
			t.Fatalf("%s: verify: %v", c.store, err)
		}
		if _, err := cl.ListProducts(tctx(t), ""); err != nil {
			t.Fatalf("%s: list: %v", c.store, err)
		}
		mu.Lock()
		for _, r := range seen {
			_, _, hasBasic := r.BasicAuth()
			q := r.URL.Query()
			signed := q.Get("oauth_signature") != "" && q.Get("oauth_signature_method") == oauthSignatureMethod
			// Over HTTP the secret itself never travels, only the signature.
			if c.oauth && (hasBasic || !signed || strings.Contains(r.URL.RawQuery, secret)) {
				t.Errorf("%s: %s not signed with OAuth 1.0a in the query (basic %v)", c.store, r.URL, hasBasic)
			}
			if !c.oauth && (!hasBasic || signed) {
				t.Errorf("%s: %s without Basic auth over HTTPS", c.store, r.URL)
			}
		}
		if len(seen) == 0 {
			t.Errorf("%s: no requests seen", c.store)
		}
		mu.Unlock()
	}
}
