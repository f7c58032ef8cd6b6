package woocommerce

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"hash"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

// WooCommerce authenticates a request over plain HTTP with OAuth 1.0a, one-legged (consumer key
// and secret, no token): the oauth_* parameters and the signature go in the query string, the
// signature is HMAC-SHA1 or HMAC-SHA256 with key "consumer_secret&" over
// "METHOD&enc(scheme://host/path)&enc(sorted enc(k)=enc(v) joined by &)", the timestamp must be
// within 15 minutes of the store's clock and a nonce may be used once. Over HTTPS it takes HTTP
// Basic (or consumer_key/consumer_secret in the query) and falls back to OAuth 1.0a.

// oauthWindow is how far a request's oauth_timestamp may be from the store's clock.
const oauthWindow = 15 * time.Minute

// oauthSignatureMethod is the method the client signs with.
const oauthSignatureMethod = "HMAC-SHA256"

// oauthParams are the parameters every OAuth 1.0a request carries.
var oauthParams = []string{"oauth_consumer_key", "oauth_timestamp", "oauth_nonce", "oauth_signature", "oauth_signature_method"}

// oauthEscape percent-encodes per RFC 3986: unreserved characters stay, every other byte is %XX.
func oauthEscape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~' {
			b.WriteByte(c)
			continue
		}
		b.WriteString("%" + strings.ToUpper(hex.EncodeToString([]byte{c})))
	}
	return b.String()
}

// oauthBaseString is the signature base string of a request to baseURL (scheme://host/path,
// path as sent) with the decoded query parameters params (oauth_signature excluded).
func oauthBaseString(method, baseURL string, params url.Values) string {
	type pair struct{ k, v string }
	pairs := make([]pair, 0, len(params))
	for k, vs := range params {
		if k == "oauth_signature" {
			continue
		}
		for _, v := range vs {
			pairs = append(pairs, pair{oauthEscape(k), oauthEscape(v)})
		}
	}
	// Sorted by encoded name, then by encoded value (RFC 5849 3.4.1.3.2).
	sort.Slice(pairs, func(i, j int) bool {
		if pairs[i].k != pairs[j].k {
			return pairs[i].k < pairs[j].k
		}
		return pairs[i].v < pairs[j].v
	})
	joined := make([]string, len(pairs))
	for i, p := range pairs {
		joined[i] = p.k + "=" + p.v
	}
	return strings.ToUpper(method) + "&" + oauthEscape(baseURL) + "&" + oauthEscape(strings.Join(joined, "&"))
}

// oauthSign returns the base64 signature of the base string, or "" for an unknown method.
func oauthSign(sigMethod, consumerSecret, base string) string {
	var h func() hash.Hash
	switch sigMethod {
	case "HMAC-SHA1":
		h = sha1.New
	case "HMAC-SHA256":
		h = sha256.New
	default:
		return ""
	}
	m := hmac.New(h, []byte(consumerSecret+"&"))
	m.Write([]byte(base))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// signOAuth adds the OAuth 1.0a parameters and signature to u's query (one-legged, HMAC-SHA256).
func signOAuth(method string, u *url.URL, key, secret string, now time.Time) {
	q := u.Query()
	for k := range q {
		if strings.HasPrefix(k, "oauth_") {
			q.Del(k)
		}
	}
	var nonce [16]byte
	_, _ = rand.Read(nonce[:])
	q.Set("oauth_consumer_key", key)
	q.Set("oauth_nonce", hex.EncodeToString(nonce[:]))
	q.Set("oauth_signature_method", oauthSignatureMethod)
	q.Set("oauth_timestamp", strconv.FormatInt(now.Unix(), 10))
	base := oauthBaseString(method, u.Scheme+"://"+u.Host+u.EscapedPath(), q)
	q.Set("oauth_signature", oauthSign(oauthSignatureMethod, secret, base))
	u.RawQuery = q.Encode()
}

// SignOAuth signs a request to a plain-HTTP WooCommerce store with OAuth 1.0a (one-legged,
// HMAC-SHA256, parameters in the query string), as the connector does; for scripts and tests
// that talk to `posbridge sim woocommerce` directly.
func SignOAuth(req *http.Request, key, secret string, now time.Time) {
	signOAuth(req.Method, req.URL, key, secret, now)
}
