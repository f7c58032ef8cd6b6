package shopify

import (
	"context"
	"encoding/json"
	"math"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/posbridge/posbridge/internal/connector"
)

// The GraphQL Admin API limits calls by calculated query cost: every app and store has a bucket
// of points (maximumAvailable) that restores at restoreRate points a second; a query runs only
// when its requested cost is available, and the difference to its actual cost is given back.
// Shopify documents the cost of a field by what it returns: scalars and enums 0, objects 1,
// connections 2 plus the cost of the items asked for (first: or last:), mutations 10; one query
// may request at most 1,000. queryCost is that rule applied to a query's text; the client uses
// it to know a call's price before sending it, and the simulator to charge it.

// MaxQueryCost is the most one query may request.
const MaxQueryCost = 1000

// queryCost is the requested cost of a GraphQL operation: the most it can cost, with every
// connection as full as first: or last: allows. vars resolves $variables used as counts.
func queryCost(query string, vars map[string]any) int {
	toks := gqlTokens(query)
	i := 0
	mutation := false
	// Skip the operation header (mutation name($v: T!) ...) to the top selection set.
	for i < len(toks) && toks[i] != "{" {
		if toks[i] == "mutation" && i == 0 {
			mutation = true
		}
		if toks[i] == "(" {
			i = skipParens(toks, i)
			continue
		}
		i++
	}
	if i >= len(toks) {
		return 0
	}
	cost, _ := selectionCost(toks, i, vars, mutation)
	return cost
}

// selectionCost prices the selection set opening at toks[i] ("{") and answers the index after
// its "}". At the top of a mutation each field is a mutation (10).
func selectionCost(toks []string, i int, vars map[string]any, top bool) (int, int) {
	total := 0
	i++ // past "{"
	for i < len(toks) && toks[i] != "}" {
		t := toks[i]
		if t == "..." { // an inline fragment or a spread: its fields belong to this object
			i++
			if i < len(toks) && toks[i] == "on" {
				i += 2
			}
			if i < len(toks) && toks[i] == "{" {
				c, next := selectionCost(toks, i, vars, false)
				total += c
				i = next
			} else {
				i++
			}
			continue
		}
		name := t
		i++
		if i+1 < len(toks) && toks[i] == ":" { // an alias
			name = toks[i+1]
			i += 2
		}
		items := -1 // not a connection
		if i < len(toks) && toks[i] == "(" {
			end := skipParens(toks, i)
			items = pageSize(toks[i+1:end-1], vars)
			i = end
		}
		if i < len(toks) && toks[i] == "{" {
			c, next := selectionCost(toks, i, vars, false)
			i = next
			switch {
			case name == "pageInfo": // free, as Shopify prices it
			case name == "edges": // the edge itself is free: its node is priced as nodes' items are
				total += c
			case top:
				total += 10 + c
			case items >= 0:
				total += 2 + items*c
			default:
				total += 1 + c
			}
		} else if top {
			total += 10
		}
	}
	return total, i + 1
}

// pageSize reads first: or last: from a field's arguments; -1 when there is neither.
func pageSize(args []string, vars map[string]any) int {
	for j := 0; j+2 < len(args); j++ {
		if (args[j] == "first" || args[j] == "last") && args[j+1] == ":" {
			v := args[j+2]
			if v == "$" && j+3 < len(args) {
				return intVar(vars[args[j+3]])
			}
			n, err := strconv.Atoi(v)
			if err != nil {
				return 0
			}
			return n
		}
	}
	return -1
}

func intVar(v any) int {
	switch x := v.(type) {
	case int:
		return x
	case int64:
		return int(x)
	case float64:
		return int(x)
	case json.Number:
		n, _ := strconv.Atoi(x.String())
		return n
	case json.RawMessage:
		n, _ := strconv.Atoi(strings.TrimSpace(string(x)))
		return n
	}
	return 0
}

func skipParens(toks []string, i int) int {
	depth := 0
	for ; i < len(toks); i++ {
		switch toks[i] {
		case "(":
			depth++
		case ")":
			depth--
			if depth == 0 {
				return i + 1
			}
		}
	}
	return i
}

// gqlTokens splits GraphQL text into names, numbers, punctuation and strings (kept whole).
func gqlTokens(q string) []string {
	var out []string
	for i := 0; i < len(q); {
		c := q[i]
		switch {
		case c == ' ' || c == '\n' || c == '\t' || c == '\r' || c == ',':
			i++
		case c == '#':
			for i < len(q) && q[i] != '\n' {
				i++
			}
		case c == '"':
			j := i + 1
			for j < len(q) && q[j] != '"' {
				if q[j] == '\\' {
					j++
				}
				j++
			}
			out = append(out, q[i:min(j+1, len(q))])
			i = j + 1
		case strings.HasPrefix(q[i:], "..."):
			out = append(out, "...")
			i += 3
		case c == '_' || c == '-' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
			j := i
			for j < len(q) && (q[j] == '_' || q[j] == '-' || q[j] == '.' || q[j] >= '0' && q[j] <= '9' || q[j] >= 'a' && q[j] <= 'z' || q[j] >= 'A' && q[j] <= 'Z') {
				j++
			}
			out = append(out, q[i:j])
			i = j
		default:
			out = append(out, string(c))
			i++
		}
	}
	return out
}

