package sandbox

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/big"
	"regexp"
	"sort"
	"time"
)

// stateFormat is the version of the persisted JSON state.
const stateFormat = 1

// state is everything one sandbox tenant holds; it is saved as JSON after each change.
// Seq is the tenant's change sequence: every created or changed object takes the next value, so
// listings ordered by it can resume exactly where an earlier read stopped.
type state struct {
	Format    int                    `json:"format"`
	Tag       string                 `json:"tag"` // short hash of the api key, part of order ids
	CreatedAt time.Time              `json:"created_at"`
	Seq       int64                  `json:"seq"`
	NextID    int64                  `json:"next_id"`
	Stores    []wireStore            `json:"stores"`
	Products  map[string]*productRec `json:"products"`
	Stock     map[string]*stockRec   `json:"stock"`
	Customers map[string]*custRec    `json:"customers"`
	Orders    map[string]*orderRec   `json:"orders"`
	Sales     map[string]*saleRec    `json:"sales"`
	Webhooks  map[string]*hookRec    `json:"webhooks"`
	Idem      map[string]*idemRec    `json:"idempotency"`

	maxObjects int       // Options.MaxObjects; not saved
	maxBytes   int       // Options.MaxStateBytes; not saved
	size       int       // about how many bytes the tenant's saved state and log hold; not saved
	prunedAt   time.Time // when pruneIdem last looked; not saved
	changes    []change  // what the running update changed, for its log entry; not saved
}

// change names one record an update set or deleted.
type change struct{ coll, key string }

// The collections of a state, as named in the snapshot and in log entries.
const (
	collProducts  = "products"
	collStock     = "stock"
	collCustomers = "customers"
	collOrders    = "orders"
	collSales     = "sales"
	collWebhooks  = "webhooks"
	collIdem      = "idempotency"
)

// mark records that the record key of coll was set or deleted by the running update. Every
// change to a collection must be marked: only marked records reach the log.
func (st *state) mark(coll, key string) {
	st.changes = append(st.changes, change{coll, key})
}

type productRec struct {
	jsonCache
	Seq int64       `json:"seq"`
	P   wireProduct `json:"p"`
}

type stockRec struct {
	jsonCache
	Seq int64     `json:"seq"`
	S   wireStock `json:"s"`
}

type custRec struct {
	jsonCache
	Seq int64        `json:"seq"`
	C   wireCustomer `json:"c"`
}

type orderRec struct {
	jsonCache
	Seq int64     `json:"seq"`
	N   int64     `json:"n"` // creation number, for listing in creation order
	O   wireOrder `json:"o"`
}

type saleRec struct {
	jsonCache
	Seq int64    `json:"seq"`
	S   wireSale `json:"s"`
}

type hookRec struct {
	jsonCache
	W      wireWebhook `json:"w"`
	Secret string      `json:"secret"`
}

// idemRec is the first answer to a write carrying an Idempotency-Key.
type idemRec struct {
	jsonCache
	BodyHash string          `json:"body_hash"`
	Status   int             `json:"status"`
	Answer   json.RawMessage `json:"answer"`
	At       time.Time       `json:"at"`
}

// jsonCache holds a record's encoded JSON entry. Records are never changed in place (a change stores
// a new record), so the cache stays valid and saving a big tenant re-encodes only what changed.
type jsonCache struct{ raw []byte }

func (c *jsonCache) cached() *jsonCache { return c }

type cacher interface{ cached() *jsonCache }

// stateHead is the part of state encoded without caches.
type stateHead struct {
	Format    int         `json:"format"`
	Tag       string      `json:"tag"`
	CreatedAt time.Time   `json:"created_at"`
	Seq       int64       `json:"seq"`
	NextID    int64       `json:"next_id"`
	Stores    []wireStore `json:"stores"`
}

// encode returns the state as JSON (the same shape json.Marshal gives), reusing each record's
// cached encoding. sizeHint is the expected size (the last encoding's). Call it under the
// tenant's lock.
func (st *state) encode(sizeHint int) ([]byte, error) {
	head, err := json.Marshal(stateHead{st.Format, st.Tag, st.CreatedAt, st.Seq, st.NextID, st.Stores})
	if err != nil {
		return nil, fmt.Errorf("encode state head: %w", err)
	}
	var buf bytes.Buffer
	buf.Grow(sizeHint + sizeHint/8 + 4096)
	buf.Write(head[:len(head)-1])
	for _, m := range []struct {
		name string
		enc  func(*bytes.Buffer) error
	}{
		{"products", func(b *bytes.Buffer) error { return encodeRecs(b, st.Products) }},
		{"stock", func(b *bytes.Buffer) error { return encodeRecs(b, st.Stock) }},
		{"customers", func(b *bytes.Buffer) error { return encodeRecs(b, st.Customers) }},
		{"orders", func(b *bytes.Buffer) error { return encodeRecs(b, st.Orders) }},
		{"sales", func(b *bytes.Buffer) error { return encodeRecs(b, st.Sales) }},
		{"webhooks", func(b *bytes.Buffer) error { return encodeRecs(b, st.Webhooks) }},
		{"idempotency", func(b *bytes.Buffer) error { return encodeRecs(b, st.Idem) }},
	} {
		buf.WriteString(`,"` + m.name + `":`)
		if err := m.enc(&buf); err != nil {
			return nil, fmt.Errorf("encode %s: %w", m.name, err)
		}
	}
	buf.WriteByte('}')
	return buf.Bytes(), nil
}

