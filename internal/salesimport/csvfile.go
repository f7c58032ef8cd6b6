package salesimport

import (
	"archive/zip"
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/posbridge/posbridge/internal/connector"
	"github.com/posbridge/posbridge/internal/domain"
)

// The fields a sales file's columns map to. sale_id, sold_at (or sold_date with sold_time),
// item, quantity and total (or unit_price) are needed; the others are optional.
const (
	FieldSaleID        = "sale_id"
	FieldSoldAt        = "sold_at"
	FieldSoldDate      = "sold_date"
	FieldSoldTime      = "sold_time"
	FieldItem          = "item"
	FieldItemID        = "item_id"
	FieldSKU           = "sku"
	FieldQuantity      = "quantity"
	FieldUnitPrice     = "unit_price"
	FieldTotal         = "total"
	FieldStatus        = "status"
	FieldPaymentMethod = "payment_method"
	FieldStore         = "store"
	FieldCurrency      = "currency"
	FieldNumber        = "number"
)

var allFields = [...]string{FieldSaleID, FieldSoldAt, FieldSoldDate, FieldSoldTime, FieldItem, FieldItemID, FieldSKU, FieldQuantity,
	FieldUnitPrice, FieldTotal, FieldStatus, FieldPaymentMethod, FieldStore, FieldCurrency, FieldNumber}

// field is a field's place in allFields.
type field int

const (
	fSaleID field = iota
	fSoldAt
	fSoldDate
	fSoldTime
	fItem
	fItemID
	fSKU
	fQuantity
	fUnitPrice
	fTotal
	fStatus
	fPaymentMethod
	fStore
	fCurrency
	fNumber
)

// Presets are column mappings of common POS exports (field -> column header).
var Presets = map[string]map[string]string{
	// posbridge's own layout, the default.
	"posbridge": {FieldSaleID: "sale_id", FieldSoldAt: "sold_at", FieldItem: "item", FieldItemID: "item_id", FieldSKU: "sku",
		FieldQuantity: "quantity", FieldUnitPrice: "unit_price", FieldTotal: "total", FieldStatus: "status",
		FieldPaymentMethod: "payment_method", FieldStore: "store", FieldCurrency: "currency", FieldNumber: "number"},
	// Square's "Item Sales Detail" export.
	"square": {FieldSaleID: "Transaction ID", FieldSoldDate: "Date", FieldSoldTime: "Time", FieldItem: "Item", FieldSKU: "SKU",
		FieldQuantity: "Qty", FieldTotal: "Net Sales", FieldStatus: "Event Type", FieldStore: "Location"},
	// Lightspeed Retail's "Sales lines" export.
	"lightspeed": {FieldSaleID: "Sale ID", FieldSoldAt: "Date", FieldItem: "Item", FieldSKU: "Custom SKU", FieldQuantity: "Qty",
		FieldUnitPrice: "Unit Price", FieldTotal: "Total", FieldPaymentMethod: "Payment Type", FieldStore: "Shop"},
	// Toast's "Item selection details" export.
	"toast": {FieldSaleID: "Order Id", FieldSoldAt: "Order Date", FieldItem: "Menu Item", FieldItemID: "Item Id", FieldSKU: "SKU",
		FieldQuantity: "Qty", FieldTotal: "Net Price", FieldStatus: "Void?", FieldStore: "Location"},
}

// Mapping is an email integration's column mapping: a preset and overrides of it.
type Mapping struct {
	Preset   string            `json:"preset"`             // a key of Presets ("posbridge" when empty)
	Columns  map[string]string `json:"columns,omitempty"`  // field -> column header, over the preset ("" drops a field)
	Currency string            `json:"currency,omitempty"` // of amounts when the file has no currency column (default EUR)
	Decimal  string            `json:"decimal,omitempty"`  // decimal separator: "." (default) or ","
	Timezone string            `json:"timezone,omitempty"` // IANA zone of times without an offset (default UTC)
}

// ParseMapping reads and checks a stored or given mapping.
func ParseMapping(raw []byte) (Mapping, error) {
	var m Mapping
	if len(bytes.TrimSpace(raw)) > 0 {
		if err := json.Unmarshal(raw, &m); err != nil {
			return m, domain.Invalid("mapping", "mapping is not valid: %v", err)
		}
	}
	return m, m.Check()
}

// Check tells what is wrong with a mapping (the first thing), naming the field, in a sentence
// for the merchant.
func (m *Mapping) Check() error {
	if p := m.Problems(); len(p) > 0 {
		return p[0]
	}
	return nil
}

