package domain

import (
	"regexp"
	"strings"
)

// Explained is a message as a merchant sees it: a sentence that says what happened and what to
// do, and the technical text it came from (empty when the text was already for a merchant).
type Explained struct {
	Text   string
	Detail string
}

// explanation is one entry of the catalogue: when a technical text contains any of Match, a
// merchant reads Text instead.
type explanation struct {
	Match []string
	Text  string
}

// explanations is the one catalogue of what a merchant reads instead of a technical error. The
// first entry whose pattern matches wins, so the specific ones come first.
var explanations = []explanation{
	{[]string{"provider host is not allowed", "host is not allowed"},
		"posbridge may not connect to this address: it is a private or local network address. Enter the POS's public address, or ask whoever runs posbridge to allow private addresses."},
	{[]string{"the sandbox store of", "sandbox is not served"},
		"The sandbox store this integration uses is turned off on this posbridge server. Ask whoever runs posbridge, or add the integration with your real POS account."},
	{[]string{"no such host", "server misbehaving"},
		"posbridge could not find the POS's address. Check the store address in the integration's credentials; posbridge tries again automatically."},
	{[]string{"connection refused", "connection reset", "network is unreachable", "no route to host", "dial tcp", "dial udp", "broken pipe"},
		"posbridge could not reach the POS: nothing answered at its address. Check that the store address is right and the POS is online; posbridge tries again automatically."},
	{[]string{"x509:", "tls:", "certificate"},
		"posbridge could not open a secure connection to the POS (its HTTPS certificate was not accepted). Check the store address; your POS provider can check the certificate."},
	{[]string{"deadline exceeded", "timeout", "Timeout", "timed out"},
		"The POS did not answer in time. posbridge tries again automatically; if this keeps happening, check the POS's status page."},
	{[]string{"credentials (HTTP", "(HTTP 401)", "(HTTP 403)", "Unauthorized", "unauthorized", "invalid api key", "Invalid API key"},
		"The POS refused the credentials. Enter new credentials on the integration's page (they may have been revoked or changed)."},
	{[]string{"rate_limited", "(HTTP 429)"},
		"The POS asked posbridge to slow down. posbridge waits and tries again automatically; nothing needs doing."},
	{[]string{"(HTTP 500)", "(HTTP 502)", "(HTTP 503)", "(HTTP 504)", "temporary (HTTP"},
		"The POS had a problem on its side and could not answer. posbridge tries again automatically."},
	{[]string{"EOF", "unexpected end of JSON", "invalid character", "cannot unmarshal", "json:"},
		"The POS gave an answer posbridge could not read. posbridge tries again automatically; if it keeps happening, contact support with the details below."},
}

// technical are marks of text written for programmers, not merchants: Go's error strings,
// wrapped errors, formatting mistakes and raw ids.
var technical = []string{"dial tcp", "dial udp", `Get "`, `Post "`, `Put "`, `Delete "`, `Patch "`, "%!", "lookup ", "x509:",
	"tls:", "context deadline", "context canceled", "EOF", "json:", "read tcp", "write tcp", "host is not allowed",
	"(HTTP ", "connection refused", "i/o timeout", "no such host", "goroutine", "panic:"}

// httpCall is a lead-in that names the HTTP call that failed ("GET /orders"): detail for a
// programmer, not the start of a merchant's sentence.
var httpCall = regexp.MustCompile(`^(GET|POST|PUT|PATCH|DELETE|HEAD) [/h]`)

// rawID finds posbridge's ids in a text (integrations, accounts, endpoints, deliveries, ...).
var rawID = regexp.MustCompile(`\b(int|acct|usr|whe|whd|whev|msg|key|dlv)_[0-9a-z]{16,}\b`)

// IsTechnical says whether text reads like a programmer's error rather than a merchant's
// sentence, or carries one of posbridge's raw ids.
func IsTechnical(text string) bool {
	return isError(text) || rawID.MatchString(text)
}

func isError(text string) bool { return containsAny(text, technical) }

// Explain turns a technical text (a provider error, a Go error) into a sentence for a merchant,
// keeping the original as Detail. A text that is already a merchant's sentence comes back as it
// is. A merchant's lead-in before the technical part ("Called off after 5 consecutive failures;
// last: ...") is kept.
func Explain(text string) Explained {
	text = strings.TrimSpace(text)
	if text == "" || !isError(text) {
		return Explained{Text: text}
	}
	lead := ""
	for _, sep := range []string{"; last: ", ": "} {
		if i := strings.Index(text, sep); i > 0 && !isError(text[:i]) && !httpCall.MatchString(text[:i]) && len(text[:i]) < 120 {
			lead = text[:i]
			break
		}
	}
	sentence := "Something went wrong while posbridge talked to the POS. posbridge tries again automatically; if it keeps happening, contact support with the details below."
	for _, e := range explanations {
		if containsAny(text, e.Match) {
			sentence = e.Text
			break
		}
	}
	if lead != "" {
		sentence = strings.TrimRight(lead, ".") + ". " + sentence
	}
	return Explained{Text: sentence, Detail: text}
}

// ExplainText is Explain's sentence alone.
func ExplainText(text string) string { return Explain(text).Text }

func containsAny(s string, subs []string) bool {
	for _, x := range subs {
		if strings.Contains(s, x) {
			return true
		}
	}
	return false
}

// ReplaceIDs replaces every posbridge id in text by name(id): an integration id by its type and
// nickname, say. name returns "" to leave an id as it is.
func ReplaceIDs(text string, name func(id string) string) string {
	return rawID.ReplaceAllStringFunc(text, func(id string) string {
		if n := name(id); n != "" {
			return n
		}
		return id
	})
}
