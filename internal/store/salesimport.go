package store

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash/maphash"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/posbridge/posbridge/internal/domain"
)

// importBatch is how many rows one multi-row statement carries at most; smaller batches are
// cut to the sizes of batchSizes, so the statement texts (each kept prepared on SQLite) are few.
const importBatch = 256

var batchSizes = []int{importBatch, 64, 16, 4, 1}

// copyAtLeast is from how many rows PostgreSQL gets them by COPY rather than INSERT.
const copyAtLeast = 64

// SalesImport is one import of an integration's sales, in the caller's transaction, given a
// chunk of sales at a time (Add) and closed by Finish. A sale is keyed by (integration, provider
// sale id): a new one is inserted, one whose content changed (a refund, a void) is updated with
// its lines and payments replaced, and one already there unchanged is left. Every line's POS item
// is kept: created on first sight, its name, price and times written once per import (Finish).
// Begin it after LockIntegration, in the transaction that also moves the integration's cursor and
// times, so a failed import leaves nothing and no other import of the integration runs meanwhile.
type SalesImport struct {
	q                        queries
	accountID, integrationID string
	newID                    func(prefix string) string
	now                      int64
	seq                      int64
	items                    map[string]string    // item key -> POS item id (all of the integration's)
	seen                     map[string]*itemSeen // item key -> what this import saw of it
	res                      ImportResult
	hbuf                     []byte
	// reused between chunks
	ids         []string
	last        map[string]int
	known       map[string]knownSale
	sales, news []any
	jbuf        []byte
	// fresh: the integration had no sale when the import began, so only a sale id this import
	// already added can be in the table; added holds those ids' hashes (a collision costs a
	// look-up, nothing more).
	fresh bool
	added map[uint64]struct{}
	seed  maphash.Seed
	// the values every new sale's row repeats, boxed once
	acctV, integV, nowV any
}

type knownSale struct{ id, hash string }

// itemSeen is the latest line of a POS item in this import, and when it was first and last sold.
type itemSeen struct {
	name, sku, currency string
	price               int64
	first, last         int64
}

// BeginSalesImport starts an import of an integration's sales (see SalesImport). newID makes
// ids for new rows ("sale", "posi").
func (s queries) BeginSalesImport(ctx context.Context, accountID, integrationID string, newID func(prefix string) string, now time.Time) (*SalesImport, error) {
	im := &SalesImport{q: s, accountID: accountID, integrationID: integrationID, newID: newID, now: micros(now),
		items: map[string]string{}, seen: map[string]*itemSeen{}, last: map[string]int{}, known: map[string]knownSale{},
		added: map[uint64]struct{}{}, seed: maphash.MakeSeed(), acctV: accountID, integV: integrationID, nowV: micros(now)}
	if err := s.q.queryRow(ctx, `SELECT sales_seq FROM integrations WHERE account_id = $1 AND id = $2`, accountID, integrationID).Scan(&im.seq); err != nil {
		return nil, fmt.Errorf("read sales seq: %w", err)
	}
	im.fresh = im.seq == 0
	rs, err := s.q.query(ctx, `SELECT external_id, id FROM pos_items WHERE account_id = $1 AND integration_id = $2`, accountID, integrationID)
	if err != nil {
		return nil, fmt.Errorf("read POS items: %w", err)
	}
	defer rs.Close()
	for rs.Next() {
		var k, id string
		if err := rs.Scan(&k, &id); err != nil {
			return nil, err
		}
		im.items[k] = id
	}
	if err := rs.Err(); err != nil {
		return nil, fmt.Errorf("read POS items: %w", err)
	}
	return im, nil
}

// ImportSales imports sales in one go: BeginSalesImport, Add and Finish.
func (s queries) ImportSales(ctx context.Context, accountID, integrationID string, sales []domain.ImportedSale, newID func(prefix string) string, now time.Time) (ImportResult, error) {
	im, err := s.BeginSalesImport(ctx, accountID, integrationID, newID, now)
	if err != nil {
		return ImportResult{}, err
	}
	if err := im.Add(ctx, sales); err != nil {
		return ImportResult{}, err
	}
	return im.Finish(ctx)
}