// Problems tells everything wrong with a mapping, each naming its field (a form shows them all).
// An empty preset becomes posbridge's.
func (m *Mapping) Problems() []error {
	if m.Preset == "" {
		m.Preset = "posbridge"
	}
	if _, ok := Presets[m.Preset]; !ok {
		return []error{domain.Invalid("mapping.preset", "Choose one of the layouts %s.", strings.Join(PresetNames(), ", "))}
	}
	var out []error
	for _, f := range allFields {
		col, ok := m.Columns[f]
		if !ok {
			continue
		}
		if err := domain.CheckText("mapping.columns."+f, col, domain.TextNickname); err != nil {
			out = append(out, err)
		}
	}
	for f := range m.Columns {
		if !contains(allFields[:], f) {
			out = append(out, domain.Invalid("mapping.columns."+f, "unknown field %q; the fields are %s", f, strings.Join(allFields[:], ", ")))
		}
	}
	cols := m.columns()
	for _, f := range []string{FieldSaleID, FieldItem, FieldQuantity} {
		if cols[f] == "" {
			out = append(out, domain.Invalid("mapping.columns."+f, "A column for the %s is needed: enter its header as it is in your file.", strings.ToLower(FieldLabels[f])))
		}
	}
	if cols[FieldSoldAt] == "" && cols[FieldSoldDate] == "" {
		out = append(out, domain.Invalid("mapping.columns."+FieldSoldAt, "A column for the time of sale, or one for its date, is needed: enter its header as it is in your file."))
	}
	if cols[FieldTotal] == "" && cols[FieldUnitPrice] == "" {
		out = append(out, domain.Invalid("mapping.columns."+FieldTotal, "A column for the line total, or one for the unit price, is needed: enter its header as it is in your file."))
	}
	if m.Currency != "" && (len(m.Currency) != 3 || strings.ToUpper(m.Currency) != m.Currency) {
		out = append(out, domain.Invalid("mapping.currency", "The currency must be a three-letter code in capitals, such as EUR."))
	}
	if m.Decimal != "" && m.Decimal != "." && m.Decimal != "," {
		out = append(out, domain.Invalid("mapping.decimal", `The decimal separator must be "." or ",".`))
	}
	if m.Timezone != "" {
		if _, err := time.LoadLocation(m.Timezone); err != nil || strings.EqualFold(m.Timezone, "local") {
			out = append(out, domain.Invalid("mapping.timezone", "The time zone %q is not known: use a name such as Europe/Amsterdam.", clip(m.Timezone)))
		}
	}
	return out
}

// FieldLabels names each field of a sales file for the merchant.
var FieldLabels = map[string]string{
	FieldSaleID: "Sale id", FieldSoldAt: "Time of sale", FieldSoldDate: "Date of sale", FieldSoldTime: "Time of day",
	FieldItem: "Item name", FieldItemID: "Item id", FieldSKU: "SKU", FieldQuantity: "Quantity", FieldUnitPrice: "Unit price",
	FieldTotal: "Line total", FieldStatus: "Status", FieldPaymentMethod: "Payment method", FieldStore: "Store",
	FieldCurrency: "Currency", FieldNumber: "Receipt number",
}

// Fields lists the fields a sales file's columns map to, in the order the console shows them.
func Fields() []string { return append([]string(nil), allFields[:]...) }

// Headers is the mapping's column header of each field it reads (the preset's, overridden).
func (m Mapping) Headers() map[string]string {
	if _, ok := Presets[m.Preset]; !ok {
		m.Preset = "posbridge"
	}
	return m.columns()
}

