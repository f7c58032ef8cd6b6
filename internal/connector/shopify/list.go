package shopify

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/posbridge/posbridge/internal/connector"
)

// Cursors are url-encoded values, so they stay readable in logs and the database:
//
//	""                                       full read from the start
//	since=<RFC 3339>                         incremental read: only what changed after the mark
//	page=<page_info>&max=..&since=..         the next page of a read in progress
//	locs=<cursor>&page=..&max=..&since=..    the next page of a stock read, at the location after <cursor>
//
// page is Shopify's own cursor: a REST page_info from the Link header (Shopify allows only limit
// beside it, so the filters of the first request live inside it) or a GraphQL endCursor (given
// with the same query again). max carries the latest updated_at seen so far, which becomes the
// resume mark on the last page. A stock read walks the shop's active locations one after the
// other: locs is the locations connection's cursor of the location before the one it has reached
// ("" page: that location's first page).

type cursor struct {
	page  string    // page_info or endCursor, "" on the first page
	since time.Time // the incremental mark of this read, zero for a full read
	max   time.Time // the latest updated_at seen in earlier pages
	locs  string    // a stock read's locations cursor, "" for the first location
}

func parseCursor(s string) (cursor, error) {
	if s == "" {
		return cursor{}, nil
	}
	v, err := url.ParseQuery(s)
	if err != nil {
		return cursor{}, &connector.Error{Kind: connector.KindInvalid, Message: fmt.Sprintf("cursor %q is not a Shopify cursor", s)}
	}
	var c cursor
	c.page = v.Get("page")
	c.locs = v.Get("locs")
	for _, f := range []struct {
		key string
		dst *time.Time
	}{{"since", &c.since}, {"max", &c.max}} {
		if x := v.Get(f.key); x != "" {
			t, err := time.Parse(time.RFC3339, x)
			if err != nil {
				return cursor{}, &connector.Error{Kind: connector.KindInvalid, Message: fmt.Sprintf("cursor %q has a bad %s mark", s, f.key)}
			}
			*f.dst = t
		}
	}
	if c.page == "" && c.locs == "" && v.Get("since") == "" {
		return cursor{}, &connector.Error{Kind: connector.KindInvalid, Message: fmt.Sprintf("cursor %q is not a Shopify cursor", s)}
	}
	return c, nil
}

func (c cursor) next(page string, max time.Time) string {
	v := url.Values{}
	if page != "" {
		v.Set("page", page)
	}
	if c.locs != "" {
		v.Set("locs", c.locs)
	}
	if !c.since.IsZero() {
		v.Set("since", c.since.Format(time.RFC3339))
	}
	if !max.IsZero() {
		v.Set("max", max.Format(time.RFC3339))
	}
	return v.Encode()
}

func resumeCursor(mark time.Time) string {
	return url.Values{"since": {mark.Format(time.RFC3339)}}.Encode()
}

// epoch is the resume mark of a full read that saw nothing: everything after it is new.
var epoch = time.Unix(0, 0).UTC()

// listPage reads one page of a Shopify listing. key is the JSON array key ("products"), filters
// the first page's query (updated_at_min is added from the cursor), and updated reports each
// item's updated_at so the resume mark can be kept. It returns the raw items.
func (c *Client) listPage(ctx context.Context, op, path, key string, filters url.Values, limit int, cur string,
) (items []json.RawMessage, next, resume string, err error) {
	cs, err := parseCursor(cur)
	if err != nil {
		return nil, "", "", fmt.Errorf("%s: %w", op, err)
	}
	q := url.Values{}
	q.Set("limit", strconv.Itoa(limit))
	if cs.page != "" {
		// Shopify: when page_info is present, only limit (and fields) may accompany it.
		q.Set("page_info", cs.page)
	} else {
		for k, vs := range filters {
			q[k] = vs
		}
		if !cs.since.IsZero() {
			q.Set("updated_at_min", cs.since.Format(time.RFC3339))
		}
	}
	var raw map[string]json.RawMessage
	ans, err := c.do(ctx, call{op: op, method: http.MethodGet, path: path, query: q}, &raw)
	if err != nil {
		return nil, "", "", err
	}
	if err := json.Unmarshal(raw[key], &items); err != nil && len(raw[key]) > 0 {
		return nil, "", "", fmt.Errorf("%s: %w", op, &connector.Error{Kind: connector.KindTemporary, Message: "the answer has no " + key + " list", Err: err})
	}
	max := cs.max
	for _, it := range items {
		var u struct {
			UpdatedAt string `json:"updated_at"`
		}
		if json.Unmarshal(it, &u) == nil {
			if t := parseTime(u.UpdatedAt); t.After(max) {
				max = t
			}
		}
	}
	if link := nextLink(ans.header); link != "" {
		lu, err := url.Parse(link)
		if err == nil && lu.Query().Get("page_info") != "" {
			return items, cs.next(lu.Query().Get("page_info"), max), "", nil
		}
	}
	mark := max
	if mark.IsZero() {
		mark = cs.since
	}
	if mark.IsZero() {
		mark = epoch
	}
	return items, "", resumeCursor(mark), nil
}