// saleHash is the content of a sale that, when it changes, makes the import update the row: a
// SHA-256 of its fields (each string with its length), 16 bytes in hex.
func (im *SalesImport) saleHash(s *domain.ImportedSale) string {
	b := im.hbuf[:0]
	str := func(v string) {
		b = binary.AppendUvarint(b, uint64(len(v)))
		b = append(b, v...)
	}
	num := func(v int64) { b = binary.LittleEndian.AppendUint64(b, uint64(v)) }
	str(s.Number)
	str(s.StoreID)
	str(s.Status)
	str(s.Currency)
	num(s.Total)
	num(micros(s.SoldAt))
	num(int64(len(s.Lines)))
	for _, l := range s.Lines {
		str(l.ItemKey)
		str(l.SKU)
		str(l.Name)
		str(l.Quantity)
		num(l.UnitPrice)
		num(l.Total)
	}
	num(int64(len(s.Payments)))
	for _, p := range s.Payments {
		str(p.Method)
		num(p.Amount)
	}
	im.hbuf = b
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:16])
}

// Add imports a chunk of sales. A sale id given twice in a chunk: the last one counts; in two
// chunks, the later one updates the earlier.
func (im *SalesImport) Add(ctx context.Context, sales []domain.ImportedSale) error {
	if len(sales) == 0 {
		return nil
	}
	last := im.last
	clear(last)
	for n := range sales {
		last[sales[n].ExternalID] = n
	}
	im.ids = im.ids[:0]
	for n := range sales {
		ext := sales[n].ExternalID
		if last[ext] != n {
			continue
		}
		if im.fresh {
			if _, ok := im.added[maphash.String(im.seed, ext)]; !ok {
				continue // not in the table: no look-up
			}
		}
		im.ids = append(im.ids, ext)
	}
	clear(im.known)
	if err := im.lookup(ctx); err != nil {
		return err
	}
	im.sales, im.news = im.sales[:0], im.news[:0]
	acct, now := im.accountID, im.now
	for n := range sales {
		sale := &sales[n]
		if last[sale.ExternalID] != n {
			continue
		}
		h := im.saleHash(sale)
		k, ok := im.known[sale.ExternalID]
		if ok && k.hash == h {
			im.res.Unchanged++
			continue
		}
		id := k.id
		if !ok {
			id = im.newID("sale")
		}
		sold := micros(sale.SoldAt)
		lines, payments := im.encode(sale, sold)
		im.seq++
		if im.res.FirstSeq == 0 {
			im.res.FirstSeq = im.seq
		}
		im.res.LastSeq = im.seq
		if !ok {
			im.sales = append(im.sales, id, im.acctV, im.integV, sale.ExternalID, sale.Number, sale.StoreID, sale.Status, sale.Currency,
				sale.Total, sold, h, im.seq, im.nowV, im.nowV, lines, payments)
			if im.fresh {
				im.added[maphash.String(im.seed, sale.ExternalID)] = struct{}{}
			}
			im.res.New++
			continue
		}
		if _, err := im.q.q.exec(ctx, `UPDATE sales SET number = $3, store_id = $4, status = $5, currency = $6, total = $7, sold_at = $8,
			hash = $9, seq = $10, updated_at = $11, lines = $12, payments = $13 WHERE account_id = $1 AND id = $2`,
			acct, id, sale.Number, sale.StoreID, sale.Status, sale.Currency, sale.Total, sold, h, im.seq, now, lines, payments); err != nil {
			return fmt.Errorf("update sale %s: %w", sale.ExternalID, err)
		}
		im.res.Updated++
	}
	if err := im.q.insertMany(ctx, "pos_items", posItemInsertCols, im.news); err != nil {
		return fmt.Errorf("insert POS items: %w", err)
	}
	if err := im.q.insertMany(ctx, "sales", saleInsertCols, im.sales); err != nil {
		return fmt.Errorf("insert sales: %w", err)
	}
	return nil
}