// PresetNames lists the presets, sorted.
func PresetNames() []string {
	var out []string
	for k := range Presets {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func contains(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}

// columns is the mapping's field -> header.
func (m Mapping) columns() map[string]string {
	out := map[string]string{}
	for f, c := range Presets[m.Preset] {
		out[f] = c
	}
	for f, c := range m.Columns {
		if c == "" {
			delete(out, f)
		} else {
			out[f] = c
		}
	}
	return out
}

// FileError is a bad sales file: what is wrong and on which line (1 is the header).
type FileError struct {
	Line    int
	Message string
}

func (e *FileError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("line %d: %s", e.Line, e.Message)
	}
	return e.Message
}

func fileErr(line int, format string, args ...any) error {
	return &FileError{Line: line, Message: fmt.Sprintf(format, args...)}
}

// MaxUnzipped bounds what a zipped sales file may unpack to.
const MaxUnzipped = 64 << 20

// Unzip returns the CSV file inside a zip archive (the first *.csv; the only file otherwise).
func Unzip(b []byte) ([]byte, string, error) {
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		return nil, "", fileErr(0, "the zip file cannot be read: %v", err)
	}
	var pick *zip.File
	for _, f := range zr.File {
		if strings.HasSuffix(strings.ToLower(f.Name), ".csv") {
			pick = f
			break
		}
	}
	if pick == nil && len(zr.File) == 1 {
		pick = zr.File[0]
	}
	if pick == nil {
		return nil, "", fileErr(0, "the zip file holds no .csv file")
	}
	rc, err := pick.Open()
	if err != nil {
		return nil, "", fileErr(0, "%s in the zip file cannot be read: %v", pick.Name, err)
	}
	defer rc.Close()
	out, err := io.ReadAll(io.LimitReader(rc, MaxUnzipped+1))
	if err != nil {
		return nil, "", fileErr(0, "%s in the zip file cannot be read: %v", pick.Name, err)
	}
	if len(out) > MaxUnzipped {
		return nil, "", fileErr(0, "%s unpacks to more than %d MiB", pick.Name, MaxUnzipped>>20)
	}
	return out, pick.Name, nil
}

// ParseCSV reads a whole sales file: one row per sale line, the sale's id repeated on each of
// its lines. The first row names the columns; ',' or ';' separate them. Any error names its line
// and nothing of the file is taken.
func ParseCSV(data []byte, m Mapping) ([]domain.ImportedSale, error) {
	var all []domain.ImportedSale
	err := StreamCSV(bytes.NewReader(data), m, math.MaxInt, func(chunk []domain.ImportedSale) error {
		all = append(all, chunk...)
		return nil
	})
	return all, err
}