// encodeRecs writes m as a JSON object. Each record caches its whole `"key":value` entry, since a
// record is stored under one key only.
func encodeRecs[R any](buf *bytes.Buffer, m map[string]*R) error {
	buf.WriteByte('{')
	first := true
	for k, r := range m {
		c := any(r).(cacher).cached()
		if c.raw == nil {
			kb, err := json.Marshal(k)
			if err != nil {
				return err
			}
			vb, err := json.Marshal(r)
			if err != nil {
				return err
			}
			c.raw = append(append(kb, ':'), vb...)
		}
		if !first {
			buf.WriteByte(',')
		}
		first = false
		buf.Write(c.raw)
	}
	buf.WriteByte('}')
	return nil
}

// idemTTL is how long an idempotency key is remembered.
const idemTTL = 24 * time.Hour

func newState(apiKey string, now time.Time) *state {
	return &state{
		Format:    stateFormat,
		Tag:       keyTag(apiKey),
		CreatedAt: now,
		Products:  map[string]*productRec{},
		Stock:     map[string]*stockRec{},
		Customers: map[string]*custRec{},
		Orders:    map[string]*orderRec{},
		Sales:     map[string]*saleRec{},
		Webhooks:  map[string]*hookRec{},
		Idem:      map[string]*idemRec{},
	}
}

// fixMaps makes the maps of a loaded state non-nil.
func (st *state) fixMaps() {
	if st.Products == nil {
		st.Products = map[string]*productRec{}
	}
	if st.Stock == nil {
		st.Stock = map[string]*stockRec{}
	}
	if st.Customers == nil {
		st.Customers = map[string]*custRec{}
	}
	if st.Orders == nil {
		st.Orders = map[string]*orderRec{}
	}
	if st.Sales == nil {
		st.Sales = map[string]*saleRec{}
	}
	if st.Webhooks == nil {
		st.Webhooks = map[string]*hookRec{}
	}
	if st.Idem == nil {
		st.Idem = map[string]*idemRec{}
	}
}

// keyTag is a short, stable, non-reversible tag of an api key.
func keyTag(apiKey string) string {
	h := sha256.Sum256([]byte("posbridge-sandbox:" + apiKey))
	return hex.EncodeToString(h[:4])
}

// next returns the next change sequence number.
func (st *state) next() int64 {
	st.Seq++
	return st.Seq
}

// newID returns a fresh id with the prefix; order ids also carry the tenant tag so the order page
// can find its tenant without the api key.
func (st *state) newID(prefix string) string {
	st.NextID++
	if prefix == "ord" {
		return fmt.Sprintf("ord_%s_%d", st.Tag, st.NextID)
	}
	return fmt.Sprintf("%s_%d", prefix, st.NextID)
}

func (st *state) store(id string) (wireStore, bool) {
	for _, s := range st.Stores {
		if s.ID == id {
			return s, true
		}
	}
	return wireStore{}, false
}

// bySeq returns the values of m ordered by their change sequence.
func bySeq[R any](m map[string]*R, seq func(*R) int64) []*R {
	out := make([]*R, 0, len(m))
	for _, r := range m {
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool { return seq(out[i]) < seq(out[j]) })
	return out
}

func stockKey(productID, variantID, locationID string) string {
	return productID + "|" + variantID + "|" + locationID
}

// pruneIdem forgets idempotency keys older than idemTTL, looking at most once a minute (each look
// goes over every key).
func (st *state) pruneIdem(now time.Time) {
	if now.Sub(st.prunedAt) < time.Minute {
		return
	}
	st.prunedAt = now
	for k, r := range st.Idem {
		if now.Sub(r.At) > idemTTL {
			delete(st.Idem, k)
		}
	}
}

var (
	quantityRe      = regexp.MustCompile(`^[0-9]{1,9}(\.[0-9]{1,5})?$`)
	stockQuantityRe = regexp.MustCompile(`^-?[0-9]{1,9}(\.[0-9]{1,5})?$`)
	taxRateRe       = regexp.MustCompile(`^[0-9]{1,2}(\.[0-9]{1,2})?$`)
	weightRe        = regexp.MustCompile(`^[0-9]{1,6}(\.[0-9]{1,3})?$`)
)

// lineTotal is quantity x unit amount in minor units, rounded half away from zero.
// quantity must have passed quantityRe.
func lineTotal(quantity string, unit int64) int64 {
	q, ok := new(big.Rat).SetString(quantity)
	if !ok {
		return 0
	}
	p := new(big.Rat).Mul(q, new(big.Rat).SetInt64(unit))
	num, den := p.Num(), p.Denom()
	quo, rem := new(big.Int).QuoRem(num, den, new(big.Int))
	// Round half away from zero: compare 2*|rem| with den.
	rem2 := new(big.Int).Abs(rem)
	rem2.Lsh(rem2, 1)
	if rem2.Cmp(den) >= 0 {
		if num.Sign() < 0 {
			quo.Sub(quo, big.NewInt(1))
		} else {
			quo.Add(quo, big.NewInt(1))
		}
	}
	return quo.Int64()
}