// encode gives a sale's lines and payments as kept in its row (JSON arrays: [pos_item_id, name,
// quantity, unit_price, total] a line, [method, amount] a payment), and notes each line's POS
// item: new ones get an id and are inserted with the chunk.
func (im *SalesImport) encode(sale *domain.ImportedSale, sold int64) (lines, payments string) {
	b := append(im.jbuf[:0], '[')
	for ln := range sale.Lines {
		l := &sale.Lines[ln]
		item, ok := im.items[l.ItemKey]
		if !ok {
			item = im.newID("posi")
			im.items[l.ItemKey] = item
			im.news = append(im.news, item, im.accountID, im.integrationID, l.ItemKey, l.Name, l.SKU, sale.Currency, l.UnitPrice, sold, sold)
			im.res.NewItems++
		}
		if x := im.seen[l.ItemKey]; x == nil {
			im.seen[l.ItemKey] = &itemSeen{name: l.Name, sku: l.SKU, currency: sale.Currency, price: l.UnitPrice, first: sold, last: sold}
		} else {
			if sold >= x.last {
				x.name, x.sku, x.currency, x.price, x.last = l.Name, l.SKU, sale.Currency, l.UnitPrice, sold
			}
			x.first = min(x.first, sold)
		}
		if ln > 0 {
			b = append(b, ',')
		}
		b = append(b, '[')
		b = appendJSONString(b, item)
		b = append(b, ',')
		b = appendJSONString(b, l.Name)
		b = append(b, ',')
		b = appendJSONString(b, l.Quantity)
		b = append(b, ',')
		b = strconv.AppendInt(b, l.UnitPrice, 10)
		b = append(b, ',')
		b = strconv.AppendInt(b, l.Total, 10)
		b = append(b, ']')
	}
	b = append(b, ']')
	lines = string(b)
	b = append(b[:0], '[')
	for pn := range sale.Payments {
		p := &sale.Payments[pn]
		if pn > 0 {
			b = append(b, ',')
		}
		b = append(b, '[')
		b = appendJSONString(b, p.Method)
		b = append(b, ',')
		b = strconv.AppendInt(b, p.Amount, 10)
		b = append(b, ']')
	}
	b = append(b, ']')
	payments = string(b)
	im.jbuf = b
	return lines, payments
}

const hexDigits = "0123456789abcdef"

// appendJSONString appends s (valid UTF-8: the store refuses other text) as a JSON string.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' {
			continue
		}
		b = append(b, s[start:i]...)
		switch c {
		case '"', '\\':
			b = append(b, '\\', c)
		case '\n':
			b = append(b, '\\', 'n')
		case '\t':
			b = append(b, '\\', 't')
		case '\r':
			b = append(b, '\\', 'r')
		default:
			b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&15])
		}
		start = i + 1
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

var (
	saleInsertCols = []string{"id", "account_id", "integration_id", "external_id", "number", "store_id", "status", "currency", "total",
		"sold_at", "hash", "seq", "created_at", "updated_at", "lines", "payments"}
	posItemInsertCols = []string{"id", "account_id", "integration_id", "external_id", "name", "sku", "currency", "last_unit_price",
		"first_seen_at", "last_seen_at"}
)

// lookup reads the id and hash of the sales of im.ids already imported into im.known. By the
// unique (integration_id, external_id) index alone: with account_id too, SQLite may pick the
// (account_id, integration_id, seq) index and read every sale of the integration. The caller
// holds the integration of the account (LockIntegration).
func (im *SalesImport) lookup(ctx context.Context) error {
	if len(im.ids) == 0 {
		return nil
	}
	scan := func(rs rows) error {
		defer rs.Close()
		for rs.Next() {
			var ext string
			var k knownSale
			if err := rs.Scan(&ext, &k.id, &k.hash); err != nil {
				return err
			}
			im.known[ext] = k
		}
		return rs.Err()
	}
	if im.q.dialect == Postgres {
		// One array parameter: one statement text whatever the chunk's size.
		rs, err := im.q.q.query(ctx, `SELECT external_id, id, hash FROM sales WHERE integration_id = $1 AND external_id = ANY($2::text[])`,
			im.integrationID, im.ids)
		if err == nil {
			err = scan(rs)
		}
		if err != nil {
			return fmt.Errorf("read sales: %w", err)
		}
		return nil
	}
	args := make([]any, 0, importBatch+1)
	for rest := im.ids; len(rest) > 0; {
		n := batchSize(len(rest))
		args = append(args[:0], im.integrationID)
		for _, id := range rest[:n] {
			args = append(args, id)
		}
		rest = rest[n:]
		rs, err := im.q.q.query(ctx, `SELECT external_id, id, hash FROM sales WHERE integration_id = ? AND external_id IN (`+
			im.q.placeholders(n, 1)+`)`, args...)
		if err == nil {
			err = scan(rs)
		}
		if err != nil {
			return fmt.Errorf("read sales: %w", err)
		}
	}
	return nil
}