// answerCost is what an answer actually cost: each object 1, each connection (an object with
// nodes or edges) 2 plus its items, each root field of a mutation 10. It is never more than
// the requested cost.
func answerCost(data any, mutation bool, requested int) int {
	var walk func(v any) int
	walk = func(v any) int {
		switch x := v.(type) {
		case map[string]any:
			_, nodes := x["nodes"]
			_, edges := x["edges"]
			c := 1
			if nodes || edges {
				c = 2
			}
			for k, e := range x {
				if k == "pageInfo" {
					continue
				}
				if (k == "nodes" || k == "edges") && (nodes || edges) {
					if list, ok := e.([]any); ok {
						for _, it := range list {
							if edge, ok := it.(map[string]any); ok && k == "edges" {
								c += walk(edge["node"]) // an edge costs what its node does
								continue
							}
							c += walk(it)
						}
						continue
					}
				}
				c += walk(e)
			}
			return c
		case []any:
			c := 0
			for _, it := range x {
				if w := walk(it); w > c {
					c = w // a list of objects other than a connection is priced as one of them
				}
			}
			return c
		}
		return 0
	}
	total := 0
	if root, ok := data.(map[string]any); ok {
		for _, v := range root {
			if mutation {
				total += 10 + walk(v) - 1
			} else {
				total += walk(v)
			}
		}
	}
	if total > requested {
		total = requested
	}
	return max(total, 0)
}

// costBucket is the client's model of its GraphQL bucket at the shop. Before a call it waits
// until the call's requested cost is available (the points restored since the last answer,
// less what calls in flight have asked for), so a query is never sent into a THROTTLED answer;
// every answer's throttleStatus sets the model right again. Until the first answer tells the
// bucket's size, one call at a time goes out.
type costBucket struct {
	mu       sync.Mutex
	max      float64
	avail    float64
	restore  float64
	reserved float64
	known    bool
	last     time.Time
	sent     uint64        // calls sent so far
	probe    chan struct{} // held by the one call that goes out before the bucket is known
}

func newCostBucket() *costBucket {
	return &costBucket{probe: make(chan struct{}, 1)}
}

// costBuckets holds one model per app and store (shop address and access token), as Shopify
// keeps one bucket for them: every client of the same integration in the process paces by it.
var costBuckets sync.Map

func sharedCostBucket(base, token string) *costBucket {
	b, _ := costBuckets.LoadOrStore(base+"\x00"+token, newCostBucket())
	return b.(*costBucket)
}

// ticket is one call's claim on the bucket.
type ticket struct {
	cost  float64
	probe bool
	seq   uint64 // the call's number among those sent
	alone bool   // no other call was out when it was sent
}

// reserve waits until cost points are free and claims them. When ctx bounds the wait
// (connector.WithMaxWait) and the bucket needs longer to restore, it answers a rate-limited
// error carrying the wait (and a *connector.PacedError), so a worker snoozes instead.
func (b *costBucket) reserve(ctx context.Context, cost float64) (ticket, error) {
	maxWait, bounded := connector.MaxWait(ctx)
	for {
		b.mu.Lock()
		if !b.known {
			b.mu.Unlock()
			select {
			case b.probe <- struct{}{}:
			case <-ctx.Done():
				return ticket{}, ctxError(ctx.Err())
			}
			b.mu.Lock()
			if !b.known {
				b.sent++
				t := ticket{cost: cost, probe: true, seq: b.sent, alone: b.reserved == 0}
				b.reserved += cost
				b.mu.Unlock()
				return t, nil
			}
			<-b.probe // learnt meanwhile
		}
		now := time.Now()
		b.refill(now)
		free := b.avail - b.reserved
		need := math.Min(cost, b.max)
		if need <= free+1e-9 {
			b.sent++
			t := ticket{cost: cost, seq: b.sent, alone: b.reserved == 0}
			b.reserved += cost
			b.mu.Unlock()
			return t, nil
		}
		wait := time.Duration((need - free) / b.restore * float64(time.Second))
		b.mu.Unlock()
		wait = max(wait, time.Millisecond)
		if bounded && wait > maxWait {
			return ticket{}, &connector.Error{Kind: connector.KindRateLimited, RetryAfter: wait,
				Message: "the shop's GraphQL cost budget is spent; it restores in " + wait.Round(time.Millisecond).String(),
				Err:     &connector.PacedError{Wait: wait}}
		}
		if err := connector.Sleep(ctx, wait); err != nil {
			return ticket{}, ctxError(err)
		}
	}
}

func (b *costBucket) refill(now time.Time) {
	if el := now.Sub(b.last).Seconds(); el > 0 {
		b.avail = math.Min(b.max, b.avail+el*b.restore)
	}
	b.last = now
}

// done ends a call: its claim is released and the model learns from the answer. When no other
// call was out while it was (none out when it was sent, none sent since), the answer's throttle
// status is the bucket's state from now on: every call the shop charged before was answered
// before this one was sent, so its figure holds them all (and the refunds of their unused
// points). Otherwise the shop may have charged another call after it made this figure, or this
// figure may be older than one read before it, and taking it would give back points the shop
// has spent (a THROTTLED answer followed, now and then, with four workers at once): this call's
// charge is then taken off the model itself, and the answer's figure only ever lowers it.
// charged is what the shop took for the call (its actual cost; 0 when it ran nothing; the
// requested cost when that is unknown).
func (b *costBucket) done(t ticket, max, available, restore, charged float64) {
	b.mu.Lock()
	b.reserved -= t.cost
	if b.reserved < 1e-9 {
		b.reserved = 0
	}
	now := time.Now()
	switch {
	case max > 0 && restore > 0 && (!b.known || t.alone && t.seq == b.sent):
		b.max, b.avail, b.restore, b.known = max, available, restore, true
		b.last = now
	case b.known:
		b.refill(now)
		b.avail -= charged
		if max > 0 && available < b.avail {
			b.avail = available
		}
	}
	b.mu.Unlock()
	if t.probe {
		<-b.probe
	}
}
