package sandbox

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
)

// A log entry is one update's changes, as JSON:
//
//	{"seq":<state Seq>,"next_id":<state NextID>,"ops":[{"c":"orders","r":{"<key>":<record>}},{"c":"webhooks","d":"<key>"}]}
//
// "r" sets a record (the whole record, as the snapshot holds it), "d" deletes one. The counters
// travel with every entry, so an id handed out in an answered change is never handed out again
// after a reload. An entry costs what the records it changed cost, whatever the tenant's size.

// record returns the cache of the record key of coll, or false when there is none.
func (st *state) record(coll, key string) (any, *jsonCache, bool) {
	switch coll {
	case collProducts:
		if r, ok := st.Products[key]; ok {
			return r, &r.jsonCache, true
		}
	case collStock:
		if r, ok := st.Stock[key]; ok {
			return r, &r.jsonCache, true
		}
	case collCustomers:
		if r, ok := st.Customers[key]; ok {
			return r, &r.jsonCache, true
		}
	case collOrders:
		if r, ok := st.Orders[key]; ok {
			return r, &r.jsonCache, true
		}
	case collSales:
		if r, ok := st.Sales[key]; ok {
			return r, &r.jsonCache, true
		}
	case collWebhooks:
		if r, ok := st.Webhooks[key]; ok {
			return r, &r.jsonCache, true
		}
	case collIdem:
		if r, ok := st.Idem[key]; ok {
			return r, &r.jsonCache, true
		}
	}
	return nil, nil, false
}

// cacheRaw fills c with the record's `"key":value` encoding, which the snapshot reuses.
func cacheRaw(key string, r any, c *jsonCache) error {
	if c.raw != nil {
		return nil
	}
	kb, err := json.Marshal(key)
	if err != nil {
		return err
	}
	vb, err := json.Marshal(r)
	if err != nil {
		return err
	}
	c.raw = append(append(kb, ':'), vb...)
	return nil
}

// logEntry encodes the running update's changes and clears them. Call it under the tenant's lock.
func (st *state) logEntry() ([]byte, error) {
	var b bytes.Buffer
	b.WriteString(`{"seq":`)
	b.WriteString(strconv.FormatInt(st.Seq, 10))
	b.WriteString(`,"next_id":`)
	b.WriteString(strconv.FormatInt(st.NextID, 10))
	b.WriteString(`,"ops":[`)
	seen := make(map[change]bool, len(st.changes))
	first := true
	for _, c := range st.changes {
		if seen[c] {
			continue
		}
		seen[c] = true
		if !first {
			b.WriteByte(',')
		}
		first = false
		b.WriteString(`{"c":"` + c.coll + `",`)
		r, cache, ok := st.record(c.coll, c.key)
		if !ok {
			kb, err := json.Marshal(c.key)
			if err != nil {
				return nil, err
			}
			b.WriteString(`"d":`)
			b.Write(kb)
			b.WriteByte('}')
			continue
		}
		if err := cacheRaw(c.key, r, cache); err != nil {
			return nil, fmt.Errorf("encode %s %s: %w", c.coll, c.key, err)
		}
		b.WriteString(`"r":{`)
		b.Write(cache.raw)
		b.WriteString(`}}`)
	}
	b.WriteString(`]}`)
	st.changes = st.changes[:0]
	return b.Bytes(), nil
}

type logOp struct {
	C string                     `json:"c"`
	R map[string]json.RawMessage `json:"r"`
	D *string                    `json:"d"`
}

type logEntryJSON struct {
	Seq    int64   `json:"seq"`
	NextID int64   `json:"next_id"`
	Ops    []logOp `json:"ops"`
}

// apply replays one log entry onto a loaded state.
func (st *state) apply(entry []byte) error {
	var e logEntryJSON
	if err := json.Unmarshal(entry, &e); err != nil {
		return fmt.Errorf("decode sandbox log entry: %w", err)
	}
	st.Seq, st.NextID = max(st.Seq, e.Seq), max(st.NextID, e.NextID)
	for _, op := range e.Ops {
		if op.D != nil {
			st.remove(op.C, *op.D)
			continue
		}
		for k, v := range op.R {
			if err := st.set(op.C, k, v); err != nil {
				return fmt.Errorf("replay sandbox log entry: %s %s: %w", op.C, k, err)
			}
		}
	}
	return nil
}

func (st *state) remove(coll, key string) {
	switch coll {
	case collProducts:
		delete(st.Products, key)
	case collStock:
		delete(st.Stock, key)
	case collCustomers:
		delete(st.Customers, key)
	case collOrders:
		delete(st.Orders, key)
	case collSales:
		delete(st.Sales, key)
	case collWebhooks:
		delete(st.Webhooks, key)
	case collIdem:
		delete(st.Idem, key)
	}
}

func (st *state) set(coll, key string, v json.RawMessage) error {
	switch coll {
	case collProducts:
		return setRec(st.Products, key, v)
	case collStock:
		return setRec(st.Stock, key, v)
	case collCustomers:
		return setRec(st.Customers, key, v)
	case collOrders:
		return setRec(st.Orders, key, v)
	case collSales:
		return setRec(st.Sales, key, v)
	case collWebhooks:
		return setRec(st.Webhooks, key, v)
	case collIdem:
		return setRec(st.Idem, key, v)
	}
	return fmt.Errorf("unknown collection %q", coll)
}

func setRec[R any](m map[string]*R, key string, v json.RawMessage) error {
	r := new(R)
	if err := json.Unmarshal(v, r); err != nil {
		return err
	}
	m[key] = r
	return nil
}