// Finish writes what the import saw of each POS item (name, SKU, currency and price of its
// latest sale, first and last sold; an older import's later sale keeps its own) and the
// integration's change counter, and tells what the import did.
func (im *SalesImport) Finish(ctx context.Context) (ImportResult, error) {
	keys := make([]string, 0, len(im.seen))
	for k := range im.seen {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	steps := make([]step, 0, len(keys))
	for _, key := range keys {
		x := im.seen[key]
		steps = append(steps, step{q: `UPDATE pos_items SET
			name = CASE WHEN $4 >= last_seen_at THEN $5 ELSE name END,
			sku = CASE WHEN $4 >= last_seen_at THEN $6 ELSE sku END,
			currency = CASE WHEN $4 >= last_seen_at THEN $7 ELSE currency END,
			last_unit_price = CASE WHEN $4 >= last_seen_at THEN $8 ELSE last_unit_price END,
			first_seen_at = CASE WHEN $9 < first_seen_at THEN $9 ELSE first_seen_at END,
			last_seen_at = CASE WHEN $4 > last_seen_at THEN $4 ELSE last_seen_at END
			WHERE account_id = $1 AND integration_id = $2 AND id = $3`,
			args: []any{im.accountID, im.integrationID, im.items[key], x.last, x.name, x.sku, x.currency, x.price, x.first}})
	}
	for b := 0; b < len(steps); b += 500 {
		if err := im.q.q.batch(ctx, steps[b:min(b+500, len(steps))]); err != nil {
			return im.res, fmt.Errorf("keep POS items: %w", err)
		}
	}
	if im.res.LastSeq != 0 {
		if _, err := im.q.q.exec(ctx, `UPDATE integrations SET sales_seq = $3 WHERE account_id = $1 AND id = $2`, im.accountID, im.integrationID, im.seq); err != nil {
			return im.res, fmt.Errorf("write sales seq: %w", err)
		}
	}
	return im.res, nil
}

// batchSize is the size of the next batch of n rows still to go: one of batchSizes.
func batchSize(n int) int {
	for _, b := range batchSizes {
		if n >= b {
			return b
		}
	}
	return n
}

// placeholders is the parameters of n rows of width values ("(?, ?), (?, ?)"; no parentheses
// when width is 1): anonymous on SQLite, as SQLite looks a numbered one's name up in a list,
// which makes binding thousands of them quadratic; $1, $2... on PostgreSQL.
func (s queries) placeholders(n, width int) string {
	var q strings.Builder
	q.Grow(n * (width*4 + 4))
	for r := 0; r < n; r++ {
		if r > 0 {
			q.WriteString(", ")
		}
		if width > 1 {
			q.WriteByte('(')
		}
		for c := 0; c < width; c++ {
			if c > 0 {
				q.WriteString(", ")
			}
			if s.dialect == Postgres {
				q.WriteByte('$')
				q.WriteString(strconv.Itoa(r*width + c + 1))
			} else {
				q.WriteByte('?')
			}
		}
		if width > 1 {
			q.WriteByte(')')
		}
	}
	return q.String()
}

// inBatches runs format (a statement with one %s for a list of parameters) over args, width
// values a row, in batches of batchSizes.
func (s queries) inBatches(ctx context.Context, format string, width int, args []any) error {
	for rest := args; len(rest) > 0; {
		n := batchSize(len(rest) / width)
		if _, err := s.q.exec(ctx, fmt.Sprintf(format, s.placeholders(n, width)), rest[:n*width]...); err != nil {
			return err
		}
		rest = rest[n*width:]
	}
	return nil
}

// copier is a PostgreSQL transaction that takes rows by COPY.
type copier interface {
	CopyFrom(ctx context.Context, table pgx.Identifier, cols []string, src pgx.CopyFromSource) (int64, error)
}

// insertMany inserts rows into table: args holds len(cols) values a row, one row after the other.
// PostgreSQL takes many by COPY; otherwise multi-row INSERTs.
func (s queries) insertMany(ctx context.Context, table string, cols []string, args []any) error {
	w := len(cols)
	if len(args) == 0 {
		return nil
	}
	if pq, ok := s.q.(pgxQuerier); ok && len(args)/w >= copyAtLeast {
		if c, ok := pq.c.(copier); ok {
			if err := checkArgs(args); err != nil {
				return err
			}
			n := len(args) / w
			_, err := c.CopyFrom(ctx, pgx.Identifier{table}, cols, pgx.CopyFromSlice(n, func(i int) ([]any, error) {
				return args[i*w : (i+1)*w], nil
			}))
			return mapDBError(err)
		}
	}
	return s.inBatches(ctx, "INSERT INTO "+table+" ("+strings.Join(cols, ", ")+") VALUES %s", w, args)
}