// StreamCSV reads a sales file from r and hands its sales to fn about chunk at a time (a sale's
// lines are consecutive rows); fn must not keep the slice, which is reused. An error of the file is a *FileError naming its line; fn has then
// been given the sales before it, which the caller's transaction must roll back.
func StreamCSV(rd io.Reader, m Mapping, chunk int, fn func([]domain.ImportedSale) error) error {
	if err := m.Check(); err != nil {
		return &FileError{Message: err.Error()}
	}
	br := bufio.NewReaderSize(rd, 64<<10)
	if b, err := br.Peek(3); err == nil && bytes.Equal(b, []byte("\xef\xbb\xbf")) {
		br.Discard(3) //nolint:errcheck // peeked
	}
	first, _ := br.Peek(4096)
	first, _, _ = bytes.Cut(first, []byte("\n"))
	r := csv.NewReader(br)
	if bytes.Count(first, []byte(";")) > bytes.Count(first, []byte(",")) {
		r.Comma = ';'
	}
	r.FieldsPerRecord = -1
	r.ReuseRecord = true
	header, err := r.Read()
	if err == io.EOF {
		return fileErr(1, "the file is empty")
	}
	if err != nil {
		return csvErr(err)
	}
	if err := checkText(header, 1); err != nil {
		return err
	}
	idx := map[string]int{}
	for i, h := range header {
		idx[strings.ToLower(strings.TrimSpace(h))] = i
	}
	cols := m.columns()
	pos := map[string]int{}
	var missing []string
	for f, c := range cols {
		if i, ok := idx[strings.ToLower(c)]; ok {
			pos[f] = i
		}
	}
	// The column of each field by its place in allFields (-1: none), so a row reads its fields
	// without a map look-up each.
	var at [len(allFields)]int
	for n, f := range allFields {
		at[n] = -1
		if i, ok := pos[f]; ok {
			at[n] = i
		}
	}
	need := func(f string) {
		if _, ok := pos[f]; !ok {
			missing = append(missing, fmt.Sprintf("%q (%s)", cols[f], f))
		}
	}
	need(FieldSaleID)
	need(FieldItem)
	need(FieldQuantity)
	if _, ok := pos[FieldSoldAt]; !ok {
		need(FieldSoldDate)
	}
	if _, ok := pos[FieldTotal]; !ok {
		need(FieldUnitPrice)
	}
	if len(missing) > 0 {
		sort.Strings(missing)
		return fileErr(1, "unknown columns: the mapping (preset %s) needs the column(s) %s; the file has %s",
			m.Preset, strings.Join(missing, ", "), quoteAll(header))
	}
	loc := time.UTC
	if m.Timezone != "" {
		loc, _ = time.LoadLocation(m.Timezone)
	}
	currency := m.Currency
	if currency == "" {
		currency = "EUR"
	}
	var out []domain.ImportedSale
	bySale := map[string]int{}
	var dates dateParser
	flush := func() error {
		// A payment method column gives who paid, not how much: a single method pays the whole.
		for i := range out {
			if len(out[i].Payments) == 1 {
				out[i].Payments[0].Amount = out[i].Total
			}
		}
		if len(out) == 0 {
			return nil
		}
		err := fn(out)
		out = out[:0] // fn keeps none of the chunk
		clear(bySale)
		return err
	}
	for {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return csvErr(err)
		}
		line, _ := r.FieldPos(0)
		if err := checkText(rec, line); err != nil {
			return err
		}
		get := func(f field) string {
			i := at[f]
			if i < 0 || i >= len(rec) {
				return ""
			}
			return strings.TrimSpace(rec[i])
		}
		if len(rec) == 1 && strings.TrimSpace(rec[0]) == "" {
			continue // a blank line
		}
		id := get(fSaleID)
		if id == "" {
			return fileErr(line, "no sale id in column %q", cols[FieldSaleID])
		}
		if len(id) > maxText {
			return fileErr(line, "the sale id is longer than %d characters", maxText)
		}
		cur := currency
		if c := get(fCurrency); c != "" {
			if len(c) != 3 {
				return fileErr(line, "currency %q is not an ISO 4217 code", c)
			}
			cur = strings.ToUpper(c)
		}
		exp := connector.CurrencyExponent(cur)
		qty := strings.ReplaceAll(get(fQuantity), ",", ".")
		if _, err := strconv.ParseFloat(qty, 64); err != nil || strings.ContainsAny(qty, "eEnN") {
			return fileErr(line, "quantity %q is not a number", get(fQuantity))
		}
		amount := func(f field) (int64, bool, error) {
			v := get(f)
			if v == "" {
				return 0, false, nil
			}
			n, err := parseAmount(v, exp, m.Decimal)
			if err != nil {
				return 0, false, fileErr(line, "%s %q is not an amount: %v", allFields[f], v, err)
			}
			return n, true, nil
		}
		unit, hasUnit, err := amount(fUnitPrice)
		if err != nil {
			return err
		}
		total, hasTotal, err := amount(fTotal)
		if err != nil {
			return err
		}
		if !hasTotal && !hasUnit {
			return fileErr(line, "no amount: column %q is empty", cols[FieldTotal])
		}
		if q, err := strconv.ParseInt(qty, 10, 64); err == nil && q != 0 {
			if !hasTotal {
				if hi, lo := mul64(unit, q); hi {
					return fileErr(line, "the line total is out of range")
				} else {
					total = lo
				}
			} else if !hasUnit {
				unit = total / q
			}
		}
		when, err := dates.soldAt(get(fSoldAt), get(fSoldDate), get(fSoldTime), loc)
		if err != nil {
			return fileErr(line, "%v", err)
		}
		name := get(fItem)
		if name == "" {
			return fileErr(line, "no item name in column %q", cols[FieldItem])
		}
		l := domain.OrderLine{ProductID: get(fItemID), SKU: get(fSKU), Name: name}
		sl := domain.SaleLine{ItemKey: ItemKey(l), SKU: clip(l.SKU), Name: clip(name), Quantity: clip(qty), UnitPrice: unit, Total: total}
		n, ok := bySale[id]
		if !ok && len(out) >= chunk {
			if err := flush(); err != nil {
				return err
			}
		}
		if !ok {
			n = len(out)
			bySale[id] = n
			out = append(out, domain.ImportedSale{ExternalID: id, Number: clip(get(fNumber)), StoreID: clip(get(fStore)),
				Status: domain.SaleCompleted, Currency: cur, SoldAt: when, Lines: make([]domain.SaleLine, 0, 4)})
		}
		s := &out[n]
		if s.Currency != cur {
			return fileErr(line, "sale %s has lines in %s and %s", id, s.Currency, cur)
		}
		if len(s.Lines) >= maxLines {
			return fileErr(line, "sale %s has more than %d lines", id, maxLines)
		}
		if st := rowStatus(get(fStatus)); st != domain.SaleCompleted {
			s.Status = st
		}
		if (total > 0 && s.Total > math.MaxInt64-total) || (total < 0 && s.Total < math.MinInt64-total) {
			return fileErr(line, "the total of sale %s is out of range", id)
		}
		s.Total += total
		s.Lines = append(s.Lines, sl)
		if pm := get(fPaymentMethod); pm != "" {
			if len(s.Payments) == 0 || s.Payments[len(s.Payments)-1].Method != pm {
				s.Payments = append(s.Payments, domain.SalePayment{Method: clip(pm)})
			}
		}
	}
	return flush()
}

