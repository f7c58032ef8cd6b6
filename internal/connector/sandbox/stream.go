package sandbox

import (
	"fmt"
	"hash/fnv"
	"strconv"
	"time"
)

// streamDays is how far back a streaming tenant's sales go.
const streamDays = 30

// streamSales adds the sales a busy till would have made up to now: per day about perDay
// sales between 09:00 and 22:00 UTC, one in twenty refunded two hours later. Each sale's id,
// time and lines follow from the tenant's tag, the day and its number that day, so running
// this again (after a crash forgot the last run, or in another process) adds nothing twice.
// It reports whether it changed the state.
func (st *state) streamSales(now time.Time, perDay int) bool {
	if len(st.Stores) == 0 {
		return false
	}
	products := bySeq(st.Products, productsAPI.seq)
	if len(products) == 0 {
		return false
	}
	changed := false
	first := st.CreatedAt.UTC().Truncate(24*time.Hour).AddDate(0, 0, -streamDays)
	for day := first; !day.After(now); day = day.AddDate(0, 0, 1) {
		date := day.Format("20060102")
		n := max(1, perDay-3+int(mix(st.Tag, date, -1)%7))
		for i := 0; i < n; i++ {
			h := mix(st.Tag, date, i)
			at := day.Add(9*time.Hour + time.Duration(h%(13*3600))*time.Second)
			if at.After(now) {
				continue
			}
			id := fmt.Sprintf("sal_%s_%s_%02d", st.Tag, date, i)
			rec := st.Sales[id]
			if rec == nil {
				if len(st.Sales) >= st.maxObjects && st.maxObjects > 0 {
					return changed
				}
				var lines []wireLine
				for j := 0; j < 1+int(h>>20%3); j++ {
					p := products[int((h>>8+uint64(j)*7)%uint64(len(products)))].P
					lines = append(lines, saleLine(p, strconv.Itoa(1+int(h>>30%2))))
				}
				var total int64
				for _, l := range lines {
					total += l.Total.Amount
				}
				ws := wireSale{ID: id, Number: fmt.Sprintf("T-%s-%02d", date, i+1), StoreID: st.Stores[int(h>>16)%len(st.Stores)].ID,
					Status: "completed", Lines: lines, Total: lines[0].Total, CompletedAt: at, UpdatedAt: at}
				ws.Total.Amount = total
				rec = &saleRec{Seq: st.next(), S: ws}
				st.Sales[id] = rec
				st.mark(collSales, id)
				changed = true
			}
			if refundAt := at.Add(2 * time.Hour); h%20 == 7 && rec.S.Status == "completed" && !refundAt.After(now) {
				rec.S.Status, rec.S.UpdatedAt, rec.Seq = "refunded", refundAt, st.next()
				st.mark(collSales, id)
				changed = true
			}
		}
	}
	return changed
}

// mix is a stable hash of a tenant's day and sale number.
func mix(tag, date string, i int) uint64 {
	f := fnv.New64a()
	fmt.Fprintf(f, "%s/%s/%d", tag, date, i)
	return f.Sum64()
}
