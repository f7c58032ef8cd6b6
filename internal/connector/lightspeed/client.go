package lightspeed

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/posbridge/posbridge/internal/connector"
)

// request is one API call.
type request struct {
	method string
	path   string
	query  url.Values
	body   any
	// unsafe marks a write that must not be sent twice blindly (a POST that creates): a 5xx or
	// timeout is returned to the caller, which checks whether the write happened first.
	unsafe bool
}

func (c *Client) get(ctx context.Context, path string, q url.Values, out any) error {
	return c.do(ctx, request{method: http.MethodGet, path: path, query: q}, out)
}

// do sends r through connector.Retry, waiting out 429s as Lightspeed says (Retry-After is an
// HTTP date) and repeating 5xx answers and timeouts a bounded number of times (none when
// r.unsafe), then decodes a 2xx answer into out.
func (c *Client) do(ctx context.Context, r request, out any) error {
	var payload []byte
	if r.body != nil {
		b, err := json.Marshal(r.body)
		if err != nil {
			return fmt.Errorf("encode %s %s: %w", r.method, r.path, err)
		}
		payload = b
	}
	u := c.root + r.path
	if len(r.query) > 0 {
		u += "?" + r.query.Encode()
	}
	retry := connector.Retry{Backoff: c.backoff(), Retries: c.o.maxRetries, Waits: c.o.max429, Limiter: c.lim, Unsafe: r.unsafe}
	var status int
	var body []byte
	waits429 := 0
	err := retry.Do(ctx, func() error {
		st, b, hdr, err := c.roundTrip(ctx, r.method, u, payload)
		if err != nil {
			return err
		}
		if st < 200 || st > 299 {
			e := apiError(st, b)
			if st == http.StatusTooManyRequests {
				e.RetryAfter = c.retryAfter(hdr.Get("Retry-After"), waits429)
				waits429++
			}
			return e
		}
		status, body = st, b
		return nil
	})
	if err != nil {
		return err
	}
	if out == nil || len(bytes.TrimSpace(body)) == 0 {
		return nil
	}
	if err := json.Unmarshal(body, out); err != nil {
		return &connector.Error{Kind: connector.KindInvalid, Status: status,
			Message: fmt.Sprintf("%s %s: unreadable answer: %v", r.method, r.path, err), Err: err}
	}
	return nil
}

// roundTrip sends one request and reads the capped answer (connector.Retry has waited for the
// limiter).
func (c *Client) roundTrip(ctx context.Context, method, u string, payload []byte) (int, []byte, http.Header, error) {
	var rd io.Reader
	if payload != nil {
		rd = bytes.NewReader(payload)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return 0, nil, nil, &connector.Error{Kind: connector.KindInvalid, Message: "build request: " + err.Error(), Err: err}
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "posbridge-lightspeed/1")
	if payload != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	c.calls.Add(1)
	resp, err := c.hc.Do(req)
	if err != nil {
		return 0, nil, nil, connector.TransportError(method+" "+stripQuery(u), err)
	}
	c.observe(resp.Header)
	body, err := connector.ReadBody(resp)
	if err != nil {
		return 0, nil, nil, err
	}
	return resp.StatusCode, body, resp.Header, nil
}

func stripQuery(u string) string {
	if i := strings.IndexByte(u, '?'); i >= 0 {
		return u[:i]
	}
	return u
}

// observe feeds the limiter from X-RateLimit-Limit / -Remaining / -Reset: the steady rate is
// limit per window, and when nothing remains every call waits for the reset.
func (c *Client) observe(h http.Header) {
	if limit, err := strconv.Atoi(h.Get("X-RateLimit-Limit")); err == nil && limit > 0 {
		c.mu.Lock()
		changed := limit != c.limitSet
		c.limitSet = limit
		c.mu.Unlock()
		if changed {
			c.lim.SetRate(float64(limit)/c.o.window.Seconds(), limit)
		}
	}
	rem, err := strconv.Atoi(h.Get("X-RateLimit-Remaining"))
	if err != nil || rem > 0 {
		return
	}
	if d := c.resetIn(h.Get("X-RateLimit-Reset")); d > 0 {
		c.lim.Pause(d)
	}
}

// resetIn reads X-RateLimit-Reset, whose format the API pages do not pin down (the token
// endpoint documents Unix seconds): Unix seconds, an HTTP date or RFC 3339 are accepted.
func (c *Client) resetIn(v string) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	now := c.o.now()
	var t time.Time
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n < 1e9 { // a small number is seconds from now
			t = now.Add(time.Duration(n) * time.Second)
		} else {
			t = time.Unix(n, 0)
		}
	} else if ht, err := http.ParseTime(v); err == nil {
		t = ht
	} else if rt, err := time.Parse(time.RFC3339, v); err == nil {
		t = rt
	} else {
		return 0
	}
	d := t.Sub(now)
	if d > c.o.max429Wait {
		d = c.o.max429Wait
	}
	return d
}

// retryAfter reads Lightspeed's Retry-After, an HTTP date (seconds are accepted too). A date in
// the past (clock skew) or a missing header falls back to a doubling wait.
func (c *Client) retryAfter(v string, n int) time.Duration {
	d := connector.ParseRetryAfter(strings.TrimSpace(v), c.o.now())
	if d <= 0 {
		d = c.o.min429Wait << min(n, 6)
	}
	if d > c.o.max429Wait {
		d = c.o.max429Wait
	}
	return d
}

// backoff is the wait before a repeat: doubling from WithRetries' first wait up to the cap.
func (c *Client) backoff() connector.Backoff {
	return connector.Backoff{First: c.o.backoff, Max: c.o.maxBackoff}
}

// apiError maps a Lightspeed error answer to a typed error with the provider's own words.
// X-Series answers {"error":"<title>","message":"<detail>"}; some endpoints put an object or a
// list under "error"/"errors", or a "details" field; all are read.
func apiError(status int, body []byte) *connector.Error {
	e := &connector.Error{Kind: connector.KindForStatus(status), Status: status}
	var m map[string]json.RawMessage
	if json.Unmarshal(body, &m) == nil {
		title := textOf(m["error"])
		msg := textOf(m["message"])
		if msg == "" {
			msg = textOf(m["details"])
		}
		if msg == "" {
			msg = textOf(m["errors"])
		}
		e.Code = title
		switch {
		case msg != "" && title != "" && msg != title:
			e.Message = msg
		case msg != "":
			e.Message = msg
		default:
			e.Message = title
		}
	}
	if e.Message == "" {
		txt := strings.TrimSpace(string(body))
		if len(txt) > 200 {
			txt = txt[:200]
		}
		if txt == "" {
			txt = http.StatusText(status)
		}
		e.Message = txt
	}
	return e
}

// textOf renders a JSON value as a short text: a string as is, anything else compacted.
func textOf(raw json.RawMessage) string {
	if len(raw) == 0 || string(raw) == "null" {
		return ""
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var buf bytes.Buffer
	if json.Compact(&buf, raw) == nil {
		out := buf.String()
		if len(out) > 300 {
			out = out[:300]
		}
		return out
	}
	return string(raw)
}

// isKind tells whether err is a connector error of kind k.
func isKind(err error, k connector.Kind) bool {
	var e *connector.Error
	return errors.As(err, &e) && e.Kind == k
}