// checkText refuses a row with invalid UTF-8 or a NUL byte, naming its line.
func checkText(rec []string, line int) error {
	for _, f := range rec {
		if !utf8.ValidString(f) {
			return fileErr(line, "the file is not UTF-8 text (save or export it as UTF-8)")
		}
		if strings.IndexByte(f, 0) >= 0 {
			return fileErr(line, "the file holds a NUL byte: it is not a text file")
		}
	}
	return nil
}

func mul64(a, b int64) (overflow bool, v int64) {
	if a == 0 || b == 0 {
		return false, 0
	}
	v = a * b
	return v/b != a, v
}

func quoteAll(h []string) string {
	q := make([]string, 0, len(h))
	for i, x := range h {
		if i == 12 {
			q = append(q, "...")
			break
		}
		q = append(q, strconv.Quote(clip(x)))
	}
	return strings.Join(q, ", ")
}

func csvErr(err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return fileErr(pe.Line, "%v", pe.Err)
	}
	return fileErr(0, "%v", err)
}

// parseAmount reads "12.50", "€12,50" (decimal ","), "-3.00" or "(3.00)" into minor units.
func parseAmount(v string, exp int, decimal string) (int64, error) {
	s := strings.TrimSpace(v)
	neg := false
	if strings.HasPrefix(s, "(") && strings.HasSuffix(s, ")") {
		neg, s = true, s[1:len(s)-1]
	}
	if strings.HasPrefix(s, "-") {
		neg, s = !neg, s[1:]
	}
	s = strings.TrimLeft(s, "$€£¥ ")
	s = strings.TrimRight(s, " €")
	if decimal == "," {
		s = strings.ReplaceAll(strings.ReplaceAll(s, ".", ""), ",", ".")
	} else {
		s = strings.ReplaceAll(s, ",", "")
	}
	if strings.HasPrefix(s, "-") || strings.HasPrefix(s, "+") {
		return 0, errors.New("a sign in the wrong place")
	}
	n, err := connector.ParseMinor(s, exp)
	if err != nil {
		return 0, err
	}
	if neg {
		n = -n
	}
	return n, nil
}

var dateLayouts = []string{time.RFC3339Nano, "2006-01-02 15:04:05", "2006-01-02 15:04", "2006-01-02T15:04:05", "2006-01-02T15:04",
	"2006-01-02", "02/01/2006 15:04:05", "02/01/2006 15:04", "02/01/2006", "01/02/2006 3:04 PM", "01/02/2006 15:04", "02.01.2006 15:04", "02.01.2006"}

// isoLayouts is how many of dateLayouts, the first ones, are ISO 8601 (2006-01-02...): a time
// matches at most one of them and none of the others.
const isoLayouts = 6

// dateParser reads sale times. An ISO 8601 time is read first with the layout that read the
// previous one (a file keeps to one), which gives what the list in order would.
type dateParser struct{ last int }

func (d *dateParser) soldAt(at, date, clock string, loc *time.Location) (time.Time, error) {
	v := at
	if v == "" {
		v = strings.TrimSpace(date + " " + clock)
	}
	if v == "" {
		return time.Time{}, errors.New("no sale time")
	}
	if d.last < isoLayouts && len(v) > 4 && v[4] == '-' {
		if t, err := time.ParseInLocation(dateLayouts[d.last], v, loc); err == nil {
			return t.UTC().Truncate(time.Microsecond), nil
		}
	}
	for n, l := range dateLayouts {
		if t, err := time.ParseInLocation(l, v, loc); err == nil {
			d.last = n
			return t.UTC().Truncate(time.Microsecond), nil
		}
	}
	return time.Time{}, fmt.Errorf("sale time %q is not a date and time (use 2026-12-01 18:30 or RFC 3339)", v)
}

func rowStatus(s string) string {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "payment", "sale", "completed", "no", "false":
		return domain.SaleCompleted
	case "yes", "true":
		return domain.SaleVoided // Toast's "Void?" column
	}
	return SaleStatus(s)
}
