package woocommerce

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/posbridge/posbridge/internal/connector"
)

// wcTime is WooCommerce's date format: ISO 8601 without zone; *_gmt fields are UTC.
const wcTime = "2006-01-02T15:04:05"

// tieMargin: the resume mark stays this far behind the server clock at the start of a read, so a
// write in the same second as the read (modified_after has second resolution and is exclusive)
// is read again next time instead of being lost.
const tieMargin = 2 * time.Second

// maxSkip bounds the "already delivered" list a resume cursor carries; past it, the next read
// simply returns those items again (safe: consumers are idempotent).
const maxSkip = 1000

// cursor is the state of a paginated listing, opaque to callers. A read is a sequence of pages of
// one query (orderby=id asc, so edits during the read do not move items between pages). An
// incremental read asks modified_after=After and leaves out items in Skip (id:content-hash of
// items already delivered whose modified second is after After and that are unchanged since).
type cursor struct {
	Page  int      `json:"p,omitempty"`
	After string   `json:"a,omitempty"` // modified_after of this read, wcTime in UTC
	Skip  []string `json:"s,omitempty"` // from the resume mark this read started from
	Start int64    `json:"d,omitempty"` // server clock (Date) when the read's first page was served
	Seen  []string `json:"n,omitempty"` // items of this read modified after Start-tieMargin
	Over  bool     `json:"o,omitempty"` // Seen overflowed maxSkip
}

const (
	nextPrefix   = "p."
	resumePrefix = "r."
)

func encodeCursor(prefix string, c cursor) string {
	b, _ := json.Marshal(c)
	return prefix + base64.RawURLEncoding.EncodeToString(b)
}

func decodeCursor(s string) (cursor, error) {
	if s == "" {
		return cursor{Page: 1}, nil
	}
	bad := &connector.Error{Kind: connector.KindInvalid, Code: "invalid_cursor", Message: "the cursor was not made by the woocommerce connector"}
	var prefix string
	switch {
	case strings.HasPrefix(s, nextPrefix):
		prefix = nextPrefix
	case strings.HasPrefix(s, resumePrefix):
		prefix = resumePrefix
	default:
		return cursor{}, bad
	}
	b, err := base64.RawURLEncoding.DecodeString(s[len(prefix):])
	if err != nil {
		return cursor{}, bad
	}
	var c cursor
	if err := json.Unmarshal(b, &c); err != nil {
		return cursor{}, bad
	}
	if prefix == resumePrefix {
		// A resume mark starts a new incremental read.
		return cursor{Page: 1, After: c.After, Skip: c.Skip}, nil
	}
	if c.Page < 1 {
		return cursor{}, bad
	}
	return c, nil
}

// listed is one page of raw items with its cursors.
type listed struct {
	Items  []json.RawMessage
	Next   string
	Resume string
}

type stamp struct {
	ID       int64  `json:"id"`
	Modified string `json:"date_modified_gmt"`
}

// itemKey identifies an item's state: its id and a hash of its exact JSON.
func itemKey(id int64, raw []byte) string {
	h := fnv.New64a()
	_, _ = h.Write(raw)
	return strconv.FormatInt(id, 10) + ":" + strconv.FormatUint(h.Sum64()&0xffffffffffff, 36)
}

// list reads one page of a collection (path below /wp-json/wc/v3) with the cursor. filter adds
// the caller's own query parameters (status=completed ...). Incremental reads use modified_after.
func (c *Client) list(ctx context.Context, path string, filter url.Values, cur string, incremental bool) (listed, error) {
	cu, err := decodeCursor(cur)
	if err != nil {
		return listed{}, err
	}
	q := url.Values{}
	for k, v := range filter {
		q[k] = v
	}
	q.Set("page", strconv.Itoa(cu.Page))
	q.Set("per_page", strconv.Itoa(c.opt.PerPage))
	q.Set("orderby", "id")
	q.Set("order", "asc")
	if cu.After != "" {
		q.Set("modified_after", cu.After)
		q.Set("dates_are_gmt", "true")
	}
	var raw []json.RawMessage
	resp, err := c.call(ctx, http.MethodGet, path, q, nil, &raw)
	if err != nil {
		// Past the last page (items deleted while paging): WordPress answers 400
		// rest_post_invalid_page_number; treat it as the end of the listing.
		var ce *connector.Error
		if cu.Page > 1 && errors.As(err, &ce) && ce.Status == 400 &&
			(ce.Code == "rest_post_invalid_page_number" || ce.Code == "rest_invalid_param" && strings.Contains(ce.Message, "page")) {
			resp, raw = &response{Status: 400, Header: http.Header{}}, nil
		} else {
			return listed{}, fmt.Errorf("list %s page %d: %w", path, cu.Page, err)
		}
	}
	if cu.Page == 1 || cu.Start == 0 {
		cu.Start = c.serverNow(resp.Header).Unix()
	}
	skip := make(map[string]bool, len(cu.Skip))
	for _, k := range cu.Skip {
		skip[k] = true
	}
	out := listed{Items: make([]json.RawMessage, 0, len(raw))}
	edge := time.Unix(cu.Start, 0).UTC().Add(-tieMargin)
	for _, r := range raw {
		var st stamp
		if err := json.Unmarshal(r, &st); err != nil {
			return listed{}, &connector.Error{Kind: connector.KindTemporary, Message: fmt.Sprintf("list %s page %d: an item is not an object", path, cu.Page), Err: err}
		}
		key := itemKey(st.ID, r)
		if mod, err := time.Parse(wcTime, strings.TrimSuffix(st.Modified, "Z")); err == nil && mod.After(edge) && !cu.Over {
			if len(cu.Seen) >= maxSkip {
				cu.Over, cu.Seen = true, nil
			} else {
				cu.Seen = append(cu.Seen, key)
			}
		}
		if skip[key] {
			continue
		}
		out.Items = append(out.Items, r)
	}
	if hasNext(resp.Header, cu.Page, len(raw)) {
		n := cu
		n.Page++
		out.Next = encodeCursor(nextPrefix, n)
		return out, nil
	}
	if incremental {
		out.Resume = encodeCursor(resumePrefix, cursor{After: edge.Format(wcTime), Skip: cu.Seen})
	}
	return out, nil
}

// hasNext reads WooCommerce's paging headers: a Link rel="next", else X-WP-TotalPages.
func hasNext(h http.Header, page, n int) bool {
	for _, l := range h.Values("Link") {
		for _, part := range strings.Split(l, ",") {
			if strings.Contains(part, `rel="next"`) || strings.Contains(part, "rel=next") {
				return true
			}
		}
	}
	if tp, err := strconv.Atoi(h.Get("X-WP-TotalPages")); err == nil {
		return page < tp
	}
	return false
}

// serverNow is the store's clock from the Date header, else ours.
func (c *Client) serverNow(h http.Header) time.Time {
	if t, err := http.ParseTime(h.Get("Date")); err == nil {
		return t.UTC()
	}
	return c.now().UTC()
}
